// Thin wrappers over the runc CLI (1.1.x), also used for other binaries with
// the same command line (crun, a user's --add-runtime): the runc-only
// shortcuts below check for runc. Every call passes `--root`: joey keeps a
// state dir per runtime (<exec-root>/runc, <exec-root>/runtimes/<name>) so
// that several daemons, and podman or docker on the same host, never see
// each other's containers.
import { constants, openSync } from 'node:fs';
import { readFile, rm, unlink } from 'node:fs/promises';
import { Socket } from 'node:net';
import { basename, join } from 'node:path';
import { type JoeyError, conflict, internal, notFound } from '../errdefs/index.ts';
import { type ExecResult, run } from './exec.ts';
import { removeCgroupDirs } from './cgroups.ts';
import { isAlive } from './proc.ts';

export interface RuncOptions {
  /** The runc binary (or a compatible runtime that takes the same CLI). */
  binary: string;
  /** runc's state dir (--root). */
  root: string;
  /** Extra global flags, before the subcommand (e.g. --debug). */
  globalArgs?: string[];
}

/** `runc state` output. */
export interface RuncState {
  ociVersion: string;
  id: string;
  /** 0 once stopped. */
  pid: number;
  status: 'creating' | 'created' | 'running' | 'paused' | 'stopped';
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  annotations?: Record<string, string>;
}

/** The `data` of `runc events --stats` (libcontainer's types.Stats, abridged). */
export interface RuncStats {
  cpu?: {
    usage?: { total?: number; percpu?: number[]; kernel?: number; user?: number };
    throttling?: { periods?: number; throttled_periods?: number; throttled_time?: number };
  };
  memory?: {
    cache?: number;
    usage?: { limit?: number; usage?: number; max?: number; failcnt?: number };
    raw?: Record<string, number>;
  };
  pids?: { current?: number; limit?: number };
  blkio?: Record<string, Array<{ major: number; minor: number; op: string; value: number }> | undefined>;
  [key: string]: unknown;
}

export class Runc {
  readonly binary: string;
  readonly root: string;
  private readonly globalArgs: string[];

  constructor(opts: RuncOptions) {
    this.binary = opts.binary;
    this.root = opts.root;
    this.globalArgs = ['--root', opts.root, ...(opts.globalArgs ?? [])];
  }

  /** The global flags conmon must hand to runc (as --runtime-arg) so that its
   * `runc create`/`runc exec` use the same state dir. */
  get runtimeArgs(): string[] {
    return this.globalArgs;
  }

  async start(id: string): Promise<void> {
    await this.call(['start', id], id);
  }

