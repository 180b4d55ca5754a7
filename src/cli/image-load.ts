// joey load: streams a tar (file or stdin) to the daemon.
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { Cli } from './context.ts';
import { StatusError } from './errors.ts';
import { fileError } from './context.ts';
import { showProgress } from './progress.ts';

/** Opens a file for streaming, failing early with docker's "open …" message. */
export async function openInput(file: string): Promise<Readable> {
  try {
    const fh = await open(file, 'r');
    return fh.createReadStream();
  } catch (err) {
    throw fileError(err, file);
  }
}

export async function runLoad(cli: Cli, opts: { input?: string; quiet?: boolean }): Promise<void> {
  let body: Readable;
  if (opts.input) body = await openInput(opts.input);
  else {
    if (cli.stdinIsTerminal) throw new StatusError('requested load from stdin, but stdin is empty');
    body = cli.io.stdin as unknown as Readable;
  }
  const res = await cli.client.stream('POST', '/images/load', {
    query: { quiet: opts.quiet || !cli.stdoutIsTerminal ? '1' : '0' },
    headers: { 'Content-Type': 'application/x-tar' },
    body,
  });
  if ((res.headers['content-type'] ?? '').startsWith('application/json')) await showProgress(cli, res);
  else await cli.pipeToStdout(res);
}
