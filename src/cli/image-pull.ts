// joey pull: normalizes the reference as docker does, asks the daemon to
// pull it, shows the progress, and ends with the full reference.
import type { Cli } from './context.ts';
import { StatusError } from './errors.ts';
import { showProgress } from './progress.ts';
import { registryAuthHeader } from './registry-auth.ts';
import { ReferenceError, fullName, isNameOnly, parseNormalizedNamed, referenceString, tagNameOnly } from './reference.ts';
import type { NamedRef } from './reference.ts';

export interface PullOptions {
  platform?: string;
  quiet?: boolean;
}

/** Parses a reference; bad ones fail with docker's message. */
export function parseRef(name: string): NamedRef {
  try {
    return parseNormalizedNamed(name);
  } catch (err) {
    if (err instanceof ReferenceError) throw new StatusError(err.message);
    throw err;
  }
}

export async function runPull(cli: Cli, name: string, opts: PullOptions): Promise<void> {
  let ref = parseRef(name);
  if (isNameOnly(ref)) {
    ref = tagNameOnly(ref);
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
  cli.out(referenceString(ref) + '\n');
}
