// Reading /proc: liveness and identity of processes joeyd does not parent
// (conmon, container init), so that live restore can trust a stored pid.
// procfs answers from memory, so reads are synchronous (no thread-pool trip).
import { readFileSync } from 'node:fs';

export interface ProcStat {
  pid: number;
  comm: string;
  /** R, S, D, Z (zombie), T, t, X (dead), I, … */
  state: string;
  ppid: number;
  /** Start time after boot in clock ticks: (pid, startTime) names one process for the machine's uptime. */
  startTime: number;
}

/** Parses /proc/PID/stat; undefined when the process does not exist. */
export async function readProcStat(pid: number): Promise<ProcStat | undefined> {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (e) {
    if (isGone(e)) return undefined;
    throw e;
  }
  return parseProcStat(text);
}

export function parseProcStat(text: string): ProcStat | undefined {
  // comm may hold spaces and parentheses: it runs from the first '(' to the last ')'.
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const rest = text.slice(close + 2).split(' ');
  // rest[0] is field 3 (state); starttime is field 22.
  const startTime = Number(rest[19]);
  return {
    pid: Number(text.slice(0, open).trim()),
    comm: text.slice(open + 1, close),
    state: rest[0] ?? '?',
    ppid: Number(rest[1]),
    startTime,
  };
}

/** Whether `pid` runs. A zombie counts as dead: conmon is reparented to a PID 1
 * that may reap late, and kill(pid, 0) succeeds on zombies. With `startTime`,
 * a reused pid (a different process) also counts as dead. */
export async function isAlive(pid: number, startTime?: number | null): Promise<boolean> {
  const st = await readProcStat(pid);
  if (!st || st.state === 'Z' || st.state === 'X' || st.state === 'x') return false;
  return startTime === undefined || startTime === null || st.startTime === startTime;
}

/** The start time to store beside a pid (see ProcStat.startTime); null when the process is gone. */
export async function processStartTime(pid: number): Promise<number | null> {
  return (await readProcStat(pid))?.startTime ?? null;
}

/** /proc/PID/status as key → value ("State" → "S (sleeping)"); undefined when gone. */
export async function readProcStatus(pid: number): Promise<Record<string, string> | undefined> {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch (e) {
    if (isGone(e)) return undefined;
    throw e;
  }
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

/** ENOENT or ESRCH: the process went while it was read. */
export function isGone(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ESRCH';
}

/** Sends `signal` to a host process; false when it is already gone. */
export function signalProcess(pid: number, signal: NodeJS.Signals | number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, signal);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw e;
  }
}

/** A capability mask as /proc/PID/status prints it (CapBnd, CapEff, …: 16 hex digits). */
export function parseCapMask(hex: string): bigint {
  if (!/^[0-9a-fA-F]{1,16}$/.test(hex.trim())) throw new Error(`not a capability mask: ${JSON.stringify(hex)}`);
  return BigInt(`0x${hex.trim()}`);
}

let boundingCache: bigint | undefined;

/** joeyd's own capability bounding set (CapBnd of /proc/self/status), read
 * once: no container can hold a capability outside it (root in a restricted
 * environment lacks some, e.g. CAP_SYS_RESOURCE), so it is what
 * --privileged and --cap-add ALL give. */
export function daemonBoundingCaps(): bigint {
  if (boundingCache !== undefined) return boundingCache;
  const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('CapBnd:'));
  boundingCache = line ? parseCapMask(line.slice('CapBnd:'.length)) : (1n << 64n) - 1n;
  return boundingCache;
}
