// joey kill: a signal (default: the daemon's, SIGKILL) to each container.
import type { Cli } from './context.ts';
import { containerPath, forEachContainer } from './container-each.ts';

export async function runKill(cli: Cli, names: string[], opts: { signal?: string }): Promise<void> {
  await forEachContainer(cli, names, (name) => cli.client.post(containerPath(name, '/kill'), { query: { signal: opts.signal || undefined } }));
}
