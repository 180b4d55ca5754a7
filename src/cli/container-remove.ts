// joey rm: removes containers; with -f a missing one is only reported.
import { ApiError } from '../client/client.ts';
import type { Cli } from './context.ts';
import { containerPath, forEachContainer } from './container-each.ts';

export interface RemoveOptions {
  force?: boolean;
  volumes?: boolean;
  link?: boolean;
}

export async function runRemove(cli: Cli, names: string[], opts: RemoveOptions): Promise<void> {
  await forEachContainer(
    cli,
    names,
    async (name) => {
      const id = name.replace(/^\/+|\/+$/g, '');
      if (id === '') throw new Error('container name cannot be empty');
      await cli.client.delete(containerPath(id), { query: { v: opts.volumes || undefined, link: opts.link || undefined, force: opts.force || undefined } });
    },
    { tolerate: (err) => !!opts.force && err instanceof ApiError && err.status === 404 },
  );
}
