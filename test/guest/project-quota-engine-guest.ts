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
import { readFile, readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { readMountInfo } from '../../src/sys/mount.ts';
import { run } from '../lib/proc.ts';
import { cgroupsUnder, joeyCli, readLog, startJoeyd, stopJoeyd, uptime } from './guest-joeyd.ts';

const IMAGE = 'pq-busybox:latest';

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

const dd = (path: string, mib: number): string => `dd if=/dev/zero of=${path} bs=1M count=${mib} && sync`;

/** Never throws once joeyd is up: what was checked so far stays in the result. */
async function engineChecks(repo: string, tar: string, mnt: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const fstype = (await readMountInfo()).find((m) => m.target === mnt)?.fstype ?? '?';
  out.fstype = fstype;
  let t = Date.now();
  const d = await startJoeyd(repo, mnt);
  out.startMs = Date.now() - t;
  const joey = joeyCli(repo, d);
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
