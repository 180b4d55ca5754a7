// docker import: one layer from a rootfs tarball (plain or gzip), stored as
// given and unpacked in the same pass.
import { createHash, randomBytes } from 'node:crypto';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { is } from '../errdefs/index.ts';
import { formatReference, parseReference, withDefaultTag } from '../reference/index.ts';
import type { ImageContext } from './context.ts';
import { applyChanges } from './changes.ts';
import { MT } from './media-types.ts';
import { sha256 } from './oci.ts';
import { hostPlatform, parsePlatform } from './platform.ts';
import { recordImage } from './register.ts';
import type { ImportOptions } from './types.ts';

export async function importImage(ctx: ImageContext, input: Readable, opts: ImportOptions = {}): Promise<string> {
  // Validate everything the user gave before reading a byte.
  const tagName = opts.repo ? formatReference(withDefaultTag(parseReference(opts.tag ? `${opts.repo}:${opts.tag}` : opts.repo))) : undefined;
  const platform = opts.platform ? parsePlatform(opts.platform) : hostPlatform();
  const cfg = applyChanges({}, opts.changes ?? []);

  const tmpKey = `unpack-import-${randomBytes(6).toString('hex')}`;
  await ctx.snapshots.prepare(tmpKey, undefined, { labels: { 'joey.unpack': '1' } });
  const writer = await ctx.content.writer(`import-${tmpKey}`);
  let blobDigest = '';
  let release: (() => void) | undefined;
  try {
    const dir = await ctx.snapshots.upperDir(tmpKey);
    const hash = createHash('sha256');
    let size = 0;
    const toApply = new PassThrough({ highWaterMark: 1 << 20 });
    const tap = new Transform({
      transform(chunk: Buffer, _e, cb) {
        hash.update(chunk);
        size += chunk.length;
        if (!toApply.write(chunk)) toApply.once('drain', () => cb(null, chunk));
        else cb(null, chunk);
      },
      flush(cb) {
        toApply.end();
        cb();
      },
    });
    const applied = ctx.deps.applyLayer(toApply, dir);
    const stored = pipeline(input, tap, writer.stream());
    stored.catch((e) => toApply.destroy(e as Error));
    applied.catch((e) => input.destroy(e as Error));
    const [result] = await Promise.all([applied, stored]);
    blobDigest = 'sha256:' + hash.digest('hex');
    await writer.commit({ digest: blobDigest, size });
    const diffId = result.diffId;
    release = ctx.leases.add([blobDigest, diffId]);
    try {
      await ctx.snapshots.commit(diffId, tmpKey, { size: result.size });
    } catch (e) {
      if (!is(e, 'already-exists')) throw e;
      await ctx.snapshots.remove(tmpKey);
    }
    const now = new Date().toISOString();
    const config = {
      architecture: platform.architecture,
      os: platform.os,
      ...(platform.variant ? { variant: platform.variant } : {}),
      created: now,
      config: cfg,
      rootfs: { type: 'layers', diff_ids: [diffId] },
      history: [{ created: now, created_by: '', comment: opts.message || 'Imported from -' }],
      ...(opts.message ? { comment: opts.message } : {}),
    };
    const configBytes = Buffer.from(JSON.stringify(config));
    const layerMt = result.compression === 'gzip' ? MT.dockerLayerGzip : MT.dockerLayerTar;
    const manifest = {
      schemaVersion: 2 as const,
      mediaType: MT.dockerManifest,
      config: { mediaType: MT.dockerConfig, digest: sha256(configBytes), size: configBytes.length },
      layers: [{ mediaType: layerMt, digest: blobDigest, size }],
    };
    const manifestBytes = Buffer.from(JSON.stringify(manifest));
    await recordImage(ctx, {
      manifestDesc: { mediaType: MT.dockerManifest, digest: sha256(manifestBytes), size: manifestBytes.length },
      manifestBytes,
      manifest,
      config,
      configBytes,
      chains: [diffId],
      tags: tagName ? [tagName] : [],
      digests: [],
    });
    const id = manifest.config.digest;
    ctx.events.publish({ Type: 'image', Action: 'import', Actor: { ID: id, Attributes: tagName ? { name: tagName } : {} }, status: 'import', id });
    return id;
  } catch (e) {
    await writer.abort().catch(() => undefined);
    await ctx.snapshots.remove(tmpKey).catch(() => undefined);
    throw e;
  } finally {
    release?.();
  }
}
