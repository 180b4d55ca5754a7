// What the host sees of a container's processes: whether a pid is still the
// same live process, namespaces, and orphaned monitors (conmon, shims).
import { readFile, readdir, readlink } from 'node:fs/promises';

export interface ProcStat {
  pid: number;
  /** R, S, D, Z, T, … */
  state: string;
  ppid: number;
  /** Start time in clock ticks since boot: with the pid, it names one process for good. */
  startTime: number;
}

/** /proc/PID/stat, or undefined if there is no such process. */
export async function procStat(pid: number): Promise<ProcStat | undefined> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (!text) return undefined;
  // The command name is in parentheses and may hold spaces: split after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { pid, state: rest[0]!, ppid: Number(rest[1]), startTime: Number(rest[19]) };
}

/** Alive and not a zombie (PID 1 on these machines reaps late). */
export async function pidAlive(pid: number): Promise<boolean> {
  if (!(pid > 0)) return false;
  const s = await procStat(pid);
  return !!s && s.state !== 'Z' && s.state !== 'X';
}

/** The command line of a process, arguments joined with spaces ('' if gone). */
export async function cmdline(pid: number): Promise<string> {
  return (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0').filter(Boolean).join(' ');
}

/** The namespace a process is in, as `readlink /proc/PID/ns/KIND` shows it (e.g. `ipc:[4026531839]`). */
export function namespaceOf(pid: number | 'self', kind: 'pid' | 'ipc' | 'uts' | 'net' | 'mnt' | 'user' | 'cgroup'): Promise<string> {
  return readlink(`/proc/${pid}/ns/${kind}`);
}

/**
 * Live processes whose parent is PID 1 and whose command line holds `text`:
 * the monitors (conmon, containerd shims) a daemon started for containers
 * under its exec root. They double-fork, so they are children of PID 1.
 */
export async function orphansMentioning(text: string): Promise<{ pid: number; cmdline: string }[]> {
  const out: { pid: number; cmdline: string }[] = [];
  for (const e of await readdir('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const pid = Number(e);
    const s = await procStat(pid);
    if (!s || s.ppid !== 1 || s.state === 'Z') continue;
    const cl = await cmdline(pid);
    if (cl.includes(text)) out.push({ pid, cmdline: cl });
  }
  return out;
}

/** The effective/bounding capability sets of a process, as the hex in /proc/PID/status. */
export async function capabilities(pid: number | 'self'): Promise<{ eff: bigint; bnd: bigint }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const get = (k: string): bigint => BigInt(`0x${new RegExp(`^${k}:\\s*([0-9a-f]+)`, 'm').exec(status)?.[1] ?? '0'}`);
  return { eff: get('CapEff'), bnd: get('CapBnd') };
}
