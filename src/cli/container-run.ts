// joey run: create, then (unless -d) attach before start and wait for the
// exit, exactly in docker's order: attach, POST /wait, start; the exit code
// of the container becomes ours.
import type { HijackedConnection } from '../client/client.ts';
import { escapePath } from '../client/client.ts';
import type { Cli } from './context.ts';
import { StatusError, displayError } from './errors.ts';
import { EscapeError, forwardSignals, monitorTtySize, streamHijacked } from './attach-io.ts';
import { createBodyFor, createContainer, validatePullOption, withHelp } from './container-create.ts';
import type { CreateOptions } from './container-create.ts';

export interface RunOptions extends CreateOptions {
  detach?: boolean;
  sigProxy?: boolean;
  detachKeys?: string;
}

/** docker's toStatusError: the daemon's start error decides 125, 126 or 127. */
export function runStatusError(err: unknown): StatusError {
  if (err instanceof StatusError && err.message.startsWith('joey: ')) return err;
  const message = err instanceof StatusError ? err.message : displayError(err);
  if (/executable file not found|no such file or directory|system cannot find the file specified/.test(message)) return withHelp(message, 'run', 127);
  if (/permission denied|is a directory/.test(message)) return withHelp(message, 'run', 126);
  return withHelp(message, 'run', 125);
}

/** POST /wait with the condition; resolves once the daemon has taken it
 * (headers back), and gives the exit status later, as docker's ContainerWait.
 * `cancel` gives up waiting without a word (the user detached). */
export async function waitExit(cli: Cli, id: string, condition: 'next-exit' | 'removed' | undefined): Promise<{ status: Promise<number>; cancel: () => void }> {
  const abort = new AbortController();
  const res = await cli.client.stream('POST', `/containers/${escapePath(id)}/wait`, { query: { condition }, signal: abort.signal });
  const status = (async () => {
    const chunks: Buffer[] = [];
    try {
      for await (const c of res) chunks.push(c as Buffer);
      const text = Buffer.concat(chunks).toString('utf8');
      const result = JSON.parse(text) as { StatusCode?: number; Error?: { Message?: string } | null };
      if (result.Error?.Message) {
        cli.err(`ERRO[0000] Error waiting for container: ${result.Error.Message}\n`);
        return 125;
      }
      return result.StatusCode ?? 0;
    } catch (err) {
      if (abort.signal.aborted) return 0;
      cli.err(`ERRO[0000] error waiting for container: ${displayError(err)}\n`);
      return 125;
    }
  })();
  return {
    status,
    cancel: () => {
      abort.abort();
      res.destroy();
    },
  };
}

export function attachQuery(o: { stdin: boolean; stdout: boolean; stderr: boolean; detachKeys?: string }) {
  return {
    stream: '1',
    stdin: o.stdin ? '1' : undefined,
    stdout: o.stdout ? '1' : undefined,
    stderr: o.stderr ? '1' : undefined,
    detachKeys: o.detachKeys || undefined,
  };
}

export async function runRun(cli: Cli, image: string, args: string[], opts: RunOptions): Promise<void> {
  validatePullOption(opts.pull, 'run');
  const body = createBodyFor(cli, image, args, opts, 'run');
  const tty = body.Tty === true;
  if (!opts.detach) {
    if (tty && body.AttachStdin === true && !cli.stdinIsTerminal) throw new StatusError('the input device is not a TTY');
  } else {
    if (((opts.attach as string[] | undefined) ?? []).length > 0) throw new StatusError('conflicting options: cannot specify both --attach and --detach');
    Object.assign(body, { AttachStdin: false, AttachStdout: false, AttachStderr: false, StdinOnce: false });
  }

  let id: string;
  try {
    id = await createContainer(cli, body, opts);
  } catch (err) {
    throw runStatusError(err);
  }
  const stopSignals = opts.sigProxy !== false ? forwardSignals(cli, id) : () => {};
  const stops: Array<() => void> = [stopSignals];
  try {
    const attachStdin = body.AttachStdin === true;
    const attachStdout = body.AttachStdout === true;
    const attachStderr = body.AttachStderr === true;
    const attach = attachStdin || attachStdout || attachStderr;
    if (!attach) {
      // docker prints the id while the start is under way, so even when it fails
      cli.out(id + '\n');
      await startOrFail(cli, id, undefined, undefined);
      return;
    }

    const detachKeys = opts.detachKeys || cli.config.detachKeys;
    const conn: HijackedConnection = await cli.client.hijack(`/containers/${escapePath(id)}/attach`, {
      query: attachQuery({ stdin: attachStdin, stdout: attachStdout, stderr: attachStderr, detachKeys }),
      headers: { 'Content-Type': 'text/plain' },
    });
    stops.push(() => conn.close());
    const cancel = new AbortController();
    const streaming = streamHijacked(cli, conn, {
      stdin: attachStdin ? cli.io.stdin : undefined,
      stdout: attachStdout ? cli.io.stdout : undefined,
      stderr: attachStderr ? (tty ? cli.io.stdout : cli.io.stderr) : undefined,
      tty,
      detachKeys,
      signal: cancel.signal,
    });
    const streamResult = streaming.then(
      () => undefined,
      (err: unknown) => err,
    );

    const autoRemove = body.HostConfig.AutoRemove === true;
    const { status, cancel: stopWaiting } = await waitExit(cli, id, autoRemove ? 'removed' : 'next-exit');
    stops.push(stopWaiting);
    await startOrFail(cli, id, () => {
      cancel.abort();
      return streamResult;
    }, autoRemove ? status : undefined);

    if (tty && cli.stdoutIsTerminal) stops.push(monitorTtySize(cli, `/containers/${escapePath(id)}/resize`));

    const first = await Promise.race([streamResult.then((err) => ({ stream: true as const, err })), status.then((code) => ({ stream: false as const, code }))]);
    let code: number;
    if (first.stream) {
      if (first.err instanceof EscapeError) return;
      if (first.err) throw first.err;
      code = await status;
    } else {
      if (!attachStdout && !attachStderr) cancel.abort();
      await streamResult;
      code = first.code;
    }
    if (code !== 0) throw new StatusError('', code);
  } finally {
    for (const stop of stops.reverse()) stop();
  }
}

/** Starts the container; on failure stops the streaming (and waits for the
 * removal with --rm) before failing with docker's run exit codes. */
async function startOrFail(cli: Cli, id: string, stopStream: (() => Promise<unknown>) | undefined, removed: Promise<number> | undefined): Promise<void> {
  try {
    await cli.client.post(`/containers/${escapePath(id)}/start`);
  } catch (err) {
    if (stopStream) await stopStream();
    if (removed) await removed;
    throw runStatusError(err);
  }
}
