// docker save: an OCI image layout plus Docker's manifest.json in one tar,
// as Docker 25+ writes it; blobs are streamed from the content store as stored.
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { invalid, is } from '../errdefs/index.ts';
import { familiarString, formatReference, parseReference, withDefaultTag } from '../reference/index.ts';
import type { ImageContext } from './context.ts';
import { MT } from './media-types.ts';
import { parseManifest } from './oci.ts';
import { resolveImage } from './query.ts';
import type { ImageRecord } from './store.ts';

interface Selected {
  rec: ImageRecord;
  tags: string[]; // full names
}

function select(ctx: ImageContext, names: string[]): Selected[] {
  if (names.length === 0) throw invalid('no images given to save');
  const byId = new Map<string, Selected>();
  for (const n of names) {
    const rec = resolveImage(ctx, n);
    const sel = byId.get(rec.id) ?? { rec, tags: [] };
    byId.set(rec.id, sel);
    let tagged: string | undefined;
    try {
      const ref = parseReference(n);
      if (!ref.digest && !/^[a-f0-9]{12,64}$/.test(n)) tagged = formatReference(withDefaultTag(ref));
    } catch (e) {
      if (!is(e, 'invalid')) throw e;
    }
    // A name saves that tag; an id saves every tag of the image.
    const add = tagged && ctx.store.tags(rec.id).includes(tagged) ? [tagged] : tagged ? [] : ctx.store.tags(rec.id);
    for (const t of add) if (!sel.tags.includes(t)) sel.tags.push(t);
  }
  return [...byId.values()];
}

export async function saveImages(ctx: ImageContext, names: string[]): Promise<Readable> {
  const images = select(ctx, names);
  const pack = tar.pack();
  const digestsOf = images.map((s) => [s.rec.id, s.rec.manifestDigest, ...ctx.store.layers(s.rec.id).map((l) => l.blobDigest)]).flat();
  const release = ctx.leases.add(digestsOf);

  const addBytes = (name: string, data: Buffer) =>
    new Promise<void>((resolve, reject) => pack.entry({ name, size: data.length, mode: 0o644, mtime: new Date(0) }, data, (e) => (e ? reject(e) : resolve())));
  const addBlob = async (digest: string, size: number) => {
    const entry = pack.entry({ name: `blobs/sha256/${digest.slice(7)}`, size, mode: 0o644, mtime: new Date(0) });
    await pipeline(createReadStream(ctx.content.path(digest)), entry);
  };

  (async () => {
    const written = new Set<string>();
    const index: Array<Record<string, unknown>> = [];
    const dockerManifest: Array<Record<string, unknown>> = [];
    const repositories: Record<string, Record<string, string>> = {};
    for (const { rec, tags } of images) {
      const manifestBytes = await ctx.content.readBytes(rec.manifestDigest, 4 << 20);
      const manifest = parseManifest(manifestBytes);
      for (const d of [manifest.config, ...manifest.layers, { digest: rec.manifestDigest, size: manifestBytes.length }]) {
        if (written.has(d.digest)) continue;
        written.add(d.digest);
        await addBlob(d.digest, d.size);
      }
      const desc = { mediaType: rec.manifestMediaType || MT.ociManifest, digest: rec.manifestDigest, size: manifestBytes.length };
      const familiar = tags.map((t) => familiarString(parseReference(t)));
      if (tags.length === 0) index.push(desc);
      for (const t of tags) {
        const ref = parseReference(t);
        index.push({ ...desc, annotations: { 'io.containerd.image.name': t, 'org.opencontainers.image.ref.name': ref.tag } });
        const repo = familiarString({ ...ref, tag: undefined });
        (repositories[repo] ??= {})[ref.tag!] = rec.chainId?.slice(7) ?? '';
      }
      dockerManifest.push({
        Config: `blobs/sha256/${manifest.config.digest.slice(7)}`,
        RepoTags: familiar.length ? familiar : null,
        Layers: manifest.layers.map((l) => `blobs/sha256/${l.digest.slice(7)}`),
      });
    }
    await addBytes('index.json', Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MT.ociIndex, manifests: index })));
    await addBytes('manifest.json', Buffer.from(JSON.stringify(dockerManifest)));
    await addBytes('oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })));
    if (Object.keys(repositories).length) await addBytes('repositories', Buffer.from(JSON.stringify(repositories)));
    pack.finalize();
    ctx.events.publish({ Type: 'image', Action: 'save', Actor: { ID: images.map((i) => i.rec.id).join(','), Attributes: {} } });
  })()
    .catch((e) => pack.destroy(e as Error))
    .finally(release);
  return pack as unknown as Readable;
}
