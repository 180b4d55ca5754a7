// Memory of process trees, from /proc: the same accounting for every engine.
// A container costs its own processes plus the monitor its engine put above
// it (conmon, containerd-shim); a daemon costs its process tree minus those.
import { readFileSync, readdirSync } from 'node:fs';

export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** the command name, for the report only (processes are found by parentage) */
  comm: string;
}

/** Every process on the host: pid → its parent and name. */
export function processTable(): Map<number, ProcessInfo> {
  const table = new Map<number, ProcessInfo>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const fields = stat.slice(close + 2).split(' ');
      table.set(Number(d), { pid: Number(d), ppid: Number(fields[1]), comm: stat.slice(stat.indexOf('(') + 1, close) });
    } catch {
      /* exited meanwhile */
    }
  }
  return table;
}

/** root and all its descendants. */
export function subtree(table: Map<number, ProcessInfo>, root: number): number[] {
  const children = new Map<number, number[]>();
  for (const p of table.values()) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p.pid]);
  const out: number[] = [];
  const stack = table.has(root) ? [root] : [];
  while (stack.length > 0) {
    const p = stack.pop() as number;
    out.push(p);
    stack.push(...(children.get(p) ?? []));
  }
  return out;
}

export interface Memory {
  /** resident set, KiB */
  rssKiB: number;
  /** proportional set (shared pages divided among the processes that map them), KiB */
  pssKiB: number;
}

/** Rss and Pss of one process from /proc/PID/smaps_rollup (zeros when it is gone). */
export function memoryOf(pid: number): Memory {
  try {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
    return { rssKiB: kib('Rss'), pssKiB: kib('Pss') };
  } catch {
    return { rssKiB: 0, pssKiB: 0 };
  }
}

export function sumMemory(pids: Iterable<number>): Memory {
  let rssKiB = 0;
  let pssKiB = 0;
  for (const p of pids) {
    const m = memoryOf(p);
    rssKiB += m.rssKiB;
    pssKiB += m.pssKiB;
  }
  return { rssKiB, pssKiB };
}

export interface Accounting {
  daemon: Memory & { pids: number; comms: Record<string, number> };
  containers: Memory & { pids: number; comms: Record<string, number> };
  /** containers whose process was not found (pid 0 or gone) */
  missing: number;
  /** distinct monitors (one per container expected) */
  monitors: number;
}

const countComms = (table: Map<number, ProcessInfo>, pids: Iterable<number>) => {
  const out: Record<string, number> = {};
  for (const p of pids) {
    const c = table.get(p)?.comm ?? '?';
    out[c] = (out[c] ?? 0) + 1;
  }
  return out;
};

/**
 * Splits the processes the engine runs into the daemon's and the containers'.
 * For each container (its main pid from the engine's inspect): its parent is
 * its monitor unless that is pid 1, one of daemonPids or this script; the
 * container costs the monitor's whole subtree (the monitor, the container's
 * processes, anything else the monitor started), or the container's own
 * subtree when its parent is pid 1 or the daemon itself. The daemon costs the subtrees of
 * daemonPids minus what was counted for containers.
 */
export function account(containerPids: number[], daemonPids: number[]): Accounting {
  const table = processTable();
  const daemonTree = new Set(daemonPids.flatMap((p) => subtree(table, p)));
  const perContainer = new Set<number>();
  const monitors = new Set<number>();
  let missing = 0;
  for (const pid of containerPids) {
    const proc = pid > 0 ? table.get(pid) : undefined;
    if (!proc) {
      missing++;
      continue;
    }
    const parent = proc.ppid;
    // a monitor the daemon forked and kept as its child counts as the container's too
    const hasMonitor = parent > 1 && parent !== process.pid && !daemonPids.includes(parent);
    if (hasMonitor) monitors.add(parent);
    for (const p of subtree(table, hasMonitor ? parent : pid)) perContainer.add(p);
  }
  const daemonOnly = [...daemonTree].filter((p) => !perContainer.has(p));
  return {
    daemon: { ...sumMemory(daemonOnly), pids: daemonOnly.length, comms: countComms(table, daemonOnly) },
    containers: { ...sumMemory(perContainer), pids: perContainer.size, comms: countComms(table, perContainer) },
    missing,
    monitors: monitors.size,
  };
}
