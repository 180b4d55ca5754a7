// Reading a container's cgroups from the host, and cleaning up the cgroup
// parent a test run gave its daemon. Works on cgroup v1 (also hybrid, where
// cgroup2 is mounted beside the v1 controllers) and on a pure cgroup v2 host.
import { existsSync } from 'node:fs';
import { readFile, readdir, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { sleep } from './proc.ts';

/** One mounted cgroup hierarchy: its mount point and what it holds (v1 controllers or `name=…`; [] for cgroup2). */
export interface Hierarchy {
  mountpoint: string;
  version: 1 | 2;
  controllers: string[];
}

/** The cgroup hierarchies mounted on the host, from /proc/self/mountinfo. */
export async function hierarchies(): Promise<Hierarchy[]> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  const out: Hierarchy[] = [];
  for (const line of info.split('\n').filter(Boolean)) {
    const [pre, post] = line.split(' - ');
    if (!pre || !post) continue;
    const [fstype, , superOpts = ''] = post.split(' ');
    const mountpoint = pre.split(' ')[4]!;
    if (fstype === 'cgroup2') out.push({ mountpoint, version: 2, controllers: [] });
    else if (fstype === 'cgroup') {
      const known = new Set(['rw', 'ro', 'relatime', 'noatime', 'nosuid', 'nodev', 'noexec', 'clone_children', 'xattr']);
      out.push({ mountpoint, version: 1, controllers: superOpts.split(',').filter((o) => !known.has(o) && !o.startsWith('release_agent=')) });
    }
  }
  return out;
}

/** True when the memory controller is a v1 one (v1 or hybrid host). */
export async function isCgroupV1(): Promise<boolean> {
  return (await hierarchies()).some((h) => h.version === 1 && h.controllers.includes('memory'));
}

/** controller (or `name=…`, or '' for the v2 unified hierarchy) → the process's cgroup path, from /proc/PID/cgroup. */
export async function cgroupPaths(pid: number): Promise<Map<string, string>> {
  const text = await readFile(`/proc/${pid}/cgroup`, 'utf8');
  const out = new Map<string, string>();
  for (const line of text.split('\n').filter(Boolean)) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    if (m[2] === '') out.set('', m[3]!);
    else for (const c of m[2]!.split(',')) out.set(c, m[3]!);
  }
  return out;
}

/**
 * The host path of a cgroup file of the process: `controller` picks the v1
 * hierarchy (memory, cpu, cpuset, pids, freezer, …); on a pure v2 host the
 * unified hierarchy is used whatever the controller.
 */
export async function cgroupFile(pid: number, controller: string, file: string): Promise<string> {
  const hs = await hierarchies();
  const paths = await cgroupPaths(pid);
  const v1 = hs.find((h) => h.version === 1 && h.controllers.includes(controller));
  if (v1) {
    const p = paths.get(controller);
    if (p === undefined) throw new Error(`pid ${pid} has no ${controller} cgroup`);
    return join(v1.mountpoint, p, file);
  }
  const v2 = hs.find((h) => h.version === 2);
  const p = paths.get('');
  if (!v2 || p === undefined) throw new Error(`no cgroup hierarchy holds ${controller}`);
  return join(v2.mountpoint, p, file);
}

/** The trimmed content of a cgroup file of the process (see `cgroupFile`). */
export async function readCgroup(pid: number, controller: string, file: string): Promise<string> {
  return (await readFile(await cgroupFile(pid, controller, file), 'utf8')).trim();
}

/** `parent` as a cgroup path: leading slash, no trailing one. */
const norm = (parent: string): string => `/${parent.replace(/^\/+|\/+$/g, '')}`;

/** Directories below `parent` (not the parent itself) in every hierarchy, deepest first. */
export async function cgroupDirsUnder(parent: string): Promise<string[]> {
  const out: string[] = [];
  for (const h of await hierarchies()) {
    const root = join(h.mountpoint, norm(parent));
    if (!existsSync(root)) continue;
    for (const e of await readdir(root, { withFileTypes: true, recursive: true })) {
      if (e.isDirectory()) out.push(join(e.parentPath, e.name));
    }
  }
  return out.sort((a, b) => b.split('/').length - a.split('/').length);
}

/** Pids in `parent` or below it, in any hierarchy. */
export async function pidsUnder(parent: string): Promise<number[]> {
  const pids = new Set<number>();
  for (const h of await hierarchies()) {
    const root = join(h.mountpoint, norm(parent));
    if (!existsSync(root)) continue;
    const dirs = [root, ...(await readdir(root, { withFileTypes: true, recursive: true })).filter((e) => e.isDirectory()).map((e) => join(e.parentPath, e.name))];
    for (const d of dirs) {
      const procs = await readFile(join(d, 'cgroup.procs'), 'utf8').catch(() => '');
      for (const p of procs.split('\n').filter(Boolean)) pids.add(Number(p));
    }
  }
  return [...pids];
}

