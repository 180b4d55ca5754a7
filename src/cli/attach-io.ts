// The terminal side of attach, run and exec, as docker's hijackedIOStreamer:
// the process's output to stdout/stderr (demultiplexed unless it has a tty),
// our stdin to the process (raw terminal and detach keys with a tty), TTY
// size changes, and signals forwarded to the container.
import { once } from 'node:events';
import type { HijackedConnection } from '../client/client.ts';
import type { Cli, InStream, OutStream } from './context.ts';
import { Demuxer } from './stdcopy.ts';

/** The user typed the detach keys: the container keeps running. */
export class EscapeError extends Error {
  constructor() {
    super('read escape sequence');
    this.name = 'EscapeError';
  }
}

const CTRL = ['ctrl-@', ...'abcdefghijklmnopqrstuvwxyz'.split('').map((c) => `ctrl-${c}`), 'ctrl-[', 'ctrl-\\', 'ctrl-]', 'ctrl-^', 'ctrl-_'];

/** moby/term ToBytes: "ctrl-p,ctrl-q" → [16, 17]. */
export function detachKeyBytes(keys: string): number[] {
  const out: number[] = [];
  for (const key of keys.split(',')) {
    if (key.length === 1) {
      out.push(key.charCodeAt(0));
      continue;
    }
    const code = CTRL.indexOf(key);
    if (code >= 0) out.push(code);
    else if (key === 'DEL') out.push(127);
    else throw new Error(`Unknown character: '${key}'`);
  }
  return out;
}

export const DEFAULT_DETACH_KEYS = [16, 17];

/** Watches stdin for the detach sequence, passing other bytes on. A partial
 * match is held back until it completes or breaks, as moby/term does. */
export class EscapeProxy {
  private pos = 0;
  private held: number[] = [];

  constructor(private readonly keys: number[]) {}

  /** The bytes to forward, and whether the sequence was completed. */
  feed(chunk: Buffer): { data: Buffer; escaped: boolean } {
    if (this.keys.length === 0) return { data: chunk, escaped: false };
    const out: number[] = [];
    for (const b of chunk) {
      if (b === this.keys[this.pos]) {
        this.pos++;
        this.held.push(b);
        if (this.pos === this.keys.length) return { data: Buffer.from(out), escaped: true };
        continue;
      }
      out.push(...this.held, b);
      this.held = [];
      this.pos = 0;
    }
    return { data: Buffer.from(out), escaped: false };
  }
}

export interface StreamOptions {
  stdin?: InStream;
  stdout?: OutStream;
  stderr?: OutStream;
  tty: boolean;
  /** "ctrl-p,ctrl-q" form; invalid keys fall back to the default with a warning. */
  detachKeys?: string;
  /** Ends the streaming early (the container went away). */
  signal?: AbortSignal;
}

async function write(out: OutStream | undefined, data: Buffer): Promise<void> {
  if (!out || data.length === 0) return;
  if (!out.write(data)) await once(out as unknown as NodeJS.EventEmitter, 'drain');
}

/** Streams until the output ends (or stdin ends with no output attached).
 * Rejects with EscapeError when the user detaches. */
