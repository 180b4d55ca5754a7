// joey start: starts containers; with -a/-i attaches to one first, as run does.
import type { Cli } from './context.ts';
import { StatusError, displayError } from './errors.ts';
import { EscapeError, forwardSignals, monitorTtySize, streamHijacked } from './attach-io.ts';
import { containerPath } from './container-each.ts';
import { attachQuery, waitExit } from './container-run.ts';
import type { ContainerInspect } from '../engine/containers/types.ts';

export interface StartOptions {
  attach?: boolean;
  interactive?: boolean;
  detachKeys?: string;
}

export async function runStart(cli: Cli, names: string[], opts: StartOptions): Promise<void> {
  if (opts.attach || opts.interactive) {
    if (names.length > 1) throw new StatusError('you cannot start and attach multiple containers at once');
    await startAttached(cli, names[0]!, opts);
    return;
  }
  const failed: string[] = [];
  for (const name of names) {
    try {
      await cli.client.post(containerPath(name, '/start'));
      cli.out(name + '\n');
    } catch (err) {
      cli.err(displayError(err) + '\n');
      failed.push(name);
    }
  }
  if (failed.length > 0) throw new StatusError(`Error: failed to start containers: ${failed.join(', ')}`);
}

async function startAttached(cli: Cli, name: string, opts: StartOptions): Promise<void> {
  const c = await cli.client.get<ContainerInspect>(containerPath(name, '/json'));
  const tty = !!c.Config.Tty;
  const stops: Array<() => void> = [];
  if (!tty) stops.push(forwardSignals(cli, c.Id));
  try {
    const detachKeys = opts.detachKeys || cli.config.detachKeys;
    const stdin = !!opts.interactive && !!c.Config.OpenStdin;
    const conn = await cli.client.hijack(containerPath(c.Id, '/attach'), {
      query: attachQuery({ stdin, stdout: true, stderr: true, detachKeys }),
      headers: { 'Content-Type': 'text/plain' },
    });
    stops.push(() => conn.close());
    const cancel = new AbortController();
    const streamResult = streamHijacked(cli, conn, {
      stdin: stdin ? cli.io.stdin : undefined,
      stdout: cli.io.stdout,
      stderr: cli.io.stderr,
      tty,
      detachKeys,
      signal: cancel.signal,
    }).then(
      () => undefined,
      (err: unknown) => err,
    );
    const { status, cancel: stopWaiting } = await waitExit(cli, c.Id, c.HostConfig.AutoRemove ? 'removed' : 'next-exit');
    stops.push(stopWaiting);
    try {
      await cli.client.post(containerPath(c.Id, '/start'));
    } catch (err) {
      cancel.abort();
      await streamResult;
      if (c.HostConfig.AutoRemove) await status;
      throw err;
    }
    if (tty && cli.stdoutIsTerminal) stops.push(monitorTtySize(cli, containerPath(c.Id, '/resize')));
    const err = await streamResult;
    if (err instanceof EscapeError) return;
    if (err) throw err;
    const code = await status;
    if (code !== 0) throw new StatusError('', code);
  } finally {
    for (const stop of stops.reverse()) stop();
  }
}
