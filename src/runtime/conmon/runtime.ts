// The OciRuntime seam implemented with conmon + runc, as Podman does: conmon
// (one per container and per exec) runs `runc create`/`runc exec`, holds the
// stdio, writes the log and the exit code, and outlives joeyd. Everything else
// is a direct runc call. No state lives here that start-up could not rebuild:
// a fresh ConmonRuntime sees every container the last one created.
import { existsSync, mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { access, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { internal, notFound } from '../../errdefs/index.ts';
import { reopenLog, resizeTerminal } from '../../sys/attach.ts';
import { toOciJson } from '../spec/json.ts';
import { type CgroupPaths, cgroupPaths, cgroupPathsOfPid, cgroupProcs, readCgroupStats } from '../../sys/cgroups.ts';
import { conmonCreate, conmonExec } from '../../sys/conmon.ts';
import { isAlive, processStartTime, readProcStat } from '../../sys/proc.ts';
import { killProcessTree } from '../../sys/proc-tree.ts';
import { Runc, type RuncStats } from '../../sys/runc.ts';
import type {
  ContainerPaths,
  CreateOptions,
  Created,
  ExecOptions,
  ExecSession,
  OciResources,
  OciRuntime,
  RuntimeState,
  RuntimeStats,
} from '../types.ts';

export interface ConmonRuntimeOptions {
  /** The name the engine knows this runtime by ("runc", "crun", a user's). */
  name: string;
  /** The OCI runtime binary, e.g. /usr/sbin/runc. */
  runtimePath: string;
  /** The runtime's state dir (--root), private to this daemon and to this
   * runtime: <exec-root>/runc, <exec-root>/runtimes/<name> (engine/runtimes.ts). */
  runtimeRoot: string;
  conmonPath: string;
  /** More global runtime flags (before the subcommand). */
  runtimeArgs?: string[];
}

/** Created, plus the monitor's start time: (monitorPid, monitorStartTime) survives pid reuse. */
export interface ConmonCreated extends Created {
  monitorStartTime: number | null;
}

export interface ConmonExecOptions extends ExecOptions {
  /** Attached execs: runs once conmon's attach socket exists and before the
   * process starts; connect there so that no output is lost. Without it the
   * process starts at once and early output may be missed. */
  beforeStart?: (attachSocket: string) => Promise<void>;
}

export class ConmonRuntime implements OciRuntime {
  readonly name: string;
  readonly runc: Runc;
  private readonly conmonPath: string;
  /** Container id → its cgroup; a cache, refilled from runc on a miss. */
  private readonly cgroups = new Map<string, CgroupPaths>();
  private readonly cgroupsPaths = new Map<string, string>();
  /** Container id → init pid, between create and start (see Runc.startByExecFifo). */
  private readonly created = new Map<string, number>();

  constructor(opts: ConmonRuntimeOptions) {
    this.name = opts.name;
    this.conmonPath = opts.conmonPath;
    this.runc = new Runc({ binary: opts.runtimePath, root: opts.runtimeRoot, globalArgs: opts.runtimeArgs });
  }

  async create(opts: CreateOptions): Promise<ConmonCreated> {
    const { id, paths } = opts;
    const b = paths.bundle;
    // runc refuses a console socket unless process.terminal matches -t.
    let spec = opts.spec;
    if (spec.process && !!spec.process.terminal !== opts.tty) spec = { ...spec, process: { ...spec.process, terminal: opts.tty } };
    // Leftovers of an earlier run would be read as this run's exit or OOM, and
    // a stale FIFO or socket would be reused.
    const stale = [join(paths.exitDir, id), join(paths.persistDir, 'exit'), join(paths.persistDir, 'oom')];
    for (const f of ['oom', 'attach', 'ctl', 'winsz', 'pidfile', 'conmon.pid']) stale.push(join(b, f));
    prepareDir(b, stale, [paths.persistDir, paths.exitDir]);
    writeFileSync(join(b, 'config.json'), toOciJson(spec));
    const cgroupsPath = (spec.linux as { cgroupsPath?: unknown } | undefined)?.cgroupsPath;
    if (typeof cgroupsPath === 'string') this.cgroupsPaths.set(id, cgroupsPath);
    this.cgroups.delete(id);
    try {
      const started = await conmonCreate({
        conmon: this.conmonPath,
        runtime: this.runc.binary,
        runtimeArgs: this.runc.runtimeArgs,
        id,
        name: opts.name,
        bundle: b,
        pidFile: join(b, 'pidfile'),
        exitDir: paths.exitDir,
        persistDir: paths.persistDir,
        logPath: paths.logPath,
        logSizeMax: opts.logSizeMax,
        conmonPidFile: join(b, 'conmon.pid'),
        stdin: opts.stdin,
        leaveStdinOpen: opts.leaveStdinOpen,
        tty: opts.tty,
        exitCommand: opts.exitCommand,
        cwd: b,
      });
      // runc 1.2 runs poststart hooks in `runc start`: keep it for those.
      const hooks = (spec as { hooks?: { poststart?: unknown[] } }).hooks;
      if (!hooks?.poststart?.length) this.created.set(id, started.pid);
      return { pid: started.pid, monitorPid: started.conmonPid, monitorStartTime: await processStartTime(started.conmonPid) };
    } catch (e) {
      // runc leaves a failed container `stopped`; the id must be free for a retry.
      await this.runc.delete(id, true).catch(() => undefined);
      this.forget(id);
      throw e;
    }
  }

  async start(id: string): Promise<void> {
    const pid = this.created.get(id);
    this.created.delete(id);
    if (pid !== undefined && (await this.runc.startByExecFifo(id, pid))) return;
    await this.runc.start(id);
  }

  kill(id: string, signal: string | number, opts: { all?: boolean } = {}): Promise<void> {
    return this.runc.kill(id, signal, !!opts.all);
  }

  async delete(id: string, opts: { force?: boolean } = {}): Promise<void> {
    // runc keeps one directory per container under its root: without it there
    // is nothing to delete, and a runc process (~8 ms) is saved on every
    // removal of a container that exited (its state went at the exit).
    if (!existsSync(join(this.runc.root, id))) {
      this.forget(id);
      return;
    }
    let reported: string | undefined;
    if (!(await this.runc.deleteStopped(id))) reported = await this.runc.delete(id, !!opts.force);
    this.forget(id);
    // Gone, yet something failed on the way (a poststop hook): the caller shows it.
    if (reported) throw internal(`${this.runc.binary} delete ${id}: ${reported}`);
  }

  async state(id: string): Promise<RuntimeState> {
    const s = await this.runc.state(id);
    const known = ['creating', 'created', 'running', 'paused', 'stopped'] as const;
    return { status: (known as readonly string[]).includes(s.status) ? s.status : 'unknown', pid: s.pid };
  }

  pause(id: string): Promise<void> {
    return this.runc.pause(id);
  }

  resume(id: string): Promise<void> {
    return this.runc.resume(id);
  }

  update(id: string, resources: OciResources): Promise<void> {
    return this.runc.update(id, resources);
  }

  pids(id: string): Promise<number[]> {
    return this.runc.ps(id);
  }

  /** From the cgroup files (no process spawned: `docker stats` asks every second);
   * `runc events --stats` only when the cgroup cannot be located. */
  async stats(id: string): Promise<RuntimeStats> {
    const cg = await this.cgroupOf(id);
    if (!cg) return fromRuncStats(await this.runc.stats(id));
    let s;
    try {
      s = readCgroupStats(cg);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        this.cgroups.delete(id);
        throw notFound(`container ${id} has no cgroup (not running)`, e);
      }
      throw e;
    }
    return { read: new Date().toISOString(), ...s, network: await networkStats(cg) };
  }

  async exec(id: string, opts: ConmonExecOptions): Promise<ExecSession> {
    const dir = opts.dir;
    const sessionId = basename(dir);
    const spec = join(dir, 'process.json');
    prepareDir(dir, [id, 'attach', 'ctl', 'winsz', 'oom', 'pid', 'conmon.pid'].map((f) => join(dir, f)));
    writeFileSync(spec, toOciJson({ ...opts.process, terminal: opts.tty }));
    const attached = !opts.detach;
    // Attach and resize channels only when someone will use them: a detached
    // exec without a tty needs neither.
    const withChannels = attached || opts.tty;
    const attachSocket = join(dir, 'attach');
    const started = await conmonExec(
      {
        conmon: this.conmonPath,
        runtime: this.runc.binary,
        runtimeArgs: this.runc.runtimeArgs,
        id,
        uuid: sessionId,
        bundle: withChannels ? dir : undefined,
        pidFile: join(dir, 'pid'),
        // Per exec: conmon names the exit file after the container.
        exitDir: dir,
        conmonPidFile: join(dir, 'conmon.pid'),
        stdin: attached && opts.stdin,
        tty: opts.tty,
        execProcessSpec: spec,
        cwd: dir,
      },
      attached ? { beforeStart: () => opts.beforeStart?.(attachSocket) ?? Promise.resolve() } : undefined,
    );
    // The sync pipe carries the code; the exit file backs it up if the pipe broke.
    const exited = started.exited.catch(async (e) => {
      const code = await readExitFile(join(dir, id));
      if (code === undefined) throw e;
      return code;
    });
    exited.catch(() => {});
    let ended = false;
    void exited.finally(() => (ended = true)).catch(() => {});
    // runc wrote the pid (-p) before conmon reported it; with its start
    // time it names this process only, even once the pid is reused.
    const startTime = await processStartTime(started.pid);
    const ctl = join(dir, 'ctl');
    return {
      pid: started.pid,
      monitorPid: started.conmonPid,
      attachSocket: attached ? attachSocket : undefined,
      exited,
      resize: (h, w) => (withChannels ? resizeTerminal(ctl, h, w) : Promise.resolve()),
      kill: async () => {
        if (ended || startTime === null) return;
        await killProcessTree(started.pid, startTime);
      },
    };
  }

  resize(paths: ContainerPaths, height: number, width: number): Promise<void> {
    return resizeTerminal(join(paths.bundle, 'ctl'), height, width);
  }

  reopenLog(paths: ContainerPaths): Promise<void> {
    return reopenLog(join(paths.bundle, 'ctl'));
  }

  async exitCode(id: string, paths: ContainerPaths): Promise<number | undefined> {
    return (await readExitFile(join(paths.exitDir, id))) ?? (await readExitFile(join(paths.persistDir, 'exit')));
  }

  /** conmon writes the exit file once, at the exit: its mtime is that time. */
  async exitedAt(id: string, paths: ContainerPaths): Promise<Date | undefined> {
    for (const p of [join(paths.exitDir, id), join(paths.persistDir, 'exit')]) {
      const st = await stat(p).catch(() => undefined);
      if (st) return st.mtime;
    }
    return undefined;
  }

  async oomKilled(paths: ContainerPaths): Promise<boolean> {
    // conmon writes `oom` to the persist dir and to its cwd (the bundle).
    const exists = (p: string) => access(p).then(() => true, () => false);
    const [a, b] = await Promise.all([exists(join(paths.persistDir, 'oom')), exists(join(paths.bundle, 'oom'))]);
    return a || b;
  }

  /** Alive, not a zombie, and (given its start time) not a reused pid; without
   * the start time, at least a process named like conmon. */
  async monitorAlive(monitorPid: number, startTime?: number | null): Promise<boolean> {
    if (startTime !== undefined && startTime !== null) return isAlive(monitorPid, startTime);
    if (!(await isAlive(monitorPid))) return false;
    const st = await readProcStat(monitorPid);
    return st !== undefined && st.comm === basename(this.conmonPath).slice(0, 15);
  }

  async list(): Promise<string[]> {
    return (await this.runc.list()).map((c) => c.id);
  }

  private forget(id: string): void {
    this.created.delete(id);
    this.cgroups.delete(id);
    this.cgroupsPaths.delete(id);
  }

  /** The container's cgroup: from the spec given to create, else from the
   * running init's /proc/PID/cgroup, else from the bundle's config.json. */
  private async cgroupOf(id: string): Promise<CgroupPaths | undefined> {
    const hit = this.cgroups.get(id);
    if (hit) return hit;
    let cg: CgroupPaths | undefined;
    const known = this.cgroupsPaths.get(id);
    if (known?.startsWith('/')) {
      cg = await cgroupPaths(known);
    } else {
      const st = await this.runc.state(id);
      if (st.pid > 0) cg = await cgroupPathsOfPid(st.pid);
      if (!cg) {
        const spec = JSON.parse(await readFile(join(st.bundle, 'config.json'), 'utf8')) as { linux?: { cgroupsPath?: string } };
        const p = spec.linux?.cgroupsPath;
        if (p?.startsWith('/')) cg = await cgroupPaths(p);
      }
    }
    if (cg) this.cgroups.set(id, cg);
    return cg;
  }
}

/** Makes `dir` (and `alsoDirs`) and removes `stale` files. Synchronous on
 * purpose: a dozen metadata calls on a local disk take microseconds, while
 * each fs/promises call costs a thread-pool round trip on the create hot path. */
function prepareDir(dir: string, stale: string[], alsoDirs: string[] = []): void {
  for (const d of [dir, ...alsoDirs]) mkdirSync(d, { recursive: true });
  for (const f of stale) {
    try {
      unlinkSync(f);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
}

async function readExitFile(path: string): Promise<number | undefined> {
  let text: string;
  try {
    text = (await readFile(path, 'utf8')).trim();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  const n = Number(text);
  if (text === '' || !Number.isInteger(n)) throw internal(`exit file ${path} holds ${JSON.stringify(text)}`);
  return n;
}

/** Interface counters from the container's network namespace, as seen by any of its processes. */
async function networkStats(cg: CgroupPaths): Promise<RuntimeStats['network']> {
  const pid = cgroupProcs(cg)[0];
  const out: RuntimeStats['network'] = {};
  if (!pid) return out;
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/net/dev`, 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n').slice(2)) {
    const i = line.indexOf(':');
    if (i < 0) continue;
    const name = line.slice(0, i).trim();
    if (name === 'lo') continue;
    const n = line.slice(i + 1).trim().split(/\s+/).map(Number);
    out[name] = { rxBytes: n[0]!, rxPackets: n[1]!, rxErrors: n[2]!, rxDropped: n[3]!, txBytes: n[8]!, txPackets: n[9]!, txErrors: n[10]!, txDropped: n[11]! };
  }
  return out;
}

function fromRuncStats(s: RuncStats): RuntimeStats {
  let read = 0;
  let write = 0;
  for (const e of s.blkio?.['io_service_bytes_recursive'] ?? []) {
    if (e.op === 'Read') read += e.value;
    else if (e.op === 'Write') write += e.value;
  }
  const limit = s.memory?.usage?.limit ?? -1;
  return {
    read: new Date().toISOString(),
    cpu: {
      usageNs: s.cpu?.usage?.total ?? 0,
      userNs: s.cpu?.usage?.user ?? 0,
      systemNs: s.cpu?.usage?.kernel ?? 0,
      perCpuNs: s.cpu?.usage?.percpu ?? [],
      throttledPeriods: s.cpu?.throttling?.throttled_periods ?? 0,
      throttledTimeNs: s.cpu?.throttling?.throttled_time ?? 0,
    },
    memory: {
      usage: s.memory?.usage?.usage ?? 0,
      limit: limit >= 2 ** 62 ? -1 : limit,
      maxUsage: s.memory?.usage?.max ?? 0,
      cache: s.memory?.cache ?? 0,
      raw: s.memory?.raw ?? {},
    },
    pids: { current: s.pids?.current ?? 0, limit: s.pids?.limit ?? -1 },
    blkio: { read, write },
    network: {},
  };
}
