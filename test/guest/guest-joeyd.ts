// What the guest-side drivers (test/guest/*-guest.ts) share: a private
// joeyd started and stopped by pid inside the QEMU guest, the joey CLI
// against it, and what it left behind. Bundled into each driver by the host.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { basename, join } from 'node:path';
import { run, type CmdResult } from '../lib/proc.ts';

export const uptime = async (): Promise<number> => Number((await readFile('/proc/uptime', 'utf8')).split(' ')[0]);

/** A step's outcome as the host checks it: the exit code and the output's tail. */
export interface Step {
  code: number;
  out: string;
  ms: number;
}

export function step(r: CmdResult, started: number): Step {
  return { code: r.code, out: `${r.stdout}\n${r.stderr}`.trim().slice(-600), ms: Date.now() - started };
}

export interface Joeyd {
  child: ChildProcess;
  dataRoot: string;
  cgroupParent: string;
  logFile: string;
  env: NodeJS.ProcessEnv;
}

function ping(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath: socket, path: '/_ping', timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/** joeyd with its data root on `mnt`, exec root and socket on the guest's
 * tmpfs, a cgroup parent of its own, and no networking beyond `none`. */
export async function startJoeyd(repo: string, mnt: string, extraArgs: string[] = []): Promise<Joeyd> {
  const name = basename(mnt);
  const scratch = join(process.env.TMPDIR ?? '/dev/shm', `joeyd-${name}`);
  const dataRoot = join(mnt, 'data');
  const execRoot = join(scratch, 'exec');
  for (const d of [dataRoot, execRoot, join(scratch, 'cli')]) await mkdir(d, { recursive: true });
  const config = join(scratch, 'daemon.json');
  await writeFile(config, '{}');
  const socket = join(scratch, 'joeyd.sock');
  const logFile = join(scratch, 'joeyd.log');
  const cgroupParent = `/joey-pq-${name}`;
  const log = createWriteStream(logFile);
  const child = spawn(process.execPath, [
    join(repo, 'bin/joeyd'),
    '--data-root', dataRoot, '--exec-root', execRoot, '-H', `unix://${socket}`,
    '--pidfile', join(scratch, 'joeyd.pid'), '--config-file', config,
    '--cgroup-parent', cgroupParent, '--bridge', 'none', '--iptables=false', ...extraArgs,
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.pipe(log, { end: false });
  child.stderr!.pipe(log, { end: false });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 60_000;
  while (!(await ping(socket))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      await exited;
      throw new Error(`joeyd did not answer /_ping:\n${await readFile(logFile, 'utf8')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  progress(`joeyd answers (pid ${child.pid})`);
  return { child, dataRoot, cgroupParent, logFile, env: { ...process.env, JOEY_HOST: `unix://${socket}`, JOEY_CONFIG: join(scratch, 'cli') } };
}

/** SIGTERM by pid, as an init system stops it; the exit code or signal. */
export async function stopJoeyd(d: Joeyd): Promise<string> {
  const exited = new Promise<string>((resolve) => d.child.once('exit', (code, signal) => resolve(String(code ?? signal))));
  process.kill(d.child.pid!, 'SIGTERM');
  const timer = setTimeout(() => d.child.kill('SIGKILL'), 30_000);
  const how = await exited;
  clearTimeout(timer);
  progress(`joeyd stopped: ${how}`);
  return how;
}

/** The log lines at warn or error, and the backend line. */
export async function readLog(d: Joeyd): Promise<{ backend?: Record<string, unknown>; problems: string[] }> {
  const out: { backend?: Record<string, unknown>; problems: string[] } = { problems: [] };
  for (const line of (await readFile(d.logFile, 'utf8')).split('\n')) {
    let j: Record<string, unknown>;
    try {
      j = JSON.parse(line) as Record<string, unknown>;
    } catch {
      if (line.trim()) out.problems.push(line);
      continue;
    }
    if (j.msg === 'disk quota backend') out.backend = j;
    else if (j.level === 'warn' || j.level === 'error') out.problems.push(line.slice(0, 600));
  }
  return out;
}

/** The cgroups (cgroup v2 here) below joeyd's --cgroup-parent. */
export async function cgroupsUnder(parent: string): Promise<string[]> {
  const entries = await readdir(join('/sys/fs/cgroup', parent), { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isDirectory()).map((e) => e.name);
}


/** A line on the guest's console, which the host shows when a run fails. */
export function progress(msg: string): void {
  process.stdout.write(`joey-guest: ${msg}\n`);
}

/** What the guest is doing: every process with its state and kernel wait
 * channel, the kernel stacks of those blocked in D state, and the tail of
 * joeyd's log; for a step that did not finish. */
export async function snapshot(d: Joeyd): Promise<string> {
  const ps = await run('ps', ['-eo', 'pid,ppid,stat,wchan:24,etimes,args', '--forest'], { timeoutMs: 10_000 });
  const rows = ps.stdout.split('\n').filter(Boolean).map((l) => ({ l, f: l.trim().split(/\s+/) }));
  const stuck = rows.filter((r) => r.f[2]?.startsWith('D')).map((r) => r.f[0]!);
  // Kernel threads only when blocked.
  const shown = rows.filter((r) => (r.f[0] !== '2' && r.f[1] !== '2') || r.f[2]?.startsWith('D')).map((r) => r.l);
  const stacks = await Promise.all(stuck.map(async (pid) => `${pid}:\n${await readFile(`/proc/${pid}/stack`, 'utf8').catch((e: Error) => e.message)}`));
  const log = (await readFile(d.logFile, 'utf8').catch(() => '')).split('\n').slice(-25).join('\n');
  return `processes:\n${shown.join('\n')}\n${stacks.length ? `\nblocked in the kernel:\n${stacks.join('\n')}` : ''}\njoeyd's log, last lines:\n${log}`;
}

/** A step that ran out of time: what the guest was doing, on the console and
 * in the error the driver reports. */
export class StepTimeout extends Error {}

/** A runner of the real joey CLI against `d`. Each step is said on the
 * console as it ends; one that takes over `timeoutMs` is killed and throws
 * StepTimeout with a snapshot of the guest, so a wedged joeyd ends the run
 * with the reason instead of every later step waiting out its own timeout. */
export function joeyCli(repo: string, d: Joeyd, timeoutMs = 60_000): (args: string[]) => Promise<Step> {
  return async (args) => {
    const started = Date.now();
    const r = await run(process.execPath, [join(repo, 'bin/joey'), ...args], { env: d.env, timeoutMs });
    const s = step(r, started);
    const what = `joey ${args.slice(0, 4).join(' ')}`;
    progress(`${what}: exit ${s.code}, ${s.ms} ms`);
    if (s.ms >= timeoutMs) {
      const snap = await snapshot(d);
      progress(`${what} did not end in ${timeoutMs} ms; ${snap}`);
      throw new StepTimeout(`${what} did not end in ${timeoutMs} ms; ${snap}`);
    }
    return s;
  };
}
