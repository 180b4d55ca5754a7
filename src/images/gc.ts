// Garbage collection: whatever no image (and no work in flight) references
// goes -- snapshots from the leaves up, then blobs, then stale partial
// downloads. Start-up runs it after the snapshotter's own cleanup, so a
// kill -9 at any point leaves nothing behind for good.
import type { ImageContext } from './context.ts';
import { log } from '../util/log.ts';

/** Partial downloads are kept this long for a later pull to resume. */
export const INGEST_MAX_AGE_MS = 24 * 3600 * 1000;

export interface GcResult {
  snapshotsRemoved: number;
  blobsRemoved: number;
  bytesFreed: number;
}

export async function collectGarbage(ctx: ImageContext, opts: { extraSnapshotRoots?: Set<string> } = {}): Promise<GcResult> {
  return ctx.gcLock.lock(async () => {
    const refs = ctx.store.references();
    const result: GcResult = { snapshotsRemoved: 0, blobsRemoved: 0, bytesFreed: 0 };

    // Snapshots: keep referenced ones, leased ones, non-committed ones (they
    // belong to containers or to unpacks in flight) and every ancestor of those.
    const all = new Map<string, { parent?: string; kind: string; size: number }>();
    for await (const s of ctx.snapshots.walk()) all.set(s.key, { parent: s.parent, kind: s.kind, size: s.size });
    const keep = new Set<string>();
    const mark = (k: string | undefined) => {
      while (k && !keep.has(k)) {
        keep.add(k);
        k = all.get(k)?.parent;
      }
    };
    for (const [k, s] of all) {
      if (refs.snapshots.has(k) || ctx.leases.has(k) || s.kind !== 'committed' || opts.extraSnapshotRoots?.has(k)) mark(k);
    }
    // Remove leaves first: repeat while something could go.
    let progress = true;
    while (progress) {
      progress = false;
      const parents = new Set<string>();
      for (const s of all.values()) if (s.parent) parents.add(s.parent);
      for (const [k, s] of all) {
        if (keep.has(k) || parents.has(k)) continue;
        try {
          await ctx.snapshots.remove(k);
          all.delete(k);
          result.snapshotsRemoved++;
          result.bytesFreed += s.size;
          progress = true;
        } catch (e) {
          log.warn('gc: removing snapshot failed', { snapshot: k, err: e });
        }
      }
    }

    for await (const b of ctx.content.walk()) {
      if (refs.blobs.has(b.digest) || ctx.leases.has(b.digest)) continue;
      try {
        await ctx.content.delete(b.digest);
        result.blobsRemoved++;
        result.bytesFreed += b.size;
      } catch (e) {
        log.warn('gc: removing blob failed', { blob: b.digest, err: e });
      }
    }

    const now = Date.now();
    for (const ing of await ctx.content.ingests()) {
      if (now - ing.updatedAt.getTime() > INGEST_MAX_AGE_MS && !ctx.leases.has(ing.ref)) {
        await ctx.content.abortIngest(ing.ref).catch(() => undefined);
      }
    }
    if (result.snapshotsRemoved || result.blobsRemoved) log.debug('gc done', { ...result });
    return result;
  });
}

/** Start-up check that no image points at missing data: an image whose
 * manifest, config, layer blobs or snapshots are gone is dropped. */
export async function dropBrokenImages(ctx: ImageContext): Promise<string[]> {
  const dropped: string[] = [];
  for (const img of ctx.store.all()) {
    let missing: string | undefined;
    for (const d of [img.manifestDigest, img.id]) if (!missing && !(await ctx.content.info(d))) missing = `blob ${d}`;
    for (const l of ctx.store.layers(img.id)) {
      if (missing) break;
      if (!(await ctx.content.info(l.blobDigest))) missing = `layer blob ${l.blobDigest}`;
      else if (!(await ctx.unpacker.hasSnapshot(l.chainId))) missing = `snapshot ${l.chainId}`;
    }
    if (missing) {
      log.warn('dropping image with missing data', { image: img.id, missing });
      ctx.deps.db.transaction(() => ctx.store.delete(img.id));
      dropped.push(img.id);
    }
  }
  return dropped;
}
