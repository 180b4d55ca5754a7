// Killing a process and everything it started, by pid: an exec that ran out
// of time (`sh -c 'a; b'` waits in sh while b runs as its child). Processes
// are found through their parent links in /proc, never by name.
import { readdirSync, readFileSync } from 'node:fs';
import { parseProcStat, signalProcess, type ProcStat } from './proc.ts';

/** What the walk needs from the system; the real one reads /proc. */
export interface ProcTable {
  /** Every process now (pid, ppid, start time). */
  list(): ProcStat[];
  /** Returns false when the process is gone. */
  signal(pid: number, signal: 'SIGSTOP' | 'SIGKILL'): boolean;
}

export const hostProcTable: ProcTable = {
  list() {
    const out: ProcStat[] = [];
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      try {
        const st = parseProcStat(readFileSync(`/proc/${name}/stat`, 'utf8'));
        if (st) out.push(st);
      } catch {
        // gone while we looked
      }
    }
    return out;
  },
  signal: (pid, signal) => signalProcess(pid, signal),
};

/** Most passes of the walk: each catches the children forked before their
 * parent's stop took effect. A tree still growing after this many is killed
 * as far as it was found. */
const MAX_PASSES = 50;

/** Stopped, traced, or already dead: it forks no more. */
const settled = (state: string) => state === 'T' || state === 't' || state === 'Z' || state === 'X' || state === 'x';

/**
 * SIGKILLs the process (`pid`, started at `startTime` as /proc/PID/stat
 * counts it: a reused pid is left alone) and its descendants. The tree is
 * first stopped (SIGSTOP) and walked again until every process found is
 * stopped and no new child appears, so that nothing forks or is reparented
 * away meanwhile; then each is killed. Returns the pids killed: none when
 * the process has already gone.
 */
export async function killProcessTree(pid: number, startTime: number, table: ProcTable = hostProcTable): Promise<number[]> {
  const found = new Map<number, number>(); // pid → start time
  const root = table.list().find((p) => p.pid === pid);
  if (!root || root.startTime !== startTime || root.state === 'Z') return [];
  if (!table.signal(pid, 'SIGSTOP')) return [];
  found.set(pid, startTime);
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    const procs = table.list();
    let added = false;
    // Parents need not come before their children in the listing: sweep
    // until a sweep adds nothing.
    for (let grew = true; grew; ) {
      grew = false;
      for (const p of procs) {
        if (found.has(p.pid) || !found.has(p.ppid) || p.startTime < (found.get(p.ppid) ?? 0)) continue;
        if (!table.signal(p.pid, 'SIGSTOP')) continue;
        found.set(p.pid, p.startTime);
        grew = added = true;
      }
    }
    const still = procs.some((p) => found.get(p.pid) === p.startTime && !settled(p.state));
    if (!added && !still) break;
    // A stop takes effect when the process next runs: give it the chance.
    await new Promise((r) => setTimeout(r, 1));
  }
  // Killed only if still the process that was found (a stopped process
  // cannot exit by itself, but a kill from elsewhere could free the pid).
  const now = new Map(table.list().map((p) => [p.pid, p.startTime]));
  const killed: number[] = [];
  for (const [p, t] of found) {
    if (now.get(p) === t && table.signal(p, 'SIGKILL')) killed.push(p);
  }
  return killed;
}
