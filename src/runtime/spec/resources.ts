// cgroup limits: HostConfig's resource fields → OCI LinuxResources, validated
// and warned about as dockerd does. The same code serves create (a full spec)
// and `docker update` (only the fields given, for `runc update --resources -`).
import { invalid } from '../../errdefs/index.ts';
import type { HostConfig } from '../../engine/containers/types.ts';
import type { OciResources } from '../types.ts';
import { detectHost } from './host.ts';
import type { HostFacts } from './types.ts';

export const MIN_MEMORY = 6 * 1024 * 1024;
export const CFS_PERIOD = 100000; // µs; Docker's period for --cpus

type ResourceHost = Pick<HostFacts, 'cgroupV2' | 'ncpu' | 'cpusOnline' | 'memsOnline' | 'swapLimit' | 'blkioWeight' | 'cpuRealtime'>;

/** "0-2,4" → {0,1,2,4}; undefined when malformed. */
export function parseCpuList(list: string): Set<number> | undefined {
  const out = new Set<number>();
  if (list.trim() === '') return out;
  for (const part of list.split(',')) {
    const m = /^\s*(\d+)(?:-(\d+))?\s*$/.exec(part);
    if (!m) return undefined;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo || hi - lo > 65536) return undefined;
    for (let i = lo; i <= hi; i++) out.add(i);
  }
  return out;
}

function checkCpuset(value: string, online: string, what: 'cpus' | 'mems'): string {
  const want = parseCpuList(value);
  if (!want) throw invalid(`Invalid value ${value} for cpuset ${what}`);
  const have = parseCpuList(online) ?? new Set<number>();
  if ([...want].some((n) => !have.has(n))) {
    throw invalid(what === 'cpus'
      ? `Requested CPUs are not available - requested ${value}, available: ${online}`
      : `Requested memory nodes are not available - requested ${value}, available: ${online}`);
  }
  return value;
}

function int(v: number | null | undefined, field: string): number {
  if (v == null) return 0;
  if (!Number.isSafeInteger(v)) throw invalid(`${field} must be an integer, got ${JSON.stringify(v)}`);
  return v;
}

/** Validates the resource fields of `hc` and converts them. `update` follows
 * `docker update`: zero means "unchanged", PidsLimit 0/-1 means unlimited, and
 * create-only defaults (swap = 2 × memory) do not apply. */
