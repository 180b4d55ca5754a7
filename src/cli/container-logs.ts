// joey logs: the container's log, stdout to stdout and stderr to stderr
// (docker's 8-byte frames for containers without a tty).
import type { Cli } from './context.ts';
import { StatusError } from './errors.ts';
import { containerPath } from './container-each.ts';
import { parseGoDuration } from './go-values.ts';
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

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** docker's GetTimestamp: "10m" (ago), RFC 3339 forms (local time when no
 * zone), or unix seconds passed through; the API's "sec.nanos". */
export function apiTimestamp(value: string, now = Date.now()): string {
  if (value !== '0') {
    try {
      const d = parseGoDuration(value);
      return String(Math.floor((now - d / 1e6) / 1000));
    } catch {
      // not a duration
    }
  }
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?)?(Z|z|[+-]\d{2}:\d{2})?$/.exec(value);
  if (m) {
    const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', zone] = m;
    const iso = `${y}-${mo}-${d}T${h}:${mi}:${s}`;
    let ms: number;
    if (zone) ms = Date.parse(`${iso}${zone.toUpperCase() === 'Z' ? 'Z' : zone}`);
    else ms = new Date(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)).getTime();
    if (!Number.isNaN(ms)) return `${Math.floor(ms / 1000)}.${pad(Number(frac.padEnd(9, '0')), 9)}`;
  }
  if (value.includes('-')) throw new Error(`parsing time ${JSON.stringify(value)}: cannot parse as RFC 3339`);
  if (!/^\d+(\.\d+)?$/.test(value)) throw new Error(`failed to parse value as time or duration: ${JSON.stringify(value)}`);
  return value;
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
