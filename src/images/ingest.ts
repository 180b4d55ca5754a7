// One local layer into the store in a single pass, for import and commit:
// the bytes go to the content store (gzipped on the way when asked) while
// the same stream is unpacked into a new snapshot. Nothing is visible until
// the blob's digest is known and the snapshot is committed under its key.
import { createHash, randomBytes } from 'node:crypto';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { is } from '../errdefs/index.ts';
import type { ImageContext } from './context.ts';

export interface IngestOptions {
  /** Names the temporary snapshot and the content ingest ("import", "commit"). */
  purpose: string;
  /** Gzip the tar on its way to the content store (the unpacker gets it as given). */
  gzip: boolean;
  /** The snapshot key of the new layer, from its diff id (a chain id). */
  keyOf: (diffId: string) => string;
  parent?: string;
}

export interface IngestedLayer {
  blobDigest: string;
  blobSize: number;
  diffId: string;
  /** How the bytes given were compressed ('none' or 'gzip'). */
  compression: string;
  key: string;
  /** Ends the lease that keeps blob and snapshot from GC until recorded. */
  release: () => void;
}

export async function ingestLayer(ctx: ImageContext, input: Readable, opts: IngestOptions): Promise<IngestedLayer> {
  const tmpKey = `unpack-${opts.purpose}-${randomBytes(6).toString('hex')}`;
  // Unpacked on its own; the parent is the committed snapshot's.
  await ctx.snapshots.prepare(tmpKey, undefined, { labels: { 'joey.unpack': '1' } });
  const writer = await ctx.content.writer(`${opts.purpose}-${tmpKey}`);
  try {
    const dir = await ctx.snapshots.upperDir(tmpKey);
    const hash = createHash('sha256');
    let blobSize = 0;
    // One copy to the unpacker, one (maybe gzipped) to the store; the slower
    // of the two sets the pace.
    const toApply = new PassThrough({ highWaterMark: 1 << 20 });
    const tee = new Transform({
      transform(chunk: Buffer, _e, cb) {
        if (!toApply.write(chunk)) toApply.once('drain', () => cb(null, chunk));
        else cb(null, chunk);
      },
      flush(cb) {
        toApply.end();
        cb();
      },
    });
    const count = new Transform({
      transform(chunk: Buffer, _e, cb) {
        hash.update(chunk);
        blobSize += chunk.length;
        cb(null, chunk);
      },
    });
    const applied = ctx.deps.applyLayer(toApply, dir);
    const stored = opts.gzip ? pipeline(input, tee, createGzip(), count, writer.stream()) : pipeline(input, tee, count, writer.stream());
    stored.catch((e) => toApply.destroy(e as Error));
    applied.catch((e) => input.destroy(e as Error));
    const [result] = await Promise.all([applied, stored]);
    const blobDigest = 'sha256:' + hash.digest('hex');
    await writer.commit({ digest: blobDigest, size: blobSize });
    const key = opts.keyOf(result.diffId);
    const release = ctx.leases.add([blobDigest, result.diffId, key]);
    try {
      await ctx.snapshots.commit(key, tmpKey, { parent: opts.parent, size: result.size });
    } catch (e) {
      if (!is(e, 'already-exists')) {
        release();
        throw e;
      }
      await ctx.snapshots.remove(tmpKey);
    }
    return { blobDigest, blobSize, diffId: result.diffId, compression: result.compression, key, release };
  } catch (e) {
    input.destroy();
    await writer.abort().catch(() => undefined);
    await ctx.snapshots.remove(tmpKey).catch(() => undefined);
    throw e;
  }
}
