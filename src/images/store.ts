// Image records in the metadata database (tables described in
// metadata/schema.ts). Everything here is synchronous SQLite; callers wrap
// multi-step changes in db.transaction.
import type { Database } from '../metadata/db.ts';

export interface ImageRecord {
  id: string; // sha256:<config hex>
  manifestDigest: string;
  manifestMediaType: string;
  manifestSize: number;
  chainId: string | null;
  size: number;
  created: string | null;
  addedAt: number;
  lastTagTime: number | null;
}

export interface LayerRecord {
  idx: number;
  blobDigest: string;
  blobSize: number;
  mediaType: string;
  diffId: string;
  chainId: string;
}

interface ImageRow {
  id: string;
  manifest_digest: string;
  manifest_media_type: string;
  manifest_size: number;
  chain_id: string | null;
  size: number;
  created: string | null;
  added_at: number;
  last_tag_time: number | null;
}

function fromRow(r: ImageRow): ImageRecord {
  return {
    id: r.id,
    manifestDigest: r.manifest_digest,
    manifestMediaType: r.manifest_media_type,
    manifestSize: r.manifest_size,
    chainId: r.chain_id,
    size: r.size,
    created: r.created,
    addedAt: r.added_at,
    lastTagTime: r.last_tag_time,
  };
}

export class ImageStore {
  constructor(readonly db: Database) {}

  get(id: string): ImageRecord | undefined {
    const r = this.db.db.prepare('SELECT * FROM images WHERE id = ?').get(id) as ImageRow | undefined;
    return r && fromRow(r);
  }

  all(): ImageRecord[] {
    return (this.db.db.prepare('SELECT * FROM images ORDER BY added_at DESC').all() as ImageRow[]).map(fromRow);
  }

  count(): number {
    return (this.db.db.prepare('SELECT count(*) AS n FROM images').get() as { n: number }).n;
  }

  /** Ids starting with `hexPrefix` (no "sha256:"). */
  byIdPrefix(hexPrefix: string): string[] {
    return (this.db.db.prepare("SELECT id FROM images WHERE id >= ? AND id < ? LIMIT 2").all(`sha256:${hexPrefix}`, `sha256:${hexPrefix}\uffff`) as { id: string }[]).map((r) => r.id);
  }

  /** Inserts the image (or refreshes its manifest when the same config comes
   * back under another manifest) with its layers. */
  put(rec: ImageRecord, layers: LayerRecord[]): void {
    const existing = this.get(rec.id);
    if (existing) {
      this.db.db
        .prepare('UPDATE images SET manifest_digest=?, manifest_media_type=?, manifest_size=? WHERE id=?')
        .run(rec.manifestDigest, rec.manifestMediaType, rec.manifestSize, rec.id);
      this.db.db.prepare('DELETE FROM image_layers WHERE image_id = ?').run(rec.id);
    } else {
      this.db.db
        .prepare(
          `INSERT INTO images (id, manifest_digest, manifest_media_type, manifest_size, chain_id, size, created, added_at, last_tag_time)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(rec.id, rec.manifestDigest, rec.manifestMediaType, rec.manifestSize, rec.chainId, rec.size, rec.created, rec.addedAt, rec.lastTagTime);
    }
    const ins = this.db.db.prepare(
      'INSERT INTO image_layers (image_id, idx, blob_digest, blob_size, media_type, diff_id, chain_id) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    for (const l of layers) ins.run(rec.id, l.idx, l.blobDigest, l.blobSize, l.mediaType, l.diffId, l.chainId);
  }

  delete(id: string): void {
    this.db.db.prepare('DELETE FROM images WHERE id = ?').run(id);
  }

  layers(id: string): LayerRecord[] {
    return (
      this.db.db.prepare('SELECT * FROM image_layers WHERE image_id = ? ORDER BY idx').all(id) as Array<{
        idx: number;
        blob_digest: string;
        blob_size: number;
        media_type: string;
        diff_id: string;
        chain_id: string;
      }>
    ).map((r) => ({ idx: r.idx, blobDigest: r.blob_digest, blobSize: r.blob_size, mediaType: r.media_type, diffId: r.diff_id, chainId: r.chain_id }));
  }

  /** Sets `name` (a full "domain/path:tag") to point at `imageId`. Returns the
   * image the tag pointed at before, if it moved. */
  setTag(name: string, imageId: string, now = Date.now()): string | undefined {
    const prev = this.tagTarget(name);
    if (prev === imageId) return undefined;
    this.db.db
      .prepare('INSERT INTO image_tags (name, image_id, created_at) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET image_id = excluded.image_id, created_at = excluded.created_at')
      .run(name, imageId, now);
    this.db.db.prepare('UPDATE images SET last_tag_time = ? WHERE id = ?').run(now, imageId);
    return prev;
  }

  tagTarget(name: string): string | undefined {
    return (this.db.db.prepare('SELECT image_id FROM image_tags WHERE name = ?').get(name) as { image_id: string } | undefined)?.image_id;
  }

  removeTag(name: string): boolean {
    return this.db.db.prepare('DELETE FROM image_tags WHERE name = ?').run(name).changes > 0;
  }

  tags(imageId: string): string[] {
    return (this.db.db.prepare('SELECT name FROM image_tags WHERE image_id = ? ORDER BY created_at, name').all(imageId) as { name: string }[]).map((r) => r.name);
  }

  allTags(): Array<{ name: string; imageId: string }> {
    return (this.db.db.prepare('SELECT name, image_id FROM image_tags').all() as { name: string; image_id: string }[]).map((r) => ({ name: r.name, imageId: r.image_id }));
  }

  setDigest(name: string, imageId: string, now = Date.now()): void {
    this.db.db
      .prepare('INSERT INTO image_digests (name, image_id, created_at) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET image_id = excluded.image_id')
      .run(name, imageId, now);
  }

  digestTarget(name: string): string | undefined {
    return (this.db.db.prepare('SELECT image_id FROM image_digests WHERE name = ?').get(name) as { image_id: string } | undefined)?.image_id;
  }

  removeDigest(name: string): boolean {
    return this.db.db.prepare('DELETE FROM image_digests WHERE name = ?').run(name).changes > 0;
  }

  digests(imageId: string): string[] {
    return (this.db.db.prepare('SELECT name FROM image_digests WHERE image_id = ? ORDER BY name').all(imageId) as { name: string }[]).map((r) => r.name);
  }

  /** Everything images reference, for garbage collection. */
  references(): { blobs: Set<string>; snapshots: Set<string> } {
    const blobs = new Set<string>();
    const snapshots = new Set<string>();
    for (const r of this.db.db.prepare('SELECT id, manifest_digest FROM images').all() as { id: string; manifest_digest: string }[]) {
      blobs.add(r.id);
      blobs.add(r.manifest_digest);
    }
    for (const r of this.db.db.prepare('SELECT blob_digest, chain_id FROM image_layers').all() as { blob_digest: string; chain_id: string }[]) {
      blobs.add(r.blob_digest);
      snapshots.add(r.chain_id);
    }
    return { blobs, snapshots };
  }

  /** Images that contain a layer blob, with their names, for cross-repository mounts. */
  namesWithBlob(blobDigest: string): string[] {
    return (
      this.db.db
        .prepare(
          `SELECT t.name FROM image_layers l JOIN image_tags t ON t.image_id = l.image_id WHERE l.blob_digest = ?
           UNION SELECT d.name FROM image_layers l JOIN image_digests d ON d.image_id = l.image_id WHERE l.blob_digest = ?`,
        )
        .all(blobDigest, blobDigest) as { name: string }[]
    ).map((r) => r.name);
  }
}
