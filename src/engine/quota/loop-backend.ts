// The loop backend: an ext4 image per area, <root>/<owner>.img.
import { mkdir, rmdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { failedPrecondition, invalid, messageOf, wrap } from '../../errdefs/index.ts';
import type { LoopSys } from '../../sys/quota/loop.ts';
import { ownersUnder, type QuotaBackend } from './backend.ts';
import { formatSize, type QuotaLimit } from './limits.ts';

export interface LoopBackendDeps {
  /** <data-root>/quota */
  root: string;
  sys: LoopSys;
  isMountPoint(dir: string): Promise<boolean>;
}

/** mkfs.ext4 needs room for its metadata; below this it fails or leaves nothing usable. */
const MIN_BYTES = 2 * 1024 * 1024;

export class LoopBackend implements QuotaBackend {
  readonly kind = 'loop' as const;
  readonly inodeLimits = true;
  readonly canShrink = false;
  readonly minBytes = MIN_BYTES;

  constructor(private readonly deps: LoopBackendDeps) {}

  image(owner: string): string {
    return join(this.deps.root, `${owner}.img`);
  }

  async create(owner: string, dir: string, limit: QuotaLimit): Promise<void> {
    const img = this.image(owner);
    await mkdir(dirname(img), { recursive: true, mode: 0o700 });
    await mkdir(dir, { recursive: true, mode: 0o700 });
    try {
      await this.deps.sys.makeImage(img, limit.bytes, limit.inodes);
      await this.deps.sys.mountImage(img, dir);
      // An empty volume is filled from the image; mke2fs's lost+found would
      // count as content (e2fsck makes it again when it needs it).
      await rmdir(join(dir, 'lost+found')).catch(() => undefined);
    } catch (e) {
      await this.destroy(owner, dir).catch(() => undefined);
      throw wrap(e, `making the ${formatSize(limit.bytes)} disk quota image`);
    }
  }

  async activate(owner: string, dir: string): Promise<void> {
    if (await this.deps.isMountPoint(dir)) return;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await this.deps.sys.mountImage(this.image(owner), dir);
  }

  async deactivate(owner: string, _dir: string): Promise<void> {
    await this.deps.sys.releaseImage(this.image(owner));
  }

  async resize(owner: string, dir: string, limit: QuotaLimit, opts: { live: boolean }): Promise<void> {
    if (limit.inodes !== undefined) throw invalid('the inode count of a loop-backed disk quota cannot change after create');
    const img = this.image(owner);
    const cur = await this.deps.sys.imageSize(img);
    if (cur === undefined) throw failedPrecondition(`no disk quota image for ${owner}`);
    if (limit.bytes < cur) throw invalid(`cannot shrink the disk quota from ${formatSize(cur)} to ${formatSize(limit.bytes)}: the loop backend only grows`);
    if (limit.bytes === cur) return;
    if (opts.live) {
      await this.activate(owner, dir);
      try {
        await this.deps.sys.growOnline(img, limit.bytes);
      } catch (e) {
        throw failedPrecondition(
          `cannot grow the disk quota while the container runs: ${messageOf(e).replace(/\s+/g, ' ')} (growing a mounted ext4 needs CAP_SYS_RESOURCE, which joeyd may lack; stop the container, update, start it)`,
          e,
        );
      }
      return;
    }
    await this.deps.sys.releaseImage(img);
    try {
      await this.deps.sys.growOffline(img, limit.bytes);
    } finally {
      await this.activate(owner, dir);
    }
  }

  async destroy(owner: string, _dir: string): Promise<void> {
    const img = this.image(owner);
    await this.deps.sys.releaseImage(img);
    await this.deps.sys.removeImage(img);
  }

  owners(): Promise<string[]> {
    return ownersUnder(this.deps.root, '.img');
  }
}
