// Process helpers for the benchmarks: run a command to completion, start a
// long-lived daemon in its own process group, stop a process by its pid, and a
// cleanup stack that also runs on Ctrl-C, SIGTERM and uncaught errors.
import { spawn, type SpawnOptions } from 'node:child_process';
import { openSync, closeSync, readFileSync, readdirSync, readlinkSync, existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** wall-clock seconds from spawn to exit */
  seconds: number;
  /** user + system CPU seconds of the command and its reaped children (with childCpu) */
  cpuSeconds?: number;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  input?: string;
  /** kill the command's process group (SIGKILL) after this many seconds */
  timeoutSeconds?: number;
  /**
   * measure the CPU time of the command: it runs under `sh -c '"$@"; times'`,
   * whose `times` reports its children's user and system time on fd 3
   */
  childCpu?: boolean;
}

/** Parses the children's line of the shell's `times` output ("0m1.25s 0m0.30s"). */
function parseTimes(text: string): number | undefined {
  const lines = text.trim().split('\n');
  const m = /(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s/.exec(lines.at(-1) ?? '');
  if (!m) return undefined;
  return Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4]);
}

/**
 * Runs argv to completion in its own process group, capturing output; never
 * throws for a non-zero exit. The group is killed on timeout and by the
 * cleanup stack (Ctrl-C) while it runs.
 */
