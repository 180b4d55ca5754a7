// The classic builder's layer cache: (parent image, step) → the image the
// step made, in the build_cache table (schema.ts, migration 7). A step is its
// instruction as dispatched (with build args, and for COPY/ADD a checksum of
// the files). A removed image takes its entries with it (ON DELETE CASCADE).
// The table also tells which untagged images are intermediate steps (parents
// of another step), which `docker images` hides as dockerd does.
import { createHash } from 'node:crypto';
import type { Database } from '../../metadata/db.ts';

export class BuildCache {
  constructor(private readonly db: Database) {}

  static key(parent: string, step: string): string {
    return createHash('sha256').update(parent).update('\0').update(step).digest('hex');
  }

  /** An untagged image that a cached step builds on. */
  isParent(imageId: string): boolean {
    return this.db.db.prepare('SELECT 1 FROM build_cache WHERE parent_id = ? LIMIT 1').get(imageId) !== undefined;
  }

  get(parent: string, step: string): string | undefined {
    const row = this.db.db.prepare('SELECT image_id FROM build_cache WHERE key = ?').get(BuildCache.key(parent, step)) as { image_id: string } | undefined;
    return row?.image_id;
  }

  put(parent: string, step: string, imageId: string): void {
    this.db.db
      .prepare('INSERT INTO build_cache (key, parent_id, image_id) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET parent_id = excluded.parent_id, image_id = excluded.image_id')
      .run(BuildCache.key(parent, step), parent, imageId);
  }
}
