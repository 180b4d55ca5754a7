// joey import: a rootfs tarball (file, URL or stdin) becomes a one-layer image.
import type { Readable } from 'node:stream';
import type { Cli } from './context.ts';
import { parseRef } from './image-pull.ts';
import { openInput } from './image-load.ts';
import { showProgress } from './progress.ts';

export interface ImportOptions {
  change?: string[];
  message?: string;
  platform?: string;
}

export async function runImport(cli: Cli, source: string, repo: string | undefined, opts: ImportOptions): Promise<void> {
  if (repo) parseRef(repo);
  let fromSrc = '-';
  let body: Readable | undefined;
  if (source === '-') body = cli.io.stdin as unknown as Readable;
  else if (/^https?:\/\//.test(source)) fromSrc = source; // the daemon fetches it
  else body = await openInput(source);
  const res = await cli.client.stream('POST', '/images/create', {
    query: {
      fromSrc,
      repo: repo || undefined,
      message: opts.message || undefined,
      platform: opts.platform ? opts.platform.toLowerCase() : undefined,
      changes: opts.change?.length ? opts.change : undefined,
    },
    headers: body ? { 'Content-Type': 'text/plain' } : undefined,
    body,
  });
  await showProgress(cli, res);
}