export function run(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
  const full = opts.childCpu ? ['sh', '-c', '"$@"; rc=$?; times >&3; exit $rc', 'sh', ...argv] : argv;
  const [cmd, ...args] = full;
  if (!cmd) throw new Error('run: empty argv');
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(cmd, args, {
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      detached: true,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe', opts.childCpu ? 'pipe' : 'ignore'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const times: Buffer[] = [];
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    const fd3 = child.stdio[3];
    if (fd3 && 'on' in fd3) fd3.on('data', (b: Buffer) => times.push(b));
    const pid = child.pid;
    const killGroup = () => {
      if (pid === undefined) return;
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    };
    const dereg = pid !== undefined ? onCleanup(`command ${argv[0] ?? ''} (pid ${pid})`, killGroup) : () => {};
    let timer: NodeJS.Timeout | undefined;
    if (opts.timeoutSeconds !== undefined) timer = setTimeout(killGroup, opts.timeoutSeconds * 1000);
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      dereg();
      reject(new Error(`cannot run ${cmd}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      if (timer) clearTimeout(timer);
      dereg();
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        seconds,
        cpuSeconds: opts.childCpu ? parseTimes(Buffer.concat(times).toString('utf8')) : undefined,
      });
    });
    if (child.stdin) {
      child.stdin.on('error', () => {
        /* the command did not read its input */
      });
      child.stdin.end(opts.input);
    }
  });
}

/** CPU seconds (user + system, own and reaped children) of the live processes pids. */
export function cpuOf(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // fields after the command name: state is field 3, utime 14 … cstime 17
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      for (const i of [11, 12, 13, 14]) ticks += Number(f[i] ?? 0);
    } catch {
      /* gone */
    }
  }
  return ticks / CLK_TCK;
}

/** Linux's USER_HZ; 100 on every architecture Node runs on. */
const CLK_TCK = 100;

/** Runs argv and throws (with a stderr excerpt) unless it exits 0. */
export async function runOk(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await run(argv, opts);
  if (r.code !== 0) {
    throw new Error(`${argv.join(' ')} exited ${r.code ?? r.signal}: ${excerpt(r.stderr || r.stdout)}`);
  }
  return r;
}

/**
 * A one-line summary of a command's output: the first line that looks like an
 * error and the last line, or the last three lines.
 */
export function excerpt(text: string, max = 300): string {
  const lines = text
    .split(/[\r\n]+/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  const err = lines.find((l) => /\b(error|fatal|failed|denied|refused|cannot|unknown)\b/i.test(l));
  const last = lines.at(-1);
  const pick = err ? (err === last || last === undefined ? [err] : [err, last]) : lines.slice(-3);
  const tail = pick.join(' | ');
  return tail.length > max ? tail.slice(0, max) + '…' : tail;
}

export interface Daemon {
  pid: number;
  logPath: string;
  /** resolves when the process has exited */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  isRunning(): boolean;
}

/**
 * Starts a long-lived process in its own process group (so a Ctrl-C on the
 * terminal reaches only this script, which then stops it in order), with
 * stdout and stderr going to logPath.
 */
export function startDaemon(argv: string[], logPath: string, env?: NodeJS.ProcessEnv): Daemon {
  if (aborting) throw new Error('aborting: not starting anything more');
  const [cmd, ...args] = argv;
  if (!cmd) throw new Error('startDaemon: empty argv');
  const fd = openSync(logPath, 'a');
  const opts: SpawnOptions = { env: env ?? process.env, detached: true, stdio: ['ignore', fd, fd] };
  const child = spawn(cmd, args, opts);
  closeSync(fd);
  let running = true;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      running = false;
      resolve({ code, signal });
    });
    child.on('error', () => {
      running = false;
      resolve({ code: 127, signal: null });
    });
  });
  if (child.pid === undefined) {
    running = false;
  }
  child.unref();
  return { pid: child.pid ?? -1, logPath, exited, isRunning: () => running };
}

export function pidAlive(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // a zombie still answers kill(0); treat it as gone
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z';
  } catch {
    return false;
  }
}

/** SIGTERM, wait up to graceSeconds, then SIGKILL; by pid only. */
export async function stopPid(pid: number, graceSeconds = 20): Promise<void> {
  if (!pidAlive(pid)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceSeconds * 1000;
  while (Date.now() < deadline) {
    if (!pidAlive(pid)) return;
    await sleep(50);
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  for (let i = 0; i < 100 && pidAlive(pid); i++) await sleep(50);
}

export async function stopDaemon(d: Daemon, graceSeconds = 20): Promise<void> {
  if (!d.isRunning()) return;
  await stopPid(d.pid, graceSeconds);
  await Promise.race([d.exited, sleep(2000)]);
}

/** Polls check() until it returns true; fails early if the daemon exits. */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  timeoutSeconds: number,
  daemon?: Daemon,
): Promise<void> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  for (;;) {
    if (daemon && !daemon.isRunning()) {
      throw new Error(`${what} exited before it was ready: ${excerpt(readLog(daemon.logPath))}`);
    }
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) {
      throw new Error(`${what} not ready after ${timeoutSeconds}s${daemon ? ': ' + excerpt(readLog(daemon.logPath)) : ''}`);
    }
    await sleep(100);
  }
}

export function readLog(path: string): string {
  try {
    return existsSync(path) ? readFileSync(path, 'utf8') : '';
  } catch {
    return '';
  }
}

// ---- cleanup stack -------------------------------------------------------

type CleanupFn = () => Promise<void> | void;
let aborting = false;

/** fn, run at most once: later calls share the first call's promise. */
export function onceAsync(fn: () => Promise<void>): () => Promise<void> {
  let p: Promise<void> | undefined;
  return () => (p ??= fn());
}
const cleanups: { name: string; fn: CleanupFn }[] = [];

/** Registers fn to run at exit (last registered runs first); returns a deregister function. */
export function onCleanup(name: string, fn: CleanupFn): () => void {
  const entry = { name, fn };
  cleanups.push(entry);
  return () => {
    const i = cleanups.indexOf(entry);
    if (i >= 0) cleanups.splice(i, 1);
  };
}

let inFlight: Promise<void> | undefined;

/** Runs the registered cleanups, last first; concurrent callers share one pass. */
export function runCleanups(): Promise<void> {
  if (!inFlight) {
    inFlight = (async () => {
      while (cleanups.length > 0) {
        const c = cleanups.pop();
        if (!c) break;
        try {
          await c.fn();
        } catch (e) {
          process.stderr.write(`cleanup ${c.name}: ${(e as Error).message}\n`);
        }
      }
    })().finally(() => {
      inFlight = undefined;
    });
  }
  return inFlight;
}

/** Installs handlers so that Ctrl-C, SIGTERM and uncaught errors clean up before exiting. */
export function installSignalCleanup(): void {
  let signalled = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (signalled) {
      process.stderr.write(`\n${sig} again: still cleaning up, please wait\n`);
      return;
    }
    signalled = true;
    aborting = true;
    process.stderr.write(`\n${sig}: stopping engines and cleaning up…\n`);
    void runCleanups().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  const onFatal = (e: unknown) => {
    aborting = true;
    process.stderr.write(`fatal: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    void runCleanups().finally(() => process.exit(1));
  };
  process.on('uncaughtException', onFatal);
  process.on('unhandledRejection', onFatal);
}

// ---- processes by mount namespace ---------------------------------------

/** The mount namespace of pid ("mnt:[4026532…]"), or null when it is gone. */
export function mountNsOf(pid: number): string | null {
  if (pid <= 0) return null;
  try {
    return readlinkSync(`/proc/${pid}/ns/mnt`);
  } catch {
    return null;
  }
}

/**
 * SIGKILLs every process in the mount namespace ns, which must be one this
 * script created (a daemon's private namespace): what a stopped containerd
 * leaves running there, such as the shims of containers that were not removed.
 */
export async function killMountNs(ns: string): Promise<void> {
  if (ns === mountNsOf(process.pid) || ns === mountNsOf(1)) throw new Error(`refusing to kill the host's mount namespace ${ns}`);
  for (let pass = 0; pass < 20; pass++) {
    const pids = readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .map(Number)
      .filter((p) => p !== process.pid && mountNsOf(p) === ns);
    if (pids.length === 0) return;
    for (const p of pids) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await sleep(100);
  }
}
