// The btrfs backend: a subvolume per area with a qgroup limit on referenced
// bytes. qgroups count bytes only: an inode count is refused.
import { readdir, rm, rmdir } from 'node:fs/promises';
import { invalid } from '../../errdefs/index.ts';
import type { BtrfsSys } from '../../sys/quota/btrfs.ts';
import type { QuotaBackend } from './backend.ts';
import type { QuotaLimit } from './limits.ts';

export class BtrfsBackend implements QuotaBackend {
  readonly kind = 'btrfs' as const;
  readonly inodeLimits = false;
  readonly canShrink = true;
  readonly minBytes = 1024 * 1024;
  private quotaOn = false;

  /** `root` is the data root: quota is turned on for its filesystem. */
  constructor(
    private readonly root: string,
    private readonly sys: BtrfsSys,
  ) {}

  async create(_owner: string, dir: string, limit: QuotaLimit): Promise<void> {
    if (limit.inodes !== undefined) throw invalid('btrfs qgroups cannot limit inodes: give a size only');
    if (!this.quotaOn) {
      await this.sys.enableQuota(this.root);
      this.quotaOn = true;
    }
    // The directory the snapshotter or the volume service made, still empty.
    const entries = await readdir(dir).catch(() => undefined);
    if (entries && entries.length > 0) throw invalid(`cannot put a disk quota on ${dir}: it is not empty`);
    if (entries) await rmdir(dir);
    await this.sys.createSubvolume(dir);
    try {
      await this.sys.limit(dir, limit.bytes);
    } catch (e) {
      await this.destroy(_owner, dir).catch(() => undefined);
      throw e;
    }
  }

  async activate(): Promise<void> {}
  async deactivate(): Promise<void> {}

  async resize(_owner: string, dir: string, limit: QuotaLimit, _opts: { live: boolean }): Promise<void> {
    if (limit.inodes !== undefined) throw invalid('btrfs qgroups cannot limit inodes: give a size only');
    await this.sys.limit(dir, limit.bytes);
  }

  async destroy(_owner: string, dir: string): Promise<void> {
    if (!(await this.sys.isSubvolume(dir))) return;
    const id = await this.sys.subvolumeId(dir);
    await this.sys.deleteSubvolume(dir);
    await this.sys.destroyQgroup(id, this.root);
    await rm(dir, { recursive: true, force: true });
  }

  /** Areas live inside the snapshot and volume directories, which their own
   * start-up sweeps remove. */
  async owners(): Promise<string[]> {
    return [];
  }
}
