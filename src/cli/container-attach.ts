// joey attach: our stdio to a running container's; its exit code is ours.
import type { Cli } from './context.ts';
import { StatusError } from './errors.ts';
import { forwardSignals, monitorTtySize, streamHijacked } from './attach-io.ts';
import { containerPath } from './container-each.ts';
import { attachQuery } from './container-run.ts';
import type { ContainerInspect } from '../engine/containers/types.ts';

export interface AttachOptions {
  /** false with --no-stdin */
  stdin?: boolean;
  sigProxy?: boolean;
  detachKeys?: string;
}

async function inspectRunning(cli: Cli, name: string): Promise<ContainerInspect> {
  const c = await cli.client.get<ContainerInspect>(containerPath(name, '/json'));
  if (!c.State.Running) throw new StatusError('You cannot attach to a stopped container, start it first');
  if (c.State.Paused) throw new StatusError('You cannot attach to a paused container, unpause it first');
  if (c.State.Restarting) throw new StatusError('You cannot attach to a restarting container, wait until it is running');
  return c;
}

export async function runAttach(cli: Cli, name: string, opts: AttachOptions): Promise<void> {
  // the wait goes first, so that an exit during the attach is not missed
  const waiting = cli.client.post<{ StatusCode?: number; Error?: { Message?: string } | null }>(containerPath(name, '/wait'));
  waiting.catch(() => {});
  const c = await inspectRunning(cli, name);
  const noStdin = opts.stdin === false;
  const tty = !!c.Config.Tty;
  if (!noStdin && tty && !cli.stdinIsTerminal) throw new StatusError('the input device is not a TTY');
  const detachKeys = opts.detachKeys || cli.config.detachKeys;
  const stdin = !noStdin && !!c.Config.OpenStdin;
  const stops: Array<() => void> = [];
  if (opts.sigProxy !== false && !tty) stops.push(forwardSignals(cli, name));
  try {
    const conn = await cli.client.hijack(containerPath(name, '/attach'), {
      query: attachQuery({ stdin, stdout: true, stderr: true, detachKeys }),
      headers: { 'Content-Type': 'text/plain' },
    });
    stops.push(() => conn.close());
    await inspectRunning(cli, name);
    if (tty && cli.stdoutIsTerminal) {
      const out = cli.io.stdout;
      stops.push(monitorTtySize(cli, containerPath(name, '/resize'), { rows: (out.rows ?? 0) + 1, columns: (out.columns ?? 0) + 1 }));
    }
    await streamHijacked(cli, conn, { stdin: stdin ? cli.io.stdin : undefined, stdout: cli.io.stdout, stderr: cli.io.stderr, tty, detachKeys });
    const result = await waiting;
    if (result?.Error?.Message) throw new StatusError(result.Error.Message);
    const code = result?.StatusCode ?? 0;
    if (code !== 0) throw new StatusError('', code);
  } finally {
    for (const stop of stops.reverse()) stop();
  }
}
