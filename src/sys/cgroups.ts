// Reading container cgroups (v1, v2 and the hybrid layout) and removing
// leaked ones. runc creates and deletes them; joey reads them for stats and
// tests, and cleans up what a crash left behind.
//
// Files are read synchronously on purpose: cgroupfs answers from memory
// without blocking, and `docker stats` reads ~10 files per container per
// second, where the thread-pool round trips of fs/promises cost more than the reads.
import { readFileSync, readdirSync, rmdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { internal } from '../errdefs/index.ts';

/** v2: one unified hierarchy at /sys/fs/cgroup. hybrid: v1 controllers plus a
 * cgroup2 mount (normally /sys/fs/cgroup/unified) holding none of them. */
export type CgroupMode = 'v1' | 'v2' | 'hybrid';

export interface Hierarchies {
  mode: CgroupMode;
  /** v1 controller (or `name=systemd`) → mount point. */
  v1: Record<string, string>;
  /** The cgroup2 mount point, if any. */
  unified?: string;
  /** Mount roots other than "/" (inside a cgroup namespace), by mount point. */
  roots: Record<string, string>;
}

/** One container's cgroup, resolved in every hierarchy. */
export interface CgroupPaths {
  mode: CgroupMode;
  /** v1 controller → directory. Empty on v2. */
  v1: Record<string, string>;
  /** The v2 directory (on hybrid: the unified hierarchy's, which holds no controllers). */
  unified?: string;
}

let cached: Hierarchies | undefined;

/** The host's cgroup hierarchies, from /proc/self/mountinfo (read once). */
export async function hierarchies(): Promise<Hierarchies> {
  if (!cached) cached = parseHierarchies(await readFile('/proc/self/mountinfo', 'utf8'));
  return cached;
}

export function parseHierarchies(mountinfo: string): Hierarchies {
  const v1: Record<string, string> = {};
  const roots: Record<string, string> = {};
  let unified: string | undefined;
  for (const line of mountinfo.split('\n')) {
    const f = line.split(' ');
    const dash = f.indexOf('-', 6);
    if (dash < 0) continue;
    const fstype = f[dash + 1];
    const target = unescapeMount(f[4]!);
    if (fstype === 'cgroup2') {
      unified ??= target;
    } else if (fstype === 'cgroup') {
      for (const opt of (f[dash + 3] ?? '').split(',')) {
        if (opt === 'rw' || opt === 'ro' || opt.startsWith('release_agent=') || opt === 'clone_children' || opt === 'noprefix') continue;
        v1[opt] ??= target;
      }
    } else continue;
    if (f[3] && f[3] !== '/') roots[target] = unescapeMount(f[3]);
  }
  const hasV1 = Object.keys(v1).length > 0;
  const mode: CgroupMode = !hasV1 && unified ? 'v2' : hasV1 && unified ? 'hybrid' : 'v1';
  if (!hasV1 && !unified) throw internal('no cgroup filesystem is mounted');
  return { mode, v1, unified, roots };
}

function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Resolves an absolute `linux.cgroupsPath` (cgroupfs driver, e.g. /joey/<id>)
 * to directories. A relative path is taken below joeyd's own cgroup, as runc does. */
export async function cgroupPaths(cgroupsPath: string): Promise<CgroupPaths> {
  const h = await hierarchies();
  let own: Record<string, string> | undefined;
  if (!cgroupsPath.startsWith('/')) own = parseProcCgroup(await readFile('/proc/self/cgroup', 'utf8'));
  const under = (mount: string, key: string) => join(mount, stripRoot(own ? posix.join(own[key] ?? '/', cgroupsPath) : cgroupsPath, h.roots[mount]));
  const v1: Record<string, string> = {};
  if (h.mode !== 'v2') for (const [ctrl, mount] of Object.entries(h.v1)) v1[ctrl] = under(mount, ctrl);
  return { mode: h.mode, v1, unified: h.unified ? under(h.unified, '') : undefined };
}

/** The cgroup a process is in (exact whatever the cgroup driver); undefined when it is gone. */
export async function cgroupPathsOfPid(pid: number): Promise<CgroupPaths | undefined> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/cgroup`, 'utf8');
  } catch {
    return undefined;
  }
  const own = parseProcCgroup(text);
  const h = await hierarchies();
  const v1: Record<string, string> = {};
  if (h.mode !== 'v2') {
    for (const [ctrl, mount] of Object.entries(h.v1)) if (own[ctrl] !== undefined) v1[ctrl] = join(mount, stripRoot(own[ctrl]!, h.roots[mount]));
  }
  const unified = h.unified && own[''] !== undefined ? join(h.unified, stripRoot(own['']!, h.roots[h.unified])) : undefined;
  return { mode: h.mode, v1, unified };
}

/** A path as seen from inside a cgroup namespace whose mount root is `root`. */
function stripRoot(p: string, root: string | undefined): string {
  return root && (p === root || p.startsWith(root + '/')) ? p.slice(root.length) || '/' : p;
}

/** /proc/PID/cgroup: controller (or "" for v2) → path. */
export function parseProcCgroup(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    if (m[1] === '') out[''] = m[2]!;
    else for (const c of m[1]!.split(',')) out[c] = m[2]!;
  }
  return out;
}

/** Numbers as the OCI spec gives them: -1 means unlimited. */
export interface CgroupLimits {
  memoryLimit: number;
  /** v1: memory+swap (memsw); v2: swap alone (memory.swap.max). */
  memorySwapLimit: number;
  /** -1 = no quota. */
  cpuQuota: number;
  cpuPeriod: number;
  /** v1 cpu.shares (v2: undefined). */
  cpuShares?: number;
  /** v2 cpu.weight (v1: undefined). */
  cpuWeight?: number;
  pidsMax: number;
  cpusetCpus: string;
  /** OOM kills seen in the cgroup (memory.oom_control / memory.events oom_kill). */
  oomKills: number;
  frozen: boolean;
}

const UNLIMITED_V1 = 2 ** 62; // v1 prints "unlimited" as 9223372036854771712

function readText(path: string | undefined): string | undefined {
  if (!path) return undefined;
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENODEV' || code === 'EOPNOTSUPP' || code === 'EINVAL') return undefined;
    throw e;
  }
}

function readNum(path: string | undefined): number | undefined {
  const t = readText(path);
  if (t === undefined || t === '') return undefined;
  if (t === 'max') return -1;
  const n = Number(t);
  return n >= UNLIMITED_V1 ? -1 : n;
}

/** "key value" lines (memory.stat, cpu.stat, memory.events, …). */
export function readKeyed(path: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  const t = readText(path);
  if (!t) return out;
  for (const line of t.split('\n')) {
    const i = line.indexOf(' ');
    if (i > 0) out[line.slice(0, i)] = Number(line.slice(i + 1));
  }
  return out;
}

function v1file(p: CgroupPaths, ctrl: string, file: string): string | undefined {
  const dir = p.v1[ctrl];
  return dir ? join(dir, file) : undefined;
}

function v2file(p: CgroupPaths, file: string): string | undefined {
  return p.unified ? join(p.unified, file) : undefined;
}

export function readCgroupLimits(p: CgroupPaths): CgroupLimits {
  if (p.mode === 'v2') {
    const [quota, period] = (readText(v2file(p, 'cpu.max')) ?? 'max 100000').split(' ');
    return {
      memoryLimit: readNum(v2file(p, 'memory.max')) ?? -1,
      memorySwapLimit: readNum(v2file(p, 'memory.swap.max')) ?? -1,
      cpuQuota: quota === 'max' ? -1 : Number(quota),
      cpuPeriod: Number(period ?? 100000),
      cpuWeight: readNum(v2file(p, 'cpu.weight')),
      pidsMax: readNum(v2file(p, 'pids.max')) ?? -1,
      cpusetCpus: readText(v2file(p, 'cpuset.cpus')) ?? '',
      oomKills: readKeyed(v2file(p, 'memory.events'))['oom_kill'] ?? 0,
      frozen: readKeyed(v2file(p, 'cgroup.events'))['frozen'] === 1,
    };
  }
  return {
    memoryLimit: readNum(v1file(p, 'memory', 'memory.limit_in_bytes')) ?? -1,
    memorySwapLimit: readNum(v1file(p, 'memory', 'memory.memsw.limit_in_bytes')) ?? -1,
    cpuQuota: readNum(v1file(p, 'cpu', 'cpu.cfs_quota_us')) ?? -1,
    cpuPeriod: readNum(v1file(p, 'cpu', 'cpu.cfs_period_us')) ?? 100000,
    cpuShares: readNum(v1file(p, 'cpu', 'cpu.shares')),
    pidsMax: readNum(v1file(p, 'pids', 'pids.max')) ?? -1,
    cpusetCpus: readText(v1file(p, 'cpuset', 'cpuset.cpus')) ?? '',
    oomKills: readKeyed(v1file(p, 'memory', 'memory.oom_control'))['oom_kill'] ?? 0,
    frozen: readText(v1file(p, 'freezer', 'freezer.state')) === 'FROZEN',
  };
}

/** Usage counters (the runtime turns them into RuntimeStats). */
export interface CgroupStats {
  cpu: { usageNs: number; userNs: number; systemNs: number; perCpuNs: number[]; throttledPeriods: number; throttledTimeNs: number };
  memory: { usage: number; limit: number; maxUsage: number; cache: number; raw: Record<string, number> };
  pids: { current: number; limit: number };
  blkio: { read: number; write: number };
}

/** USER_HZ, the unit of cpuacct.stat; 100 on every Linux architecture joey runs on. */
const USER_HZ_NS = 1e9 / 100;

/** Reads usage. Throws not-found-ish ENOENT when the cgroup is gone (container deleted). */
export function readCgroupStats(p: CgroupPaths): CgroupStats {
  if (p.mode === 'v2') {
    const cpu = readKeyed(v2file(p, 'cpu.stat'));
    const mem = readKeyed(v2file(p, 'memory.stat'));
    const current = readNum(v2file(p, 'memory.current'));
    if (current === undefined && Object.keys(cpu).length === 0) throw gone(p.unified);
    let read = 0;
    let write = 0;
    for (const line of (readText(v2file(p, 'io.stat')) ?? '').split('\n')) {
      read += Number(/\brbytes=(\d+)/.exec(line)?.[1] ?? 0);
      write += Number(/\bwbytes=(\d+)/.exec(line)?.[1] ?? 0);
    }
    return {
      cpu: {
        usageNs: (cpu['usage_usec'] ?? 0) * 1000,
        userNs: (cpu['user_usec'] ?? 0) * 1000,
        systemNs: (cpu['system_usec'] ?? 0) * 1000,
        perCpuNs: [],
        throttledPeriods: cpu['nr_throttled'] ?? 0,
        throttledTimeNs: (cpu['throttled_usec'] ?? 0) * 1000,
      },
      memory: {
        usage: current ?? 0,
        limit: readNum(v2file(p, 'memory.max')) ?? -1,
        maxUsage: readNum(v2file(p, 'memory.peak')) ?? 0,
        cache: mem['file'] ?? 0,
        raw: mem,
      },
      pids: { current: readNum(v2file(p, 'pids.current')) ?? 0, limit: readNum(v2file(p, 'pids.max')) ?? -1 },
      blkio: { read, write },
    };
  }
  const usage = readNum(v1file(p, 'memory', 'memory.usage_in_bytes'));
  const cpuTotal = readNum(v1file(p, 'cpuacct', 'cpuacct.usage'));
  if (usage === undefined && cpuTotal === undefined) throw gone(p.v1['memory']);
  const acct = readKeyed(v1file(p, 'cpuacct', 'cpuacct.stat'));
  const throttle = readKeyed(v1file(p, 'cpu', 'cpu.stat'));
  const mem = readKeyed(v1file(p, 'memory', 'memory.stat'));
  let read = 0;
  let write = 0;
  const blk = readText(v1file(p, 'blkio', 'blkio.throttle.io_service_bytes_recursive')) ?? '';
  for (const line of blk.split('\n')) {
    const [, op, v] = line.split(' ');
    if (op === 'Read') read += Number(v);
    else if (op === 'Write') write += Number(v);
  }
  return {
    cpu: {
      usageNs: cpuTotal ?? 0,
      userNs: (acct['user'] ?? 0) * USER_HZ_NS,
      systemNs: (acct['system'] ?? 0) * USER_HZ_NS,
      perCpuNs: (readText(v1file(p, 'cpuacct', 'cpuacct.usage_percpu')) ?? '').split(' ').filter(Boolean).map(Number),
      throttledPeriods: throttle['nr_throttled'] ?? 0,
      throttledTimeNs: throttle['throttled_time'] ?? 0,
    },
    memory: {
      usage: usage ?? 0,
      limit: readNum(v1file(p, 'memory', 'memory.limit_in_bytes')) ?? -1,
      maxUsage: readNum(v1file(p, 'memory', 'memory.max_usage_in_bytes')) ?? 0,
      cache: mem['total_cache'] ?? mem['cache'] ?? 0,
      raw: mem,
    },
    pids: { current: readNum(v1file(p, 'pids', 'pids.current')) ?? 0, limit: readNum(v1file(p, 'pids', 'pids.max')) ?? -1 },
    blkio: { read, write },
  };
}

function gone(dir: string | undefined): Error {
  return Object.assign(new Error(`cgroup ${dir ?? '?'} does not exist`), { code: 'ENOENT' });
}

/** Pids in the cgroup (cgroup.procs of the pids or memory controller, or v2). */
export function cgroupProcs(p: CgroupPaths): number[] {
  const dir = p.mode === 'v2' ? p.unified : (p.v1['pids'] ?? p.v1['memory']);
  const t = dir ? readText(join(dir, 'cgroup.procs')) : undefined;
  return t ? t.split('\n').filter(Boolean).map(Number) : [];
}

/** Removes `cgroupsPath` (and any child cgroups) in every hierarchy, then its
 * parents while they are empty. A cgroup that still holds processes is left in
 * place and listed in the result. Safe to call when nothing exists. */
export async function removeCgroup(cgroupsPath: string, opts: { parents?: boolean } = {}): Promise<{ busy: string[] }> {
  const h = await hierarchies();
  const mounts = new Set([...Object.values(h.v1), ...(h.unified ? [h.unified] : [])]);
  const paths = await cgroupPaths(cgroupsPath);
  const dirs = [...Object.values(paths.v1), ...(paths.unified ? [paths.unified] : [])];
  const busy: string[] = [];
  for (const dir of new Set(dirs)) {
    const mount = [...mounts].find((m) => dir === m || dir.startsWith(m + '/'));
    if (!mount || dir === mount) continue; // never the root of a hierarchy
    if (!removeTree(dir, busy)) continue;
    if (opts.parents === false) continue;
    for (let d = dirname(dir); d !== mount && d.startsWith(mount + '/'); d = dirname(d)) {
      try {
        rmdirSync(d);
      } catch {
        break; // not empty (another container) or busy
      }
    }
  }
  return { busy };
}

/** Removes these cgroup directories (absolute, child cgroups included),
 * leaving their parents; the ones that still hold processes stay, listed. */
export function removeCgroupDirs(dirs: Iterable<string>): string[] {
  const busy: string[] = [];
  for (const dir of new Set(dirs)) if (dir.startsWith('/sys/fs/cgroup/')) removeTree(dir, busy);
  return busy;
}

/** Depth-first rmdir; cgroup dirs hold only virtual files, so rmdir is enough. */
function removeTree(dir: string, busy: string[]): boolean {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw e;
  }
  let ok = true;
  for (const e of entries) if (e.isDirectory()) ok = removeTree(join(dir, e.name), busy) && ok;
  if (!ok) return false;
  try {
    rmdirSync(dir);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return true;
    if (code === 'EBUSY' || code === 'ENOTEMPTY') {
      busy.push(dir);
      return false;
    }
    throw e;
  }
}
