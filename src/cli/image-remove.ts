// joey rmi / joey image rm: "Untagged:" and "Deleted:" lines per image;
// with -f, images that do not exist are reported but do not fail the command.
import type { DeleteResponseItem } from '../images/types.ts';
import { ApiError, escapePath } from '../client/client.ts';
import type { Cli } from './context.ts';
import { StatusError, displayError } from './errors.ts';

export interface RemoveOptions {
  force?: boolean;
  noPrune?: boolean;
}

export async function runRemove(cli: Cli, images: string[], opts: RemoveOptions): Promise<void> {
  const errors: unknown[] = [];
  let fatal = false;
  for (const img of images) {
    try {
      const items = await cli.client.delete<DeleteResponseItem[]>(`/images/${escapePath(img)}`, {
        query: { force: opts.force ? '1' : undefined, noprune: opts.noPrune ? '1' : undefined },
      });
      for (const it of items ?? []) {
        if ('Deleted' in it && it.Deleted) cli.out(`Deleted: ${it.Deleted}\n`);
        else if ('Untagged' in it) cli.out(`Untagged: ${it.Untagged}\n`);
      }
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404)) fatal = true;
      errors.push(err);
    }
  }
  if (errors.length === 0) return;
  const message = errors.map(displayError).join('\n');
  if (!opts.force || fatal) throw new StatusError(message);
  cli.err(message + '\n');
}
