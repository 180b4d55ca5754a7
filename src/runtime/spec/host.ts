// Facts about the host the spec depends on, read once per daemon. Every read
// has a fallback: a missing file means "not supported", never a crash.
import { existsSync, lstatSync, readFileSync, readdirSync, type BigIntStats } from 'node:fs';
import { availableParallelism, hostname, release } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { daemonBoundingCaps } from '../../sys/proc.ts';
import { capabilitiesInMask } from './capabilities.ts';
import { ULIMIT_NAMES, type HostFacts, type HostLimits, type OciDevice, type UlimitName } from './types.ts';

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Linux dev_t → major/minor (glibc's gnu_dev_major/minor). */
export function splitDev(rdev: bigint): { major: number; minor: number } {
  const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & 0xfffff000n));
  const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & 0xffffff00n));
  return { major, minor };
}

export function deviceFromStat(path: string, st: BigIntStats): OciDevice | undefined {
  let type: OciDevice['type'];
  if (st.isCharacterDevice()) type = 'c';
  else if (st.isBlockDevice()) type = 'b';
  else return undefined;
  return { path, type, ...splitDev(st.rdev), fileMode: Number(st.mode & 0o7777n), uid: Number(st.uid), gid: Number(st.gid) };
}

// As runc's HostDevices: these hold per-mount or per-container nodes.
const SKIP_DIRS = new Set(['pts', 'shm', 'fd', 'mqueue', '.lxc', '.lxd-mounts', '.udev']);

/** Every character and block device under `dir` (symlinks not followed). */
export function listHostDevices(dir = '/dev'): OciDevice[] {
  const out: OciDevice[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names.sort()) {
    const p = join(dir, name);
    let st: BigIntStats;
    try {
      st = lstatSync(p, { bigint: true });
    } catch {
      continue; // vanished while walking
    }
    if (st.isDirectory()) {
      if (!SKIP_DIRS.has(name)) out.push(...listHostDevices(p));
      continue;
    }
    if (p === '/dev/console') continue; // runc sets up the container's own
    const d = deviceFromStat(p, st);
    if (d) out.push(d);
  }
  return out;
}

/** Whether this kernel has the x32 ABI: false only when its build config
 * (/proc/config.gz, or /boot/config-RELEASE) says it was left out. A
 * seccomp filter without SCMP_ARCH_X32 compiles in about two thirds of the
 * time (runc builds it at every container start), and on such a kernel no
 * x32 process can exist to be treated differently. */
export function kernelHasX32(config: string | undefined): boolean {
  return config === undefined || !/^# CONFIG_X86_X32_ABI is not set$/m.test(config);
}

function kernelConfig(): string | undefined {
  try {
    return gunzipSync(readFileSync('/proc/config.gz')).toString('latin1');
  } catch {
    return read(`/boot/config-${release()}`);
  }
}

let cached: HostFacts | undefined;

export function detectHost(): HostFacts {
  if (cached) return cached;
  const cgroupV2 = existsSync('/sys/fs/cgroup/cgroup.controllers');
  const controllers = cgroupV2 ? (read('/sys/fs/cgroup/cgroup.controllers') ?? '').split(/\s+/) : [];
  const cpusOnline = (cgroupV2 ? read('/sys/fs/cgroup/cpuset.cpus.effective') : read('/sys/fs/cgroup/cpuset/cpuset.cpus')) || read('/sys/devices/system/cpu/online') || `0-${availableParallelism() - 1}`;
  const memsOnline = (cgroupV2 ? read('/sys/fs/cgroup/cpuset.mems.effective') : read('/sys/fs/cgroup/cpuset/cpuset.mems')) || read('/sys/devices/system/node/online') || '0';
  const capLastCap = Number(read('/proc/sys/kernel/cap_last_cap') ?? 40);
  cached = {
    cgroupV2,
    capLastCap,
    capBounding: capabilitiesInMask(daemonBoundingCaps(), capLastCap),
    ncpu: availableParallelism(),
    cpusOnline,
    memsOnline,
    kernel: release(),
    arch: process.arch,
    x32: process.arch === 'x64' ? kernelHasX32(kernelConfig()) : false,
    hostname: hostname(),
    swapLimit: cgroupV2 ? controllers.includes('memory') : existsSync('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes'),
    blkioWeight: cgroupV2
      ? controllers.includes('io')
      : existsSync('/sys/fs/cgroup/blkio/blkio.weight') || existsSync('/sys/fs/cgroup/blkio/blkio.bfq.weight'),
    cpuRealtime: !cgroupV2 && existsSync('/sys/fs/cgroup/cpu/cpu.rt_runtime_us'),
    hostDevices: () => listHostDevices('/dev'),
  };
  return cached;
}

// /proc/self/limits row titles, for the names Docker uses.
const LIMIT_ROWS: Record<UlimitName, string> = {
  cpu: 'Max cpu time', fsize: 'Max file size', data: 'Max data size', stack: 'Max stack size',
  core: 'Max core file size', rss: 'Max resident set', nproc: 'Max processes', nofile: 'Max open files',
  memlock: 'Max locked memory', as: 'Max address space', locks: 'Max file locks',
  sigpending: 'Max pending signals', msgqueue: 'Max msgqueue size', nice: 'Max nice priority',
  rtprio: 'Max realtime priority', rttime: 'Max realtime timeout',
};

/** The daemon's hard limits from /proc/self/limits (Infinity = unlimited). */
export function readHostLimits(text = read('/proc/self/limits') ?? ''): HostLimits {
  const out: Partial<Record<`${UlimitName}Hard`, number>> = {};
  for (const name of ULIMIT_NAMES) {
    const row = text.split('\n').find((l) => l.startsWith(LIMIT_ROWS[name]));
    const cols = row?.slice(LIMIT_ROWS[name].length).trim().split(/\s+/);
    if (!cols || cols.length < 2) continue;
    out[`${name}Hard`] = cols[1] === 'unlimited' ? Infinity : Number(cols[1]);
  }
  return { nofileHard: Infinity, ...out };
}
