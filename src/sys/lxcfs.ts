// lxcfs: starting it (detached, so that it outlives joeyd as the containers
// do), telling whether its FUSE mount answers, and binding its files into a
// running container again after a restart (joey-nsmount, see
// src/sys/native/joey-nsmount.c).
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { internal, unavailable } from '../errdefs/index.ts';
import { run } from './exec.ts';
import { nativeProgram } from './native.ts';
import { isAlive } from './proc.ts';

/** The files a container sees from lxcfs: [path under the lxcfs home, path in the container]. */
export const LXCFS_FILES: ReadonlyArray<readonly [string, string]> = [
  ...['meminfo', 'cpuinfo', 'stat', 'uptime', 'diskstats', 'swaps', 'loadavg'].map((f) => [`proc/${f}`, `/proc/${f}`] as const),
  ['sys/devices/system/cpu/online', '/sys/devices/system/cpu/online'],
];

/** up: the mount answers; down: a mount whose daemon is gone (ENOTCONN);
 * absent: nothing mounted there. */
export type LxcfsState = 'up' | 'down' | 'absent';

export async function lxcfsState(home: string): Promise<LxcfsState> {
  try {
    return (await stat(join(home, 'proc/meminfo'))).isFile() ? 'up' : 'absent';
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTCONN' || code === 'ECONNABORTED') return 'down';
    return 'absent';
  }
}

/** The device number of the mount at home: a new lxcfs mount gets a new one. */
export async function mountDevice(home: string): Promise<number | undefined> {
  return (await stat(home).catch(() => undefined))?.dev;
}

/** The pid in lxcfs's pid file, when that process runs. */
export async function lxcfsPid(pidfile: string): Promise<number | undefined> {
  const pid = Number((await readFile(pidfile, 'utf8').catch(() => '')).trim());
  return pid > 0 && (await isAlive(pid)) ? pid : undefined;
}

/** Starts `binary -f -l --enable-cfs -p pidfile home` in its own session and
 * waits (up to timeoutMs) until its files answer. Returns its pid. */
export async function startLxcfs(o: { binary: string; home: string; pidfile: string; logFile: string; timeoutMs?: number }): Promise<number> {
  const out = openSync(o.logFile, 'a', 0o600);
  let exited: string | undefined;
  let child;
  try {
    child = spawn(o.binary, ['-f', '-l', '--enable-cfs', '-p', o.pidfile, o.home], { detached: true, stdio: ['ignore', out, out] });
  } finally {
    closeSync(out);
  }
  child.on('error', (e) => (exited = e.message));
  child.on('exit', (code, signal) => (exited = `exited with ${code ?? signal}`));
  child.unref();
  const deadline = Date.now() + (o.timeoutMs ?? 10_000);
  while (Date.now() < deadline) {
    if ((await lxcfsState(o.home)) === 'up') return child.pid!;
    if (exited !== undefined) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  if (exited === undefined && child.pid) {
    try {
      process.kill(child.pid, 'SIGTERM');
    } catch {
      // gone
    }
  }
  const tail = (() => {
    try {
      return readFileSync(o.logFile, 'utf8').trim().split('\n').slice(-3).join('; ');
    } catch {
      return '';
    }
  })();
  throw unavailable(`lxcfs did not come up at ${o.home} (${exited ?? 'timed out'})${tail ? `: ${tail}` : ''}`);
}

/** Binds the lxcfs files of `home` over their places in the mount namespace of `pid`. */
export async function bindLxcfsInto(pid: number, home: string): Promise<void> {
  const prog = nativeProgram('joey-nsmount');
  if (!prog) throw unavailable('joey-nsmount was not built (make build needs a C compiler): cannot restore lxcfs files in running containers');
  const r = await run(prog, [String(pid), ...LXCFS_FILES.map(([src, dst]) => `${join(home, src)}:${dst}`)], { allowFailure: true });
  if (r.code !== 0) throw internal(`restoring lxcfs files in process ${pid}: ${r.stderr.trim() || `exit ${r.code}`}`);
}
