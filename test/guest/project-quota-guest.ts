// The guest side of test/project-quota.test.ts: runs the project-quota
// backend (the real one, with its real xfs_quota / chattr / setquota calls)
// against an XFS and an ext4 filesystem mounted with prjquota, and prints one
// line, `JOEY-RESULT {json}`, for the host to check. Small on purpose: node
// under TCG is slow, so no engine, only the backend and the service over it.
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ProjectBackend } from '../../src/engine/quota/project-backend.ts';
import { backendFor } from '../../src/engine/quota/select.ts';
import { DiskQuotas } from '../../src/engine/quota/service.ts';
import { mountOf } from '../../src/sys/quota/fs-type.ts';
import { realProjectSys, type ProjectFsType } from '../../src/sys/quota/project.ts';
import { mount, unmount } from '../../src/sys/mount.ts';

const MiB = 1024 * 1024;
const chunk = Buffer.alloc(MiB, 0x5a);

/** The errno's name: Node 20 calls EDQUOT "UNKNOWN" and its os.constants
 * leave it out (122 on Linux). */
function errName(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err.errno === -122 || /-122\b/.test(String(err.code))) return 'EDQUOT';
  return err.code ?? String(e);
}

/** Writes `mib` MiB to a new file; the errno code that stopped it, or 'ok'. */
function write(path: string, mib: number): string {
  rmSync(path, { force: true });
  let fd: number | undefined;
  try {
    fd = openSync(path, 'w');
    for (let i = 0; i < mib; i++) writeSync(fd, chunk);
    closeSync(fd);
    fd = undefined;
    return 'ok';
  } catch (e) {
    return errName(e);
  } finally {
    if (fd !== undefined) closeSync(fd);
    rmSync(path, { force: true });
  }
}

/** Makes empty files until one fails: how many, and why it stopped. */
function fill(dir: string, max: number): { made: number; stop: string } {
  for (let i = 0; i < max; i++) {
    try {
      closeSync(openSync(join(dir, `f${i}`), 'w'));
    } catch (e) {
      return { made: i, stop: errName(e) };
    }
  }
  return { made: max, stop: 'ok' };
}

async function check(mnt: string): Promise<Record<string, unknown>> {
  const m = (await mountOf(mnt))!;
  const out: Record<string, unknown> = { fstype: m.fstype, mountpoint: m.mountpoint, chosen: backendFor(m.fstype, m.options) };
  const backend = new ProjectBackend({ root: join(mnt, 'quota', 'project'), fs: { type: m.fstype as ProjectFsType, mountpoint: m.mountpoint }, sys: realProjectSys });
  const quotas = new DiskQuotas(backend);

  const limited = join(mnt, 'limited');
  await backend.create('containers/a', limited, { bytes: 20 * MiB });
  out.autoId = await backend.projectId('containers/a');
  const free = join(mnt, 'free');
  await mkdir(free);
  out.limited30 = write(join(limited, 'big'), 30);
  out.free30 = write(join(free, 'big'), 30);
  await backend.resize('containers/a', limited, { bytes: 40 * MiB }, { live: true });
  out.grown30 = write(join(limited, 'big'), 30);
  await backend.resize('containers/a', limited, { bytes: 10 * MiB }, { live: true });
  out.shrunk20 = write(join(limited, 'big'), 20);

  // A container's rootfs area as the engine makes it, written through overlayfs.
  const snap = join(mnt, 'snapshots', '1');
  await mkdir(snap, { recursive: true });
  await quotas.limitRootfs('c1', snap, { bytes: 20 * MiB }, 4242);
  out.explicitId = await backend.projectId('containers/c1');
  out.sameIdRefused = await backend.create('containers/c2', join(mnt, 'other'), { bytes: 20 * MiB }, { projectId: 4242 }).then(() => 'accepted', (e: Error) => e.message);
  const lower = join(mnt, 'lower');
  const merged = join(mnt, 'merged');
  await mkdir(lower);
  await mkdir(merged);
  await mount({ type: 'overlay', source: 'overlay', options: [`lowerdir=${lower}`, `upperdir=${join(snap, 'fs')}`, `workdir=${join(snap, 'work')}`] }, merged);
  out.overlay30 = write(join(merged, 'big'), 30);
  out.overlay10 = write(join(merged, 'small'), 10);
  await unmount(merged);

  const few = join(mnt, 'few');
  await backend.create('volumes/v', few, { bytes: 20 * MiB, inodes: 50 });
  out.volumeId = await backend.projectId('volumes/v');
  out.inodes = fill(few, 200);

  await backend.destroy('containers/a', limited);
  out.idFileGone = await readFile(join(mnt, 'quota', 'project', 'containers', 'a.id')).then(() => false, () => true);
  out.removed30 = write(join(limited, 'big'), 30);
  out.owners = await backend.owners();
  return out;
}

const result: Record<string, unknown> = { uptime: Number((await readFile('/proc/uptime', 'utf8')).split(' ')[0]) };
for (const mnt of process.argv.slice(2)) {
  const t = Date.now();
  try {
    result[mnt.split('/').pop()!] = { ...(await check(mnt)), ms: Date.now() - t };
  } catch (e) {
    result[mnt.split('/').pop()!] = { error: (e as Error).stack ?? String(e) };
  }
}
console.log(`JOEY-RESULT ${JSON.stringify(result)}`);
