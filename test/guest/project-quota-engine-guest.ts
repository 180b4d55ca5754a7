// The guest side of test/project-quota-engine.test.ts: the whole engine on a
// project-quota data root. For each filesystem given (an XFS and an ext4
// mounted with prjquota), side by side, starts the real joeyd with its data
// root there, drives it with the real CLI as a user would (run, exec, update,
// inspect, volume create, rm), stops it with SIGTERM, and prints one line,
// `JOEY-RESULT {json}`, for the host to check: each step's exit code and
// output, the project ids and limits the filesystem holds, joeyd's log.
//
// The host bundles this file (esbuild) before booting: under TCG, loading
// tsx costs several seconds that a plain .mjs does not.
//
// Arguments: REPO TAR MOUNTPOINT… (REPO holds bin/joeyd and bin/joey, TAR is
// a busybox rootfs tarball to import).
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { basename, join } from 'node:path';
import { readMountInfo } from '../../src/sys/mount.ts';
import { run, type CmdResult } from '../lib/proc.ts';

const IMAGE = 'pq-busybox:latest';
/** A step's outcome as the host checks it: the exit code and the output's tail. */
interface Step {
  code: number;
  out: string;
  ms: number;
}

const uptime = async (): Promise<number> => Number((await readFile('/proc/uptime', 'utf8')).split(' ')[0]);

function step(r: CmdResult, started: number): Step {
  return { code: r.code, out: `${r.stdout}\n${r.stderr}`.trim().slice(-600), ms: Date.now() - started };
}

