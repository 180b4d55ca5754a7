// joey logs: the container's log, stdout to stdout and stderr to stderr
// (docker's 8-byte frames for containers without a tty).
import type { Cli } from './context.ts';
import { StatusError } from './errors.ts';
import { containerPath } from './container-each.ts';
import { apiTimestamp } from './go-values.ts';
import { demultiplex } from './stdcopy.ts';
import type { ContainerInspect } from '../engine/containers/types.ts';

export interface LogsOptions {
  follow?: boolean;
  since?: string;
  until?: string;
  timestamps?: boolean;
  details?: boolean;
  tail?: string;
}

export async function runLogs(cli: Cli, name: string, opts: LogsOptions): Promise<void> {
  const c = await cli.client.get<ContainerInspect>(containerPath(name, '/json'));
  const ts = (what: string, v: string | undefined) => {
    if (!v) return undefined;
    try {
      return apiTimestamp(v);
    } catch (err) {
      throw new StatusError(`invalid value for ${JSON.stringify(what)}: ${(err as Error).message}`);
    }
  };
  const res = await cli.client.stream('GET', containerPath(c.Id, '/logs'), {
    query: {
      stdout: '1',
      stderr: '1',
      since: ts('since', opts.since),
      until: ts('until', opts.until),
      timestamps: opts.timestamps ? '1' : undefined,
      details: opts.details ? '1' : undefined,
      follow: opts.follow ? '1' : undefined,
      tail: opts.tail ?? 'all',
    },
  });
  if (c.Config.Tty) {
    await cli.pipeToStdout(res);
    return;
  }
  const write = (out: { write(c: Uint8Array): boolean; once(e: string, l: () => void): unknown }) => (b: Buffer) =>
    out.write(b) ? undefined : new Promise<void>((r) => out.once('drain', r));
  await demultiplex(res, write(cli.io.stdout), write(cli.io.stderr));
}
