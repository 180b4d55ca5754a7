// The benchmarks' cgroup parent, /joey-bench-<pid>: every engine puts its
// containers below it (/joey-bench-<pid>/<engine>), and it is removed from
// every mounted hierarchy at the end (cgroup v1, hybrid or v2).
import { existsSync, readFileSync, readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Mount points of the cgroup hierarchies (v1 controllers and cgroup2), from /proc/self/mountinfo. */
export function cgroupMounts(): string[] {
  const out = new Set<string>();
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [pre, post] = line.split(' - ');
    const fstype = post?.split(' ')[0];
    const mp = pre?.split(' ')[4];
    if (mp && (fstype === 'cgroup' || fstype === 'cgroup2')) out.add(mp);
  }
  return [...out];
}

/** `path` and the directories below it in every hierarchy, deepest first. */
export function cgroupDirs(path: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    out.push(d);
    for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(join(d, e.name));
  };
  for (const m of cgroupMounts()) {
    const root = join(m, path);
    if (existsSync(root)) walk(root);
  }
  return out.sort((a, b) => b.split('/').length - a.split('/').length);
}

/** Pids in path or below it, in any hierarchy. */
export function cgroupPids(path: string): number[] {
  const pids = new Set<number>();
  for (const d of cgroupDirs(path)) {
    let procs = '';
    try {
      procs = readFileSync(join(d, 'cgroup.procs'), 'utf8');
    } catch {
      /* removed meanwhile */
    }
    for (const p of procs.split('\n').filter(Boolean)) pids.add(Number(p));
  }
  return [...pids];
}

/**
 * Removes path and everything below it in every hierarchy; processes still in
 * it (containers whose engine failed) are SIGKILLed first. Returns the
 * directories it could not remove.
 */
export async function removeCgroupTree(path: string): Promise<string[]> {
  for (let i = 0; i < 50; i++) {
    const pids = cgroupPids(path);
    if (pids.length === 0) break;
    for (const p of pids) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await sleep(100);
  }
  const left: string[] = [];
  for (const d of cgroupDirs(path)) {
    let ok = false;
    // a cgroup whose last task just died can stay busy for a moment
    for (let i = 0; i < 20 && !ok; i++) {
      try {
        rmdirSync(d);
        ok = true;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') ok = true;
        else await sleep(50);
      }
    }
    if (!ok) left.push(d);
  }
  return left;
}