interface Joeyd {
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
async function startJoeyd(repo: string, mnt: string): Promise<Joeyd> {
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
    '--cgroup-parent', cgroupParent, '--bridge', 'none', '--iptables=false',
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
  return { child, dataRoot, cgroupParent, logFile, env: { ...process.env, JOEY_HOST: `unix://${socket}`, JOEY_CONFIG: join(scratch, 'cli') } };
}

/** SIGTERM by pid, as an init system stops it; the exit code or signal. */
async function stopJoeyd(d: Joeyd): Promise<string> {
  const exited = new Promise<string>((resolve) => d.child.once('exit', (code, signal) => resolve(String(code ?? signal))));
  process.kill(d.child.pid!, 'SIGTERM');
  const timer = setTimeout(() => d.child.kill('SIGKILL'), 30_000);
  const how = await exited;
  clearTimeout(timer);
  return how;
}

/** The log lines at warn or error, and the backend line. */
async function readLog(d: Joeyd): Promise<{ backend?: Record<string, unknown>; problems: string[] }> {
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

/** The owners with a project id recorded, and their ids. */
async function recordedIds(dataRoot: string): Promise<Record<string, number>> {
  const root = join(dataRoot, 'quota', 'project');
  const out: Record<string, number> = {};
  for (const kind of await readdir(root).catch(() => [] as string[])) {
    for (const f of await readdir(join(root, kind)).catch(() => [] as string[])) {
      if (f.endsWith('.id')) out[`${kind}/${f.slice(0, -3)}`] = Number((await readFile(join(root, kind, f), 'utf8')).trim());
    }
  }
  return out;
}

/** The hard block limit (KiB) the filesystem holds for project `id`, 0 for
 * none, read back with the filesystem's own tool. */
async function hardLimitKiB(fstype: string, mnt: string, id: number): Promise<number | string> {
  if (fstype === 'xfs') {
    // One line per project with usage or limits: "#ID used soft hard warn grace".
    const r = await run('xfs_quota', ['-x', '-c', 'report -p -n -N -b', mnt]);
    const line = r.stdout.split('\n').find((l) => l.trim().split(/\s+/)[0] === `#${id}`);
    return line ? Number(line.trim().split(/\s+/)[3]) : 0;
  }
  // repquota's CSV: "Project,BlockStatus,FileStatus,BlockUsed,BlockSoftLimit,BlockHardLimit,…".
  const r = await run('repquota', ['-P', '-n', '-O', 'csv', mnt]);
  if (r.code !== 0) return `repquota: ${r.stderr.trim()}`;
  const line = r.stdout.split('\n').find((l) => l.split(',')[0] === `#${id}`);
  return line ? Number(line.split(',')[5]) : 0;
}

/** The cgroups (cgroup v2 here) below joeyd's --cgroup-parent. */
async function cgroupsUnder(parent: string): Promise<string[]> {
  const entries = await readdir(join('/sys/fs/cgroup', parent), { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isDirectory()).map((e) => e.name);
}

const dd = (path: string, mib: number): string => `dd if=/dev/zero of=${path} bs=1M count=${mib} && sync`;

/** Never throws once joeyd is up: what was checked so far stays in the result. */
async function engineChecks(repo: string, tar: string, mnt: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const fstype = (await readMountInfo()).find((m) => m.target === mnt)?.fstype ?? '?';
  out.fstype = fstype;
  let t = Date.now();
  const d = await startJoeyd(repo, mnt);
  out.startMs = Date.now() - t;
  const joey = async (args: string[]): Promise<Step> => {
    const started = Date.now();
    return step(await run(process.execPath, [join(repo, 'bin/joey'), ...args], { env: d.env, timeoutMs: 120_000 }), started);
  };
  try {
    out.import = await joey(['import', '--change', 'CMD ["sh"]', '--change', 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin', tar, IMAGE]);
    out.limited30 = await joey(['run', '--rm', '--network', 'none', '--disk-quota', '20m', IMAGE, 'sh', '-c', dd('/f', 30)]);
    out.free30 = await joey(['run', '--rm', '--network', 'none', IMAGE, 'sh', '-c', dd('/f', 30)]);

    out.started = await joey(['run', '-d', '--name', 'pq', '--network', 'none', '--disk-quota', '20m', IMAGE, 'sleep', '1d']);
    // df first: what the container sees of its limit.
    out.running30 = await joey(['exec', 'pq', 'sh', '-c', `df -k / | tail -n 1; ${dd('/f', 30)}`]);
    out.cgroupsRunning = await cgroupsUnder(d.cgroupParent);
    out.update = await joey(['update', '--disk-quota', '40m', 'pq']);
    out.grown30 = await joey(['exec', 'pq', 'sh', '-c', dd('/f', 30)]);
    out.inspect = await joey(['inspect', '--format', '{{.Id}} {{json .Config.DiskQuota}} {{.Config.QuotaID}}', 'pq']);

    out.volumeCreate = await joey(['volume', 'create', '-o', 'size=10m', 'pqvol']);
    out.volume20 = await joey(['run', '--rm', '--network', 'none', '-v', 'pqvol:/data', IMAGE, 'sh', '-c', dd('/data/f', 20)]);

    // Removal: the ids the container and the volume had, and what is left of them.
    const ids = await recordedIds(d.dataRoot);
    out.idsBefore = ids;
    out.limitsBefore = Object.fromEntries(await Promise.all(Object.entries(ids).map(async ([o, n]) => [o, await hardLimitKiB(fstype, mnt, n)])));
    out.rm = await joey(['rm', '-f', 'pq']);
    out.volumeRm = await joey(['volume', 'rm', 'pqvol']);
    out.idsAfter = await recordedIds(d.dataRoot);
    out.limitsAfter = Object.fromEntries(await Promise.all(Object.entries(ids).map(async ([o, n]) => [o, await hardLimitKiB(fstype, mnt, n)])));
  } catch (e) {
    out.error = (e as Error).stack ?? String(e);
  } finally {
    t = Date.now();
    out.stopped = await stopJoeyd(d);
    out.stopMs = Date.now() - t;
    const log = await readLog(d);
    out.backend = log.backend;
    out.problems = log.problems;
    out.mountsLeft = (await readMountInfo()).filter((m) => m.target.startsWith(`${d.dataRoot}/`)).map((m) => m.target);
    out.cgroupsLeft = await cgroupsUnder(d.cgroupParent);
  }
  return out;
}

const [repo, tar, ...mounts] = process.argv.slice(2);
const result: Record<string, unknown> = { uptime: await uptime() };
// One joeyd per filesystem, side by side (the guest has a CPU for each).
await Promise.all(mounts.map(async (mnt) => {
  const t = Date.now();
  try {
    result[basename(mnt)] = { ...(await engineChecks(repo!, tar!, mnt)), ms: Date.now() - t };
  } catch (e) {
    result[basename(mnt)] = { error: (e as Error).stack ?? String(e) };
  }
}));
result.done = await uptime();
console.log(`JOEY-RESULT ${JSON.stringify(result)}`);