/**
 * Removes `parent` and everything below it in every hierarchy. Processes still
 * in it (a test's containers that outlived their daemon) are SIGKILLed first.
 * Returns the directories it could not remove.
 */
export async function removeCgroupTree(parent: string): Promise<string[]> {
  for (let i = 0; i < 50; i++) {
    const pids = await pidsUnder(parent);
    if (!pids.length) break;
    for (const p of pids) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    await sleep(100);
  }
  const left: string[] = [];
  const roots = (await hierarchies()).map((h) => join(h.mountpoint, norm(parent))).filter((p) => existsSync(p));
  for (const dir of [...(await cgroupDirsUnder(parent)), ...roots]) {
    let ok = false;
    // A cgroup whose last task just died can stay busy for a moment.
    for (let i = 0; i < 20 && !ok; i++) {
      try {
        await rmdir(dir);
        ok = true;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') ok = true;
        else await sleep(50);
      }
    }
    if (!ok) left.push(dir);
  }
  return left;
}

/** A container's resource limits as the kernel holds them, in cgroup v1 terms ('max' = no limit). */
export interface Limits {
  memory: number | 'max';
  /** Memory + swap; undefined where swap is not accounted. */
  memorySwap: number | 'max' | undefined;
  /** memory.soft_limit_in_bytes (v1) or memory.low (v2). */
  memoryReservation: number | 'max';
  cpuQuota: number | 'max';
  cpuPeriod: number;
  /** cpu.shares (v1); on v2, cpu.weight converted back to shares is lossy, so `cpuWeight` is given instead. */
  cpuShares?: number;
  cpuWeight?: number;
  cpusetCpus: string;
  pidsMax: number | 'max';
  /** v1 only: memory.oom_control's oom_kill_disable. */
  oomKillDisable?: boolean;
}

const V1_UNLIMITED = 9223372036854771712;
const num = (s: string): number | 'max' => (s === 'max' || s === '-1' || Number(s) >= V1_UNLIMITED ? 'max' : Number(s));

/** runc's mapping of cpu.shares (2…262144) to cgroup v2 cpu.weight (1…10000). */
export const sharesToWeight = (shares: number): number => Math.floor(1 + ((shares - 2) * 9999) / 262142);

/** Reads the limits of the cgroup the process is in. */
export async function readLimits(pid: number): Promise<Limits> {
  const opt = (p: Promise<string>): Promise<string | undefined> => p.catch(() => undefined);
  if (await isCgroupV1()) {
    const memsw = await opt(readCgroup(pid, 'memory', 'memory.memsw.limit_in_bytes'));
    const oom = await readCgroup(pid, 'memory', 'memory.oom_control');
    return {
      memory: num(await readCgroup(pid, 'memory', 'memory.limit_in_bytes')),
      memorySwap: memsw === undefined ? undefined : num(memsw),
      memoryReservation: num(await readCgroup(pid, 'memory', 'memory.soft_limit_in_bytes')),
      cpuQuota: num(await readCgroup(pid, 'cpu', 'cpu.cfs_quota_us')),
      cpuPeriod: Number(await readCgroup(pid, 'cpu', 'cpu.cfs_period_us')),
      cpuShares: Number(await readCgroup(pid, 'cpu', 'cpu.shares')),
      cpusetCpus: await readCgroup(pid, 'cpuset', 'cpuset.cpus'),
      pidsMax: num(await readCgroup(pid, 'pids', 'pids.max')),
      oomKillDisable: /^oom_kill_disable 1$/m.test(oom),
    };
  }
  const memory = num(await readCgroup(pid, 'memory', 'memory.max'));
  const swap = await opt(readCgroup(pid, 'memory', 'memory.swap.max'));
  const [quota = 'max', period = '100000'] = (await readCgroup(pid, 'cpu', 'cpu.max')).split(' ');
  return {
    memory,
    memorySwap: swap === undefined ? undefined : memory === 'max' || num(swap) === 'max' ? 'max' : memory + (num(swap) as number),
    memoryReservation: num(await readCgroup(pid, 'memory', 'memory.low')),
    cpuQuota: num(quota),
    cpuPeriod: Number(period),
    cpuWeight: Number(await readCgroup(pid, 'cpu', 'cpu.weight')),
    cpusetCpus: await readCgroup(pid, 'cpuset', 'cpuset.cpus'),
    pidsMax: num(await readCgroup(pid, 'pids', 'pids.max')),
  };
}

/** Whether the process's cgroup is frozen (`docker pause`). */
export async function isFrozen(pid: number): Promise<boolean> {
  if (await isCgroupV1()) return (await readCgroup(pid, 'freezer', 'freezer.state')) === 'FROZEN';
  return (await readCgroup(pid, 'freezer', 'cgroup.freeze')) === '1';
}