export function buildResources(hc: HostConfig, host: ResourceHost, opts: { update?: boolean } = {}): { resources: OciResources; warnings: string[] } {
  const update = !!opts.update;
  const warnings: string[] = [];
  const memory: Record<string, unknown> = {};
  const cpu: Record<string, unknown> = {};

  // Memory
  const mem = int(hc.Memory, 'Memory');
  let swap = int(hc.MemorySwap, 'MemorySwap');
  const reservation = int(hc.MemoryReservation, 'MemoryReservation');
  if (mem < 0) throw invalid(`invalid memory limit ${mem}: must be a positive number of bytes`);
  if (mem > 0 && mem < MIN_MEMORY) throw invalid('Minimum memory limit allowed is 6MB');
  if (swap < -1) throw invalid(`invalid memory swap limit ${swap}: use -1 for unlimited swap`);
  if (!update && mem === 0 && swap > 0) throw invalid('You should always set the Memory limit when using Memoryswap limit, see usage');
  if (mem > 0 && swap > 0 && swap < mem) throw invalid('Minimum memoryswap limit should be larger than memory limit, see usage');
  if (reservation < 0) throw invalid(`invalid memory reservation ${reservation}: must be a positive number of bytes`);
  if (reservation > 0 && reservation < MIN_MEMORY) throw invalid('Minimum memory reservation allowed is 6MB');
  if (mem > 0 && reservation > mem) throw invalid('Minimum memory limit can not be less than memory reservation limit, see usage');
  if (!update && mem > 0 && swap === 0) swap = mem * 2; // Docker's default: as much swap as memory
  if (mem > 0) memory.limit = mem;
  if (reservation > 0) memory.reservation = reservation;
  if (swap !== 0) {
    if (host.swapLimit) memory.swap = swap;
    else if (swap !== -1) warnings.push('Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.');
  }
  const swappiness = hc.MemorySwappiness;
  if (swappiness != null && swappiness !== -1) {
    if (!Number.isInteger(swappiness) || swappiness < 0 || swappiness > 100) throw invalid(`Invalid value: ${swappiness}, valid memory swappiness range is 0-100`);
    if (host.cgroupV2) warnings.push('Your kernel does not support memory swappiness capabilities or the cgroup is not mounted. Memory swappiness discarded.');
    else memory.swappiness = swappiness;
  }
  if ((hc.KernelMemory ?? 0) > 0 || (hc.KernelMemoryTCP ?? 0) > 0) {
    warnings.push('Kernel memory limits (KernelMemory, KernelMemoryTCP) are deprecated and not supported by joey: discarded.');
  }
  if (!update && hc.OomKillDisable) {
    if (host.cgroupV2) warnings.push('Your kernel does not support OomKillDisable. OomKillDisable discarded.');
    else {
      memory.disableOOMKiller = true;
      if (mem === 0) warnings.push('OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.');
    }
  }

  // CPU
  const nano = int(hc.NanoCpus, 'NanoCpus');
  const period = int(hc.CpuPeriod, 'CpuPeriod');
  const quota = int(hc.CpuQuota, 'CpuQuota');
  const shares = int(hc.CpuShares, 'CpuShares');
  if (nano > 0 && period > 0) throw invalid('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (nano > 0 && quota > 0) throw invalid('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  if (nano < 0 || nano > host.ncpu * 1e9 || (nano > 0 && nano < 1e7)) {
    throw invalid(`range of CPUs is from 0.01 to ${host.ncpu}.00, as there are only ${host.ncpu} CPUs available`);
  }
  if (period !== 0 && (period < 1000 || period > 1000000)) throw invalid('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  if (quota > 0 && quota < 1000) throw invalid('CPU cfs quota can not be less than 1ms (i.e. 1000)');
  if (quota < -1) throw invalid(`invalid CPU quota ${quota}: use -1 for no quota`);
  if (shares < 0) throw invalid(`invalid CPU shares (${shares}): value must be a positive integer`);
  if (shares > 0) cpu.shares = shares;
  if (nano > 0) {
    cpu.quota = Math.floor((nano * CFS_PERIOD) / 1e9);
    cpu.period = CFS_PERIOD;
  }
  if (quota !== 0) cpu.quota = quota;
  if (period !== 0) cpu.period = period;
  const rtPeriod = int(hc.CpuRealtimePeriod, 'CpuRealtimePeriod');
  const rtRuntime = int(hc.CpuRealtimeRuntime, 'CpuRealtimeRuntime');
  if (rtPeriod > 0 && !host.cpuRealtime) throw invalid('Your kernel does not support cgroup cpu real-time period');
  if (rtRuntime > 0 && !host.cpuRealtime) throw invalid('Your kernel does not support cgroup cpu real-time runtime');
  if (rtPeriod > 0 && rtRuntime > rtPeriod) throw invalid('cpu real-time runtime cannot be higher than cpu real-time period');
  if (rtPeriod > 0) cpu.realtimePeriod = rtPeriod;
  if (rtRuntime > 0) cpu.realtimeRuntime = rtRuntime;
  if (hc.CpusetCpus) cpu.cpus = checkCpuset(hc.CpusetCpus, host.cpusOnline, 'cpus');
  if (hc.CpusetMems) cpu.mems = checkCpuset(hc.CpusetMems, host.memsOnline, 'mems');

  const resources: OciResources = {};
  if (Object.keys(memory).length) resources.memory = memory;
  if (Object.keys(cpu).length) resources.cpu = cpu;

  // pids: create leaves "unlimited" unset; update must say -1 to lift a limit.
  if (hc.PidsLimit != null) {
    const pids = int(hc.PidsLimit, 'PidsLimit');
    if (pids > 0) resources.pids = { limit: pids };
    else if (update) resources.pids = { limit: -1 };
  }

  const weight = int(hc.BlkioWeight, 'BlkioWeight');
  if (weight !== 0) {
    if (weight < 10 || weight > 1000) throw invalid('Range of blkio weight is from 10 to 1000');
    if (host.blkioWeight) resources.blockIO = { weight };
    else warnings.push('Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.');
  }
  return { resources, warnings };
}

/** OCI LinuxResources for `runc update --resources -` from a `docker update`
 * body. Warnings, if wanted, are appended to `opts.warnings`. */
export function resourcesFromHostConfig(hc: HostConfig, opts: { host?: Partial<HostFacts>; warnings?: string[] } = {}): OciResources {
  const { resources, warnings } = buildResources(hc, { ...detectHost(), ...opts.host }, { update: true });
  opts.warnings?.push(...warnings);
  return resources;
}
