// joey stop / joey restart: -t seconds before the kill, -s the signal to stop with.
import type { Cli } from './context.ts';
import { StatusError } from './errors.ts';
import { containerPath, forEachContainer } from './container-each.ts';

export interface StopOptions {
  signal?: string;
  timeout?: number;
  time?: number;
}

function query(opts: StopOptions) {
  if (opts.timeout !== undefined && opts.time !== undefined) throw new StatusError('conflicting options: cannot specify both --timeout and --time');
  return { t: opts.timeout ?? opts.time, signal: opts.signal || undefined };
}

export async function runStop(cli: Cli, names: string[], opts: StopOptions): Promise<void> {
  const q = query(opts);
  await forEachContainer(cli, names, (name) => cli.client.post(containerPath(name, '/stop'), { query: q }));
}

export async function runRestart(cli: Cli, names: string[], opts: StopOptions): Promise<void> {
  const q = query(opts);
  await forEachContainer(cli, names, (name) => cli.client.post(containerPath(name, '/restart'), { query: q }), { sequential: true });
}
