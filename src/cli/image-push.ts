// joey push: the daemon pushes a local tag; the progress is shown as docker shows it.
import type { Cli } from './context.ts';
import { StatusError } from './errors.ts';
import { parseRef } from './image-pull.ts';
import { showProgress } from './progress.ts';
import { registryAuthHeader } from './registry-auth.ts';
import { escapePath } from '../client/client.ts';
import { formatReference, fullName, isNameOnly, withDefaultTag } from '../reference/index.ts';

export interface PushOptions {
  quiet?: boolean;
}

export async function runPush(cli: Cli, name: string, opts: PushOptions): Promise<void> {
  let ref = parseRef(name);
  if (ref.digest !== undefined) throw new StatusError('cannot push a digest reference');
  if (isNameOnly(ref)) {
    ref = withDefaultTag(ref);
    if (!opts.quiet) cli.out(`Using default tag: ${ref.tag}\n`);
  }
  const res = await cli.client.stream('POST', `/images/${escapePath(fullName(ref))}/push`, {
    query: { tag: ref.tag },
    headers: await registryAuthHeader(cli, ref),
  });
  // aux carries the pushed digest; docker shows it from the status lines already
  await showProgress(cli, res, { quiet: opts.quiet, onAux: () => {} });
  if (opts.quiet) cli.out(formatReference(ref) + '\n');
}
