// Recording an image whose blobs are in the content store: unpack what is
// not unpacked yet, then one transaction for the record and its names.
import { dataLoss } from '../errdefs/index.ts';
import type { Descriptor } from '../remotes/types.ts';
import type { ImageContext } from './context.ts';
import { chainIds, parseConfig, parseManifest, type ImageConfigFile, type Manifest } from './oci.ts';
import type { LayerRecord } from './store.ts';
import type { ProgressFn } from './types.ts';

export interface RecordInput {
  manifestDesc: Descriptor;
  manifestBytes: Buffer;
  manifest: Manifest;
  config: ImageConfigFile;
  configBytes: Buffer;
  chains: string[];
  /** Full names ("docker.io/library/busybox:latest") to point at the image. */
  tags: string[];
  /** Full digest names ("docker.io/library/busybox@sha256:…"). */
  digests: string[];
}

/** Stores manifest and config, then writes the image record, its tags and
 * repo digests in one transaction. Returns tags that moved away from another image. */
export async function recordImage(ctx: ImageContext, r: RecordInput): Promise<void> {
  await ctx.content.writeBytes(r.configBytes, r.manifest.config.digest);
  await ctx.content.writeBytes(r.manifestBytes, r.manifestDesc.digest);
  const layers: LayerRecord[] = r.manifest.layers.map((l, i) => ({
    idx: i,
    blobDigest: l.digest,
    blobSize: l.size,
    mediaType: l.mediaType,
    diffId: r.config.rootfs.diff_ids[i]!,
    chainId: r.chains[i]!,
  }));
  let size = 0;
  for (const c of r.chains) size += (await ctx.snapshots.stat(c)).size;
  const id = r.manifest.config.digest;
  ctx.deps.db.transaction(() => {
    ctx.store.put(
      {
        id,
        manifestDigest: r.manifestDesc.digest,
        manifestMediaType: r.manifestDesc.mediaType,
        manifestSize: r.manifestBytes.length,
        chainId: r.chains[r.chains.length - 1] ?? null,
        size,
        created: r.config.created ?? null,
        addedAt: Date.now(),
        lastTagTime: null,
      },
      layers,
    );
    for (const t of r.tags) ctx.store.setTag(t, id);
    for (const d of r.digests) ctx.store.setDigest(d, id);
  });
}

/** For load and import: every blob is already in the content store; unpack
 * the layers that are not yet snapshots, then record. */
export async function registerLocalImage(
  ctx: ImageContext,
  input: { manifestDesc: Descriptor; manifestBytes: Buffer; configBytes: Buffer; tags: string[]; onProgress?: ProgressFn },
): Promise<string> {
  const manifest = parseManifest(input.manifestBytes);
  const config = parseConfig(input.configBytes);
  if (config.rootfs.diff_ids.length !== manifest.layers.length) {
    throw dataLoss(`image ${manifest.config.digest}: the manifest lists ${manifest.layers.length} layers but the config has ${config.rootfs.diff_ids.length} diff ids`);
  }
  const chains = chainIds(config.rootfs.diff_ids);
  const release = ctx.leases.add([manifest.config.digest, input.manifestDesc.digest, ...manifest.layers.map((l) => l.digest), ...chains]);
  try {
    const done: Array<Promise<unknown>> = [];
    manifest.layers.forEach((layer, i) => {
      done.push(
        ctx.unpacker.ensure({
          blob: layer,
          diffId: config.rootfs.diff_ids[i]!,
          chainId: chains[i]!,
          parentChainId: i > 0 ? chains[i - 1] : undefined,
          parentDone: i > 0 ? done[i - 1]!.catch(() => undefined) : undefined,
          onProgress: input.onProgress,
        }),
      );
    });
    const results = await Promise.allSettled(done);
    const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
    if (failed) throw failed.reason;
    await recordImage(ctx, {
      manifestDesc: input.manifestDesc,
      manifestBytes: input.manifestBytes,
      manifest,
      config,
      configBytes: input.configBytes,
      chains,
      tags: input.tags,
      digests: [],
    });
    return manifest.config.digest;
  } finally {
    release();
  }
}
