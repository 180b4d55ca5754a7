// btrfs subvolumes and qgroups, through btrfs(8).
import { run } from '../exec.ts';

export interface BtrfsSys {
  createSubvolume(dir: string): Promise<void>;
  deleteSubvolume(dir: string): Promise<void>;
  isSubvolume(dir: string): Promise<boolean>;
  /** The subvolume id of `dir` (its level-0 qgroup is 0/<id>). */
  subvolumeId(dir: string): Promise<number>;
  /** Turns quota on for the filesystem holding `path` (harmless when it is on). */
  enableQuota(path: string): Promise<void>;
  /** Limits the referenced bytes of the subvolume at `dir`. */
  limit(dir: string, bytes: number): Promise<void>;
  destroyQgroup(id: number, path: string): Promise<void>;
}

export const realBtrfsSys: BtrfsSys = {
  async createSubvolume(dir) {
    await run('btrfs', ['subvolume', 'create', dir]);
  },
  async deleteSubvolume(dir) {
    await run('btrfs', ['subvolume', 'delete', dir]);
  },
  async isSubvolume(dir) {
    const r = await run('btrfs', ['inspect-internal', 'rootid', dir], { allowFailure: true });
    if (r.code !== 0) return false;
    // The top-level subvolume is 5; any other that `dir` is the root of.
    const parent = await run('btrfs', ['inspect-internal', 'rootid', `${dir}/..`], { allowFailure: true });
    return parent.code === 0 && parent.stdout.trim() !== r.stdout.trim();
  },
  async subvolumeId(dir) {
    return Number((await run('btrfs', ['inspect-internal', 'rootid', dir])).stdout.trim());
  },
  async enableQuota(path) {
    await run('btrfs', ['quota', 'enable', path]);
  },
  async limit(dir, bytes) {
    await run('btrfs', ['qgroup', 'limit', String(bytes), dir]);
  },
  async destroyQgroup(id, path) {
    await run('btrfs', ['qgroup', 'destroy', `0/${id}`, path], { allowFailure: true });
  },
};
