// Killing a process and everything it started, by pid: an exec that ran out
// of time (`sh -c 'a; b'` waits in sh while b runs as its child). Processes
// are found through their parent links in /proc, never by name; only the
// tree is read, not every process of the host.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { isGone, readProcStat, signalProcess, type ProcStat } from './proc.ts';

/** What the walk needs from the system; the real one reads /proc. */
export interface ProcTable {
  /** The process now; undefined when it is gone. */
  stat(pid: number): Promise<ProcStat | undefined>;
  /** The pids of the processes it (any of its threads) forked and still parents. */
  children(pid: number): Promise<number[]>;
  /** Returns false when the process is gone. */
  signal(pid: number, signal: 'SIGSTOP' | 'SIGKILL'): boolean;
}

/** Kernels without CONFIG_PROC_CHILDREN have no task/TID/children files. */
let childrenFiles: boolean | undefined;

export const hostProcTable: ProcTable = {
  stat: (pid) => readProcStat(pid),
  async children(pid) {
    childrenFiles ??= existsSync(`/proc/${process.pid}/task/${process.pid}/children`);
    if (!childrenFiles) return scanForChildren(pid);
    const out = new Set<number>();
    for (const tid of orNone(() => readdirSync(`/proc/${pid}/task`))) {
      for (const c of orNone(() => readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' '))) if (c.trim()) out.add(Number(c));
    }
    return [...out];
  },
  signal: (pid, signal) => signalProcess(pid, signal),
};

/** `read()`, or nothing when the process (or thread) went meanwhile. */
function orNone<T>(read: () => T[]): T[] {
  try {
    return read();
  } catch (e) {
    if (isGone(e)) return [];
    throw e;
  }
}

/** Without the children files: every process's parent link. */
async function scanForChildren(pid: number): Promise<number[]> {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    if ((await readProcStat(Number(name)))?.ppid === pid) out.push(Number(name));
  }
  return out;
}

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
 * away meanwhile; then each is killed, also when the walk failed (no process
 * is left stopped). Returns the pids killed: none when the process has
 * already gone.
 */
export async function killProcessTree(pid: number, startTime: number, table: ProcTable = hostProcTable): Promise<number[]> {
  const root = await table.stat(pid);
  if (!root || root.startTime !== startTime || root.state === 'Z') return [];
  if (!table.signal(pid, 'SIGSTOP')) return [];
  const found = new Map<number, number>([[pid, startTime]]); // pid → start time
  let failure: { error: unknown } | undefined;
  try {
    await stopDescendants(found, table);
  } catch (error) {
    failure = { error };
  }
  // Killed only if still the process that was found (a stopped process
  // cannot exit by itself, but a kill from elsewhere could free the pid).
  const killed: number[] = [];
  for (const [p, t] of found) {
    try {
      if ((await table.stat(p))?.startTime === t && table.signal(p, 'SIGKILL')) killed.push(p);
    } catch (error) {
      failure ??= { error };
    }
  }
  if (failure) throw failure.error;
  return killed;
}

/** Stops the descendants of the (stopped) processes in `found`, adding them. */
async function stopDescendants(found: Map<number, number>, table: ProcTable): Promise<void> {
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    let added = false;
    let still = false;
    // A Map's iteration reaches the entries added during it: what this pass
    // stops is walked in it too.
    for (const [parent, started] of found) {
      const st = await table.stat(parent);
      // Gone, or its pid is another process's now: what that one started is not ours.
      if (!st || st.startTime !== started) continue;
      if (!settled(st.state)) still = true;
      for (const c of await table.children(parent)) {
        if (found.has(c)) continue;
        const cs = await table.stat(c);
        if (!cs || cs.ppid !== parent || cs.startTime < started) continue;
        if (!table.signal(c, 'SIGSTOP')) continue;
        found.set(c, cs.startTime);
        added = true;
      }
    }
    if (!added && !still) return;
    // A stop takes effect when the process next runs: give it the chance.
    await new Promise((r) => setTimeout(r, 1));
  }
}
