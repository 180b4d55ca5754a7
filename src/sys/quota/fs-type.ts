// What filesystem a path sits on, from statfs(2)'s magic number: the quota
// backend follows from it.
import { realpath, statfs } from 'node:fs/promises';
import { readMountInfo, type MountPoint } from '../mount.ts';

const MAGIC: Record<number, string> = {
  0x9123683e: 'btrfs',
  0x58465342: 'xfs',
  0xef53: 'ext4', // ext2/3/4 share it
  0x01021994: 'tmpfs',
  0x794c7630: 'overlay',
};

export async function filesystemType(path: string): Promise<string> {
  const st = await statfs(path);
  return MAGIC[st.type] ?? `0x${st.type.toString(16)}`;
}

export interface FilesystemMount {
  /** Where the filesystem holding the path is mounted. */
  mountpoint: string;
  fstype: string;
  /** Per-mount and filesystem options together ("rw", "prjquota", …). */
  options: string[];
}

/** The mount that holds `path` (the deepest one, the last of those stacked
 * on the same place), from /proc/self/mountinfo. */
export async function mountOf(path: string): Promise<FilesystemMount | undefined> {
  const p = await realpath(path);
  let best: MountPoint | undefined;
  for (const m of await readMountInfo()) {
    const inside = m.target === '/' || p === m.target || p.startsWith(`${m.target}/`);
    if (inside && (!best || m.target.length >= best.target.length)) best = m;
  }
  if (!best) return undefined;
  return { mountpoint: best.target, fstype: best.fstype, options: [...best.options.split(','), ...best.superOptions.split(',')].filter(Boolean) };
}
