// The image side of docker commit: one new layer (an uncompressed tar from
// the container's changes) on top of the container's image. The tar is
// gzipped into the content store and unpacked into the new chain's snapshot
// in the same pass, as import does.
import type { Readable } from 'node:stream';
import { notFound } from '../errdefs/index.ts';
import type { ImageContext } from './context.ts';
import { ingestLayer } from './ingest.ts';
import { MT } from './media-types.ts';
import { chainIds, sha256, type HistoryItem, type ImageConfigFile, type Manifest } from './oci.ts';
import { imageConfig } from './query.ts';
import { recordImage } from './register.ts';
import type { ImageConfig } from './types.ts';

export interface CommitImageInput {
  /** Absent: on nothing (a build's FROM scratch). */
  baseImageId?: string;
  /** The new layer, an uncompressed tar in the OCI layer format. Absent: a
   * config-only image (a build's metadata step), its history entry marked
   * empty_layer. */
  layer?: Readable;
  /** The runtime config of the new image. */
  config: ImageConfig;
  containerId?: string;
  createdBy: string;
  comment?: string;
  author?: string;
  /** Full names ("docker.io/library/x:latest") to point at the new image. */
  tags: string[];
}

/** Records the new image and returns its id. */
export async function commitImage(ctx: ImageContext, input: CommitImageInput): Promise<string> {
  const base = input.baseImageId === undefined ? undefined : ctx.store.get(input.baseImageId);
  if (input.baseImageId !== undefined && !base) throw notFound(`No such image: ${input.baseImageId}`);
  const baseCfg: ImageConfigFile = base ? await imageConfig(ctx, base.id) : { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, history: [] };
  const baseLayers = base ? ctx.store.layers(base.id) : [];
  const oci = base?.manifestMediaType === MT.ociManifest;

  const diffIdsWith = (diffId: string) => [...baseCfg.rootfs.diff_ids, diffId];
  const layer = input.layer
    ? await ingestLayer(ctx, input.layer, {
        purpose: 'commit',
        gzip: true,
        keyOf: (diffId) => chainIds(diffIdsWith(diffId)).at(-1)!,
        parent: base?.chainId ?? undefined,
      })
    : undefined;
  const releases: Array<() => void> = layer ? [layer.release] : [];
  try {
    const diffIds = layer ? diffIdsWith(layer.diffId) : [...baseCfg.rootfs.diff_ids];
    const chains = chainIds(diffIds);

    const now = new Date().toISOString();
    // One history entry per layer at least, so that `docker history` lines up.
    const history: HistoryItem[] = baseCfg.history?.length ? [...baseCfg.history] : baseCfg.rootfs.diff_ids.map(() => ({ created: baseCfg.created }));
    history.push({
      created: now,
      created_by: input.createdBy,
      ...(layer ? {} : { empty_layer: true }),
      ...(input.author ? { author: input.author } : {}),
      ...(input.comment ? { comment: input.comment } : {}),
    });
    const config: ImageConfigFile & { container?: string } = {
      architecture: baseCfg.architecture,
      os: baseCfg.os,
      ...(baseCfg.variant ? { variant: baseCfg.variant } : {}),
      created: now,
      ...(input.author ? { author: input.author } : {}),
      ...(input.comment ? { comment: input.comment } : {}),
      ...(input.containerId ? { container: input.containerId } : {}),
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
        ...(layer ? [{ mediaType: oci ? MT.ociLayerGzip : MT.dockerLayerGzip, digest: layer.blobDigest, size: layer.blobSize }] : []),
      ],
    };
    const manifestBytes = Buffer.from(JSON.stringify(manifest));
    const manifestDesc = { mediaType: manifest.mediaType, digest: sha256(manifestBytes), size: manifestBytes.length };
    releases.push(ctx.leases.add([manifest.config.digest, manifestDesc.digest]));
    await recordImage(ctx, { manifestDesc, manifestBytes, manifest, config, configBytes, chains, tags: input.tags, digests: [] });
    return manifest.config.digest;
  } finally {
    for (const r of releases) r();
  }
}
