// The image side of docker commit: one new layer (an uncompressed tar from
// the container's changes) on top of the container's image. The tar is
// gzipped into the content store and unpacked into the new chain's snapshot
// in the same pass, as import does.
import { createHash, randomBytes } from 'node:crypto';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { is, notFound } from '../errdefs/index.ts';
import type { ImageContext } from './context.ts';
import { MT } from './media-types.ts';
import { chainIds, sha256, type HistoryItem, type ImageConfigFile, type Manifest } from './oci.ts';
import { imageConfig } from './query.ts';
import { recordImage } from './register.ts';
import type { ImageConfig } from './types.ts';

export interface CommitImageInput {
  baseImageId: string;
  /** The new layer, an uncompressed tar in the OCI layer format. */
  layer: Readable;
  /** The runtime config of the new image. */
  config: ImageConfig;
  containerId: string;
  createdBy: string;
  comment?: string;
  author?: string;
  /** Full names ("docker.io/library/x:latest") to point at the new image. */
  tags: string[];
}

/** Records the new image and returns its id. */
export async function commitImage(ctx: ImageContext, input: CommitImageInput): Promise<string> {
  const base = ctx.store.get(input.baseImageId);
  if (!base) throw notFound(`No such image: ${input.baseImageId}`);
  const baseCfg = await imageConfig(ctx, base.id);
  const baseLayers = ctx.store.layers(base.id);
  const oci = base.manifestMediaType === MT.ociManifest;

  const tmpKey = `unpack-commit-${randomBytes(6).toString('hex')}`;
  await ctx.snapshots.prepare(tmpKey, undefined, { labels: { 'joey.unpack': '1' } });
  const writer = await ctx.content.writer(`commit-${tmpKey}`);
  const releases: Array<() => void> = [];
  try {
    const dir = await ctx.snapshots.upperDir(tmpKey);
    const hash = createHash('sha256');
    let size = 0;
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
        size += chunk.length;
        cb(null, chunk);
      },
    });
    const applied = ctx.deps.applyLayer(toApply, dir);
    const stored = pipeline(input.layer, tee, createGzip(), count, writer.stream());
    stored.catch((e) => toApply.destroy(e as Error));
    applied.catch((e) => input.layer.destroy(e as Error));
    const [result] = await Promise.all([applied, stored]);
    const blobDigest = 'sha256:' + hash.digest('hex');
    await writer.commit({ digest: blobDigest, size });

    const diffIds = [...baseCfg.rootfs.diff_ids, result.diffId];
    const chains = chainIds(diffIds);
    const chainId = chains[chains.length - 1]!;
    releases.push(ctx.leases.add([blobDigest, result.diffId, chainId]));
    try {
      await ctx.snapshots.commit(chainId, tmpKey, { parent: base.chainId ?? undefined, size: result.size });
    } catch (e) {
      if (!is(e, 'already-exists')) throw e;
      await ctx.snapshots.remove(tmpKey);
    }

    const now = new Date().toISOString();
    // One history entry per layer at least, so that `docker history` lines up.
    const history: HistoryItem[] = baseCfg.history?.length ? [...baseCfg.history] : baseCfg.rootfs.diff_ids.map(() => ({ created: baseCfg.created }));
    history.push({
      created: now,
      created_by: input.createdBy,
      ...(input.author ? { author: input.author } : {}),
      ...(input.comment ? { comment: input.comment } : {}),
    });
    const config: ImageConfigFile & { container: string } = {
      architecture: baseCfg.architecture,
      os: baseCfg.os,
      ...(baseCfg.variant ? { variant: baseCfg.variant } : {}),
      created: now,
      ...(input.author ? { author: input.author } : {}),
      ...(input.comment ? { comment: input.comment } : {}),
      container: input.containerId,
      config: input.config,
      rootfs: { type: 'layers', diff_ids: diffIds },
      history,
    };
    const configBytes = Buffer.from(JSON.stringify(config));
    const manifest: Manifest = {
      schemaVersion: 2,
      mediaType: oci ? MT.ociManifest : MT.dockerManifest,
      config: { mediaType: oci ? MT.ociConfig : MT.dockerConfig, digest: sha256(configBytes), size: configBytes.length },
      layers: [
        ...baseLayers.map((l) => ({ mediaType: l.mediaType, digest: l.blobDigest, size: l.blobSize })),
        { mediaType: oci ? MT.ociLayerGzip : MT.dockerLayerGzip, digest: blobDigest, size },
      ],
    };
    const manifestBytes = Buffer.from(JSON.stringify(manifest));
    const manifestDesc = { mediaType: manifest.mediaType, digest: sha256(manifestBytes), size: manifestBytes.length };
    releases.push(ctx.leases.add([manifest.config.digest, manifestDesc.digest]));
    await recordImage(ctx, { manifestDesc, manifestBytes, manifest, config, configBytes, chains, tags: input.tags, digests: [] });
    return manifest.config.digest;
  } catch (e) {
    input.layer.destroy();
    await writer.abort().catch(() => undefined);
    await ctx.snapshots.remove(tmpKey).catch(() => undefined);
    throw e;
  } finally {
    for (const r of releases) r();
  }
}
