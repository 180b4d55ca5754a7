// docker import: one layer from a rootfs tarball, unpacked while it is
// stored: plain or gzip as given; xz, bzip2 or zstd (which a Docker image
// manifest has no layer type for) stored gzip-compressed instead.
import { Readable, pipeline } from 'node:stream';
import { MAGIC_LENGTH, decompressor, detectCompression, peekHead } from '../archive/decompress.ts';
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

  const { head, all } = await peekHead(input, MAGIC_LENGTH);
  const rest = Readable.from(all, { objectMode: false });
  const compression = detectCompression(head);
  const recompress = compression === 'xz' || compression === 'bzip2' || compression === 'zstd';
  let source: Readable = rest;
  if (recompress) {
    const plain = decompressor(compression);
    pipeline(rest, plain, () => {});
    source = plain;
  }
  const layer = await ingestLayer(ctx, source, { purpose: 'import', gzip: recompress, keyOf: (diffId) => diffId });
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
    const layerMt = recompress || layer.compression === 'gzip' ? MT.dockerLayerGzip : MT.dockerLayerTar;
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
