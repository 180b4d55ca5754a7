// Small process and filesystem helpers shared by the integration-test fixtures.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CmdResult {
  /** The exit code; 128+N when killed by signal N (as a shell reports it). */
  code: number;
  stdout: string;
  stderr: string;
  /** The command line, for assertion messages. */
  cmd: string;
}

export interface CmdOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  input?: string | Buffer;
  /** Kills the command (SIGKILL) after this long; the result then has code 137. Default 5 min. */
  timeoutMs?: number;
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

/** Runs a program without a shell and resolves with its output, whatever its exit code. */
export function run(file: string, args: string[], opts: CmdOptions = {}): Promise<CmdResult> {
  const cmd = [file, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 300_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`${cmd}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code: code ?? 128 + (signal ? SIGNALS[signal] ?? 1 : 0),
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
        cmd,
      });
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
  });
}

/** Describes a result for an assertion message. */
export function formatResult(r: CmdResult): string {
  return `$ ${r.cmd}\nexit ${r.code}\n--- stdout\n${r.stdout.slice(-4000)}\n--- stderr\n${r.stderr.slice(-4000)}`;
}

/** Throws (with the command's output) unless it exited 0; returns the result otherwise. */
export function check(r: CmdResult, context = ''): CmdResult {
  if (r.code !== 0) throw new Error(`${context ? `${context}: ` : ''}command failed\n${formatResult(r)}`);
  return r;
}

/** Runs and requires exit 0. */
export async function runOk(file: string, args: string[], opts: CmdOptions = {}): Promise<CmdResult> {
  return check(await run(file, args, opts));
}

/** A fresh directory /tmp/joey-it-XXXXXX (or under `parent`). */
export function makeTempDir(prefix = 'joey-it-', parent = tmpdir()): Promise<string> {
  return mkdtemp(join(parent, prefix));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 15_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
    }
    await sleep(intervalMs);
  }
}

/** Resolves when the child has exited (at once if it already has). */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  // A child that failed to spawn emits 'error' and 'close' but never 'exit'.
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.once('close', () => resolve());
    child.once('error', () => resolve());
  });
}

/** Waits for `probe` while the child runs: rejects at once if the child exits first. */
export async function waitWhileRunning<T>(child: ChildProcess, what: string, probe: () => Promise<T | undefined | false>, timeoutMs: number, intervalMs = 50): Promise<T> {
  let stop = false;
  const died = exited(child).then(() => {
    if (!stop) throw new Error(`exited (${child.exitCode ?? child.signalCode}) while waiting for ${what}`);
  });
  died.catch(() => undefined);
  try {
    return (await Promise.race([waitFor(what, async () => (stop ? undefined : probe()), timeoutMs, intervalMs), died])) as T;
  } finally {
    stop = true;
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the child is gone. */
export async function terminate(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = exited(child);
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await gone;
  clearTimeout(timer);
}

/** A bounded ring of text, for a child's log kept for failure diagnostics. */
export class LogBuffer {
  private chunks: string[] = [];
  private size = 0;
  constructor(private readonly limit = 1 << 20) {}
  push(s: string): void {
    this.chunks.push(s);
    this.size += s.length;
    while (this.size > this.limit && this.chunks.length > 1) this.size -= this.chunks.shift()!.length;
  }
  text(): string {
    return this.chunks.join('');
  }
  tail(chars = 8000): string {
    return this.text().slice(-chars);
  }
}