  /**
   * What `runc start` does for a created container, without a runc process
   * (~8 ms of Go start-up on the hot path of every `docker run`): runc 1.x's
   * init waits to open <root>/<id>/exec.fifo for writing, writes a byte once
   * a reader opens it, and execs the user's process, which closes it. So:
   * open it, read to EOF, remove it. runc 1.1 runs poststart hooks at create,
   * not here, so nothing else is skipped. Returns false (nothing done) where
   * this is not runc or there is no fifo: the caller then runs `runc start`,
   * which also gives runc's own message for a container in the wrong state.
   */
  async startByExecFifo(id: string, initPid: number): Promise<boolean> {
    if (basename(this.binary) !== 'runc' || initPid <= 0) return false;
    const fifo = join(this.root, id, 'exec.fifo');
    // An init that died before (killed between create and start) will never
    // write: let `runc start` say what state the container is in. Checked
    // before the open: once a reader is there, a live init writes and execs
    // at once, and `true` is gone a moment later, its byte still in the fifo.
    if (!(await isAlive(initPid))) return false;
    let fd: number;
    try {
      // Non-blocking, so that a dead init (no writer, ever) cannot hang a
      // thread; libuv opens with O_CLOEXEC.
      fd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch {
      return false;
    }
    const pipe = new Socket({ fd, readable: true, writable: false });
    let bytes = 0;
    let dead = false;
    const closed = new Promise<void>((resolve, reject) => {
      pipe.on('data', (b: Buffer) => (bytes += b.length));
      pipe.once('close', () => resolve());
      pipe.once('error', (e) => reject(internal(`starting container ${id}: reading its exec fifo: ${e.message}`, e)));
    });
    // The writer shows up within microseconds; while it has not, check now and
    // then that the init is still there to write (runc polls the same way): a
    // kill right after the check above would otherwise hang this. A process
    // that wrote and exited is dead too, its byte and EOF on their way: only
    // twice dead with nothing read, half a second apart, counts.
    let deadSeen = 0;
    const watch = setInterval(() => {
      void isAlive(initPid).then((alive) => {
        if (alive || bytes > 0) return void (deadSeen = 0);
        if (++deadSeen < 2) return;
        dead = true;
        pipe.destroy();
      });
    }, 500);
    try {
      await closed;
    } finally {
      clearInterval(watch);
      pipe.destroy();
    }
    if (dead) throw conflict(`cannot start container ${id}: its process is already dead`);
    if (bytes === 0) throw conflict(`cannot start container ${id}: it is already running`);
    await unlink(fifo).catch(() => undefined);
    return true;
  }

  /**
   * What `runc delete` does to a container whose init has exited, without a
   * runc process (~10 ms on the path of every `run --rm`): remove its cgroups
   * (state.json's cgroup_paths) and its state directory. Only where that is
   * all runc would do: the init is gone, the container had a pid namespace
   * of its own (so the kernel killed the rest with the init; runc would kill
   * leftovers otherwise), no poststop hooks, no Intel RDT group. Returns
   * false otherwise, and when a cgroup still holds a process; the caller
   * then runs `runc delete`.
   */
  async deleteStopped(id: string): Promise<boolean> {
    if (basename(this.binary) !== 'runc') return false;
    const dir = join(this.root, id);
    let st: RuncStateFile;
    try {
      st = JSON.parse(await readFile(join(dir, 'state.json'), 'utf8')) as RuncStateFile;
    } catch {
      return false;
    }
    if (!stoppedAndPlain(st)) return false;
    if (await isAlive(st.init_process_pid, Number(st.init_process_start))) return false;
    if (removeCgroupDirs(Object.values(st.cgroup_paths ?? {})).length > 0) return false;
    await rm(dir, { recursive: true, force: true });
    return true;
  }

  async kill(id: string, signal: string | number, all = false): Promise<void> {
    await this.call(all ? ['kill', '--all', id, String(signal)] : ['kill', id, String(signal)], id);
  }

  /** `force` kills a running container first; runc then treats an unknown id as done.
   * Resolves with what runc logged as an error while still removing the
   * container and exiting 0 (runc 1.1 does so for a failed poststop hook). */
  async delete(id: string, force = false): Promise<string | undefined> {
    const args = [...this.globalArgs, ...(force ? ['delete', '--force', id] : ['delete', id])];
    const r = await run(this.binary, args, { allowFailure: true });
    if (r.code !== 0) throw runcError(this.binary, 'delete', id, r);
    const errors = r.stderr.split('\n').filter((l) => /\blevel=(error|fatal)\b/.test(l));
    return errors.length ? runcMessage(errors.join('\n')).trim() : undefined;
  }

  async state(id: string): Promise<RuncState> {
    return parseJson(await this.call(['state', id], id), 'state', id) as RuncState;
  }

  async pause(id: string): Promise<void> {
    await this.call(['pause', id], id);
  }

  async resume(id: string): Promise<void> {
    await this.call(['resume', id], id);
  }

  /** `resources` in the OCI LinuxResources shape, fed on stdin. */
  async update(id: string, resources: Record<string, unknown>): Promise<void> {
    await this.call(['update', '--resources', '-', id], id, JSON.stringify(resources));
  }

  /** Host pids of every process in the container's cgroup. */
  async ps(id: string): Promise<number[]> {
    const out = parseJson(await this.call(['ps', '--format', 'json', id], id), 'ps', id);
    return Array.isArray(out) ? (out as number[]) : [];
  }

  /** One sample of `runc events --stats`. */
  async stats(id: string): Promise<RuncStats> {
    const ev = parseJson(await this.call(['events', '--stats', id], id), 'events --stats', id) as { data?: RuncStats };
    return ev.data ?? {};
  }

  /** Every container in this root (for recovery at start-up). */
  async list(): Promise<RuncState[]> {
    const out = parseJson(await this.call(['list', '--format', 'json']), 'list', '');
    return Array.isArray(out) ? (out as RuncState[]) : [];
  }

  private async call(args: string[], id?: string, input?: string): Promise<string> {
    const r = await run(this.binary, [...this.globalArgs, ...args], input === undefined ? { allowFailure: true } : { input, allowFailure: true });
    if (r.code !== 0) throw runcError(this.binary, args[0]!, id, r);
    return r.stdout;
  }
}

/** The parts of runc 1.1's <root>/<id>/state.json that deleteStopped reads. */
export interface RuncStateFile {
  init_process_pid: number;
  init_process_start: string | number;
  cgroup_paths?: Record<string, string>;
  intel_rdt_path?: string;
  config?: {
    namespaces?: Array<{ type: string; path?: string }>;
    Hooks?: Record<string, unknown[] | null> | null;
  };
}

/** A container runc would delete by removing its cgroups and state alone. */
export function stoppedAndPlain(st: RuncStateFile): boolean {
  if (!(st.init_process_pid > 0) || st.intel_rdt_path) return false;
  const pidns = st.config?.namespaces?.find((n) => n.type === 'NEWPID');
  if (!pidns || pidns.path) return false;
  return !(st.config?.Hooks?.['poststop']?.length);
}

/** runc logs `time=… level=error msg="…"`; the msg is what people need to read. */
export function runcMessage(text: string): string {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const msgs: string[] = [];
  for (const line of lines) {
    const m = /\bmsg="((?:[^"\\]|\\.)*)"/.exec(line);
    if (!m) {
      msgs.push(line.trim());
      continue;
    }
    try {
      msgs.push(JSON.parse(`"${m[1]}"`) as string);
    } catch {
      msgs.push(m[1]!);
    }
  }
  return msgs.join('; ');
}

function runcError(binary: string, op: string, id: string | undefined, r: ExecResult): JoeyError {
  const msg = runcMessage(r.stderr) || r.stdout.trim() || `exit ${r.code}`;
  const what = `${binary} ${op}${id ? ` ${id}` : ''}: ${msg}`;
  if (/container does not exist|container with id .* does not exist/i.test(msg)) return notFound(what);
  if (/not running|not paused|not stopped|is paused|paused container|is not running|already (paused|running)/i.test(msg)) return conflict(what);
  return internal(what);
}

function parseJson(text: string, op: string, id: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw internal(`runc ${op} ${id}: unreadable output ${JSON.stringify(text.slice(0, 200))}`, e);
  }
}
