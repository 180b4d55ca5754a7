// CPUs for lxcfs containers with a CPU quota. lxcfs makes /proc/cpuinfo and
// /sys/devices/system/cpu/online show ceil(quota / period) CPUs, but nproc,
// os.cpus()-style counts in many runtimes and glibc's sched_getaffinity-based
// counts read the scheduler's affinity mask, which a CFS quota leaves at
// every CPU. So, unless the container names its own cpuset, joeyd gives it
// a cpuset of that many CPUs, the ones the fewest other lxcfs containers are
// pinned to (ties: the lowest numbers), and every count agrees. The quota
// still caps the time; the cpuset only says where it runs.
// (--lxcfs-pin-cpus=false turns this off.)
import { readFile } from 'node:fs/promises';
import { parseCpuList } from '../runtime/spec/resources.ts';

/** How many CPUs a quota is worth, as lxcfs counts them (rounded up). */
export function cpusForQuota(quota: number, period: number): number {
  if (!(quota > 0) || !(period > 0)) return Infinity;
  return Math.max(1, Math.ceil(quota / period));
}

/** `n` of the `online` CPUs, the least loaded first (ties: lowest number), sorted. */
export function pickCpus(online: readonly number[], n: number, load: ReadonlyMap<number, number>): number[] {
  const order = [...online].sort((a, b) => (load.get(a) ?? 0) - (load.get(b) ?? 0) || a - b);
  return order.slice(0, n).sort((a, b) => a - b);
}

/** [0,1,2,4] → "0-2,4". */
export function formatCpuList(cpus: readonly number[]): string {
  const sorted = [...new Set(cpus)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** The CPUs a process may run on (Cpus_allowed_list); undefined when it is gone. */
export async function allowedCpus(pid: number): Promise<number[] | undefined> {
  try {
    const m = /^Cpus_allowed_list:\s*(\S*)/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
    const set = m ? parseCpuList(m[1]!) : undefined;
    return set ? [...set] : undefined;
  } catch {
    return undefined;
  }
}

export interface PinnedUser {
  id: string;
  pid: number;
}

/** Picks are remembered until the container's process shows them (or this long). */
const PENDING_MS = 60_000;

export class CpuPinner {
  /** Picks for containers being started, whose process is not there yet. */
  private readonly pending = new Map<string, { cpus: number[]; at: number }>();

  constructor(
    private readonly online: () => number[],
    private readonly users: () => PinnedUser[],
    private readonly cpusOf: (pid: number) => Promise<number[] | undefined> = allowedCpus,
    private readonly now: () => number = Date.now,
  ) {}

  /** The cpuset for container `id` with this quota: a list of
   * ceil(quota/period) CPUs, or every online CPU when the quota is worth
   * as many or there is none. */
  async cpusFor(id: string, quota: number, period: number): Promise<string> {
    const online = this.online();
    const n = cpusForQuota(quota, period);
    if (n >= online.length) {
      this.pending.delete(id);
      return formatCpuList(online);
    }
    const load = new Map<number, number>();
    const count = (cpus: number[]) => {
      for (const c of cpus) load.set(c, (load.get(c) ?? 0) + 1);
    };
    const running = this.users().filter((u) => u.id !== id);
    const seen = new Set(running.map((u) => u.id));
    for (const cpus of await Promise.all(running.map((u) => this.cpusOf(u.pid)))) if (cpus) count(cpus);
    const t = this.now();
    for (const [other, p] of this.pending) {
      if (seen.has(other) || t - p.at > PENDING_MS) this.pending.delete(other);
      else if (other !== id) count(p.cpus);
    }
    const cpus = pickCpus(online, n, load);
    this.pending.set(id, { cpus, at: t });
    return formatCpuList(cpus);
  }
}
