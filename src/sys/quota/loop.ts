// Loop-mounted ext4 images: one sparse file per limited area, formatted with
// mkfs.ext4 and mounted with `mount -o loop` (which sets autoclear: the loop
// device goes with the last unmount). Growing truncates the file larger, tells
// the loop device (losetup -c) and grows the mounted filesystem (resize2fs).
import { open, rm } from 'node:fs/promises';
import { internal } from '../../errdefs/index.ts';
import { run } from '../exec.ts';
import { mount, readMountInfo, unmount } from '../mount.ts';

export interface LoopDevice {
  name: string;
  backFile: string;
}

export interface LoopSys {
  /** A new sparse image of `bytes`, formatted ext4 (with `inodes` inodes if given). */
  makeImage(path: string, bytes: number, inodes?: number): Promise<void>;
  /** Grows the image of a mounted filesystem, its loop device and the
   * filesystem (resize2fs needs CAP_SYS_RESOURCE for that); on failure the
   * image keeps its size. */
  growOnline(path: string, bytes: number): Promise<void>;
  /** Grows the image of a filesystem mounted nowhere. */
  growOffline(path: string, bytes: number): Promise<void>;
  imageSize(path: string): Promise<number | undefined>;
  mountImage(path: string, dir: string): Promise<void>;
  /** Unmounts every mount of the image's loop devices and detaches them. */
  releaseImage(path: string): Promise<void>;
  removeImage(path: string): Promise<void>;
  devices(): Promise<LoopDevice[]>;
}

async function devices(): Promise<LoopDevice[]> {
  const r = await run('losetup', ['--list', '--json', '--output', 'NAME,BACK-FILE']);
  if (r.stdout.trim() === '') return [];
  const j = JSON.parse(r.stdout) as { loopdevices?: Array<{ name: string; 'back-file': string | null }> };
  // A deleted backing file shows as "path (deleted)".
  return (j.loopdevices ?? []).map((d) => ({ name: d.name, backFile: (d['back-file'] ?? '').replace(/ \(deleted\)$/, '') }));
}

async function devicesOf(path: string): Promise<string[]> {
  return (await devices()).filter((d) => d.backFile === path).map((d) => d.name);
}

async function setSize(path: string, bytes: number): Promise<void> {
  const f = await open(path, 'a');
  try {
    await f.truncate(bytes);
  } finally {
    await f.close();
  }
}

export const realLoopSys: LoopSys = {
  async makeImage(path, bytes, inodes) {
    const f = await open(path, 'wx', 0o600);
    try {
      await f.truncate(bytes);
    } finally {
      await f.close();
    }
    // -m 0: no blocks reserved for root (the limit is the limit); no discard
    // pass over a file that is all holes anyway.
    await run('mkfs.ext4', ['-q', '-F', '-m', '0', '-E', 'nodiscard', '-L', 'joey-quota', ...(inodes ? ['-N', String(inodes)] : []), path]);
  },

  async growOnline(path, bytes) {
    const devs = await devicesOf(path);
    if (devs.length === 0) throw internal(`${path} is not attached to a loop device`);
    const before = (await realLoopSys.imageSize(path))!;
    await setSize(path, bytes);
    try {
      for (const dev of devs) {
        await run('losetup', ['--set-capacity', dev]);
        await run('resize2fs', [dev]);
      }
    } catch (e) {
      // The filesystem kept its size: so does the file (its end is unused).
      await setSize(path, before).catch(() => undefined);
      for (const dev of devs) await run('losetup', ['--set-capacity', dev], { allowFailure: true });
      throw e;
    }
  },

  async growOffline(path, bytes) {
    await setSize(path, bytes);
    // resize2fs wants a fresh check; e2fsck exits 1 when it fixed something
    // (it makes lost+found again, which joey deletes from a new image).
    const fsck = await run('e2fsck', ['-f', '-p', path], { allowFailure: true });
    if (fsck.code > 1) throw internal(`e2fsck -f -p ${path}: ${fsck.stdout.trim()} ${fsck.stderr.trim()}`.trim());
    await run('resize2fs', [path]);
  },

  async imageSize(path) {
    const f = await open(path, 'r').catch(() => undefined);
    if (!f) return undefined;
    try {
      return (await f.stat()).size;
    } finally {
      await f.close();
    }
  },

  async mountImage(path, dir) {
    await mount({ type: 'ext4', source: path, options: ['loop', 'nodev', 'nosuid'] }, dir);
  },

  async releaseImage(path) {
    const devs = await devicesOf(path);
    if (devs.length === 0) return;
    const mounts = (await readMountInfo()).filter((m) => devs.includes(m.source)).reverse();
    for (const m of mounts) {
      await unmount(m.target).catch(async () => unmount(m.target, { lazy: true }).catch(() => undefined));
    }
    // Autoclear detaches on the last unmount; a device attached without it
    // (or still busy) is detached here.
    for (const dev of await devicesOf(path)) {
      const r = await run('losetup', ['--detach', dev], { allowFailure: true });
      if (r.code !== 0 && !/No such device/i.test(r.stderr)) throw internal(`losetup --detach ${dev}: ${r.stderr.trim()}`);
    }
  },

  async removeImage(path) {
    await rm(path, { force: true });
  },

  devices,
};
