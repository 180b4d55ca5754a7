// docker import: one layer from a rootfs tarball (plain or gzip), stored as
// given and unpacked in the same pass.
import type { Readable } from 'node:stream';
import { formatReference, parseReference, withDefaultTag } from '../reference/index.ts';
import type { ImageContext } from './context.ts';
import { applyChanges } from './changes.ts';
import { ingestLayer } from './ingest.ts';
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

  const layer = await ingestLayer(ctx, input, { purpose: 'import', gzip: false, keyOf: (diffId) => diffId });
  try {
    const { diffId, blobDigest } = layer;
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
    const layerMt = layer.compression === 'gzip' ? MT.dockerLayerGzip : MT.dockerLayerTar;
    const manifest = {
      schemaVersion: 2 as const,
      mediaType: MT.dockerManifest,
      config: { mediaType: MT.dockerConfig, digest: sha256(configBytes), size: configBytes.length },
      layers: [{ mediaType: layerMt, digest: blobDigest, size: layer.blobSize }],
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
  } finally {
    layer.release();
  }
}