export async function streamHijacked(cli: Cli, conn: HijackedConnection, opts: StreamOptions): Promise<void> {
  const { stdin, tty } = opts;
  const socket = conn.socket;
  let restored = false;
  const raw = !!stdin && tty && !!stdin.isTTY && typeof stdin.setRawMode === 'function' && !cli.env.NORAW;
  const restoreInput = () => {
    if (restored) return;
    restored = true;
    if (raw) stdin!.setRawMode!(false);
  };
  let keys = DEFAULT_DETACH_KEYS;
  if (stdin && tty && opts.detachKeys) {
    try {
      keys = detachKeyBytes(opts.detachKeys);
    } catch (err) {
      cli.err(`WARN[0000] invalid detach escape keys, using default: ${(err as Error).message}\n`);
    }
  }
  if (raw) stdin!.setRawMode!(true);

  const outputAttached = !!opts.stdout || !!opts.stderr;
  let onData: ((c: Buffer | string) => void) | undefined;
  let onEnd: (() => void) | undefined;
  const stopInput = () => {
    if (!stdin) return;
    if (onData) stdin.removeListener('data', onData);
    if (onEnd) {
      stdin.removeListener('end', onEnd);
      stdin.removeListener('close', onEnd);
    }
    stdin.pause?.();
  };

  try {
    const output = outputAttached
      ? (async () => {
          if (tty) {
            for await (const c of socket) await write(opts.stdout, c as Buffer);
            restoreInput();
          } else {
            const d = new Demuxer(
              (b) => write(opts.stdout, b),
              (b) => write(opts.stderr, b),
            );
            for await (const c of socket) await d.write(c as Buffer);
          }
        })()
      : undefined;

    const input = new Promise<'done' | 'detached'>((resolve) => {
      if (!stdin) {
        conn.closeWrite();
        resolve('done');
        return;
      }
      const proxy = tty ? new EscapeProxy(keys) : undefined;
      onData = (c) => {
        const buf = typeof c === 'string' ? Buffer.from(c) : c;
        const { data, escaped } = proxy ? proxy.feed(buf) : { data: buf, escaped: false };
        if (data.length > 0 && !socket.destroyed) socket.write(data);
        if (escaped) {
          stopInput();
          restoreInput();
          resolve('detached');
        }
      };
      onEnd = () => {
        stopInput();
        restoreInput();
        conn.closeWrite();
        resolve('done');
      };
      stdin.on('data', onData);
      stdin.on('end', onEnd);
      stdin.on('close', onEnd);
      stdin.resume?.();
    });

    const aborted = new Promise<'aborted'>((resolve) => {
      if (opts.signal?.aborted) resolve('aborted');
      opts.signal?.addEventListener('abort', () => resolve('aborted'), { once: true });
    });
    // output errors surface through `output` itself; don't let them go unhandled meanwhile
    output?.catch(() => {});

    const first = await Promise.race([output?.then(() => 'output' as const) ?? new Promise<never>(() => {}), input, aborted]);
    if (first === 'detached') throw new EscapeError();
    if (first === 'done' && output) {
      const next = await Promise.race([output.then(() => 'output' as const), aborted]);
      if (next === 'output') await output;
    } else if (first === 'output') await output;
  } finally {
    stopInput();
    restoreInput();
  }
}

/** Keeps the container's (or exec's) TTY the size of ours: once now (retried
 * a few times, as docker does, for a process that is not up yet) and on
 * every resize of the terminal. Returns a function that stops watching. */
export function monitorTtySize(cli: Cli, resizePath: string, initial?: { rows: number; columns: number }): () => void {
  const out = cli.io.stdout;
  const resize = async (size?: { rows: number; columns: number }): Promise<boolean> => {
    const rows = size?.rows ?? out.rows ?? 0;
    const columns = size?.columns ?? out.columns ?? 0;
    if (rows === 0 && columns === 0) return true;
    try {
      await cli.client.post(resizePath, { query: { h: rows, w: columns } });
      return true;
    } catch {
      return false;
    }
  };
  void (async () => {
    if (initial) await resize(initial);
    if (await resize()) return;
    for (let retry = 0; retry < 10; retry++) {
      await new Promise((r) => setTimeout(r, (retry + 1) * 10));
      if (await resize()) return;
    }
    cli.err('failed to resize tty, using default size\n');
  })();
  const onResize = () => void resize();
  out.on('resize', onResize);
  return () => (out as unknown as NodeJS.EventEmitter).removeListener('resize', onResize);
}

/** Passes the signals we receive on to the container (`--sig-proxy`). */
export function forwardSignals(cli: Cli, containerId: string): () => void {
  const sub = cli.io.onSignal;
  if (!sub) return () => {};
  return sub((signal) => {
    cli.client.post(`/containers/${encodeURIComponent(containerId)}/kill`, { query: { signal: signal.replace(/^SIG/, '') } }).catch(() => {});
  });
}
