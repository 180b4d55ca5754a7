// joey pull: normalizes the reference as docker does, asks the daemon to
// pull it, shows the progress, and ends with the full reference.
import type { Cli } from './context.ts';
import { StatusError } from './errors.ts';
import { showProgress } from './progress.ts';
import { registryAuthHeader } from './registry-auth.ts';
import { InvalidReferenceError, formatReference, fullName, isNameOnly, parseReference, withDefaultTag } from '../reference/index.ts';
import type { Reference } from '../reference/index.ts';

export interface PullOptions {
  platform?: string;
  quiet?: boolean;
}

/** Parses a reference; bad ones fail with docker's message. */
export function parseRef(name: string): Reference {
  try {
    return parseReference(name);
  } catch (err) {
    if (err instanceof InvalidReferenceError) throw new StatusError(err.dockerMessage);
    throw err;
  }
}

export async function runPull(cli: Cli, name: string, opts: PullOptions): Promise<void> {
  let ref = parseRef(name);
  if (isNameOnly(ref)) {
    ref = withDefaultTag(ref);
    if (!opts.quiet) cli.out(`Using default tag: ${ref.tag}\n`);
  }
  const res = await cli.client.stream('POST', '/images/create', {
    query: {
      fromImage: fullName(ref),
      tag: ref.digest ?? ref.tag,
      platform: opts.platform ? opts.platform.toLowerCase() : undefined,
    },
    headers: await registryAuthHeader(cli, ref),
  });
  await showProgress(cli, res, { quiet: opts.quiet });
  cli.out(formatReference(ref) + '\n');
}
