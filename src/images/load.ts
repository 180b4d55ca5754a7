// docker load: a docker-archive (manifest.json) or an OCI image layout
// (index.json) as a tar stream. Blobs stream into the content store as they
// arrive, verified; the images are assembled when the archive has ended.
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { dataLoss, invalid, is } from '../errdefs/index.ts';
import { familiarString, formatReference, parseReference, withDefaultTag } from '../reference/index.ts';
import type { Descriptor } from '../remotes/types.ts';
import { readAll } from '../util/streams.ts';
import type { ImageContext } from './context.ts';
import { MT, isIndex } from './media-types.ts';
import { parseConfig, parseIndex, sha256, sniffMediaType } from './oci.ts';
import { hostPlatform, platformMatches } from './platform.ts';
import { collectGarbage } from './gc.ts';
import { registerLocalImage } from './register.ts';
import type { ProgressFn } from './types.ts';

const SMALL = 16 << 20;
const BLOB_PATH = /^blobs\/sha256\/([a-f0-9]{64})$/;

interface Archive {
  /** path -> digest of what was stored for it */
  files: Map<string, { digest: string; size: number }>;
  /** small JSON-ish files kept in memory */
  small: Map<string, Buffer>;
  links: Map<string, string>;
  /** Releases the leases that keep the archive's blobs from GC until the images are recorded. */
  releases: Array<() => void>;
}

function clean(name: string): string {
  return posix.normalize(name.replace(/^\.\//, '')).replace(/\/$/, '');
}

async function storeStream(ctx: ImageContext, stream: Readable, ref: string, expected?: string): Promise<{ digest: string; size: number }> {
  const w = await ctx.content.writer(ref);
  if (w.offset > 0) {
    await w.abort();
    return storeStream(ctx, stream, ref, expected);
  }
  const hash = createHash('sha256');
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _e, cb) {
      hash.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
  });
  try {
    await pipeline(stream, tap, w.stream());
    const digest = 'sha256:' + hash.digest('hex');
    if (expected && digest !== expected) throw dataLoss(`blob ${expected} in the archive has digest ${digest}`);
    await w.commit({ digest, size });
    return { digest, size };
  } catch (e) {
    await w.abort().catch(() => undefined);
    throw e;
  }
}

async function readArchive(ctx: ImageContext, a: Archive, input: Readable, signal?: AbortSignal): Promise<void> {
  const extract = tar.extract();
  input.on('error', (e) => extract.destroy(e));
  input.pipe(extract);
  let n = 0;
  try {
    for await (const entry of extract) {
      if (signal?.aborted) throw signal.reason;
      const h = entry.header;
      const name = clean(h.name);
      if (h.type === 'symlink' || h.type === 'link') {
        const target = h.type === 'symlink' ? clean(posix.join(posix.dirname(name), h.linkname ?? '')) : clean(h.linkname ?? '');
        a.links.set(name, target);
        entry.resume();
        continue;
      }
      if (h.type !== 'file' && h.type !== 'contiguous-file') {
        entry.resume();
        continue;
      }
      const blob = BLOB_PATH.exec(name);
      if (blob) {
        const digest = `sha256:${blob[1]}`;
        a.releases.push(ctx.leases.add([digest]));
        if (await ctx.content.info(digest)) {
          entry.resume();
          await new Promise((r) => entry.once('end', r));
          a.files.set(name, { digest, size: h.size ?? 0 });
        } else {
          a.files.set(name, await storeStream(ctx, entry, `load-${digest}`, digest));
        }
        // Small blobs (manifests, configs, indexes) are also needed in memory.
        if ((h.size ?? 0) <= SMALL) a.small.set(name, await ctx.content.readBytes(digest, SMALL));
      } else if ((h.size ?? 0) <= SMALL && !name.endsWith('.tar')) {
        a.small.set(name, await readAll(entry, SMALL, name));
      } else {
        const f = await storeStream(ctx, entry, `load-${process.pid}-${++n}-${Date.now()}`);
        a.releases.push(ctx.leases.add([f.digest]));
        a.files.set(name, f);
      }
    }
  } catch (e) {
    if (is(e, 'data-loss') || is(e, 'invalid')) throw e;
    throw invalid(`invalid tar archive: ${(e as Error).message}`);
  }
}

function resolvePath(a: Archive, p: string): string {
  let cur = clean(p);
  for (let i = 0; i < 16 && a.links.has(cur); i++) cur = a.links.get(cur)!;
  return cur;
}

async function isGzip(ctx: ImageContext, digest: string): Promise<boolean> {
  const s = ctx.content.reader(digest, { start: 0 });
  for await (const c of s) {
    s.destroy();
    const b = c as Buffer;
    return b[0] === 0x1f && b[1] === 0x8b;
  }
  return false;
}

function tagsFromNames(names: string[]): string[] {
  const out: string[] = [];
  for (const n of names) {
    try {
      const ref = parseReference(n);
      if (!ref.digest) out.push(formatReference(withDefaultTag(ref)));
    } catch (e) {
      if (!is(e, 'invalid')) throw e;
    }
  }
  return out;
}

export async function loadImages(ctx: ImageContext, input: Readable, opts: { onProgress?: ProgressFn; signal?: AbortSignal } = {}): Promise<string[]> {
  const a: Archive = { files: new Map(), small: new Map(), links: new Map(), releases: [] };
  try {
    await readArchive(ctx, a, input, opts.signal);
    return await assemble(ctx, a, opts);
  } finally {
    for (const r of a.releases) r();
    await collectGarbage(ctx);
  }
}

async function assemble(ctx: ImageContext, a: Archive, opts: { onProgress?: ProgressFn }): Promise<string[]> {
  const loaded: string[] = [];
  const manifestJson = a.small.get('manifest.json');
  const indexJson = a.small.get('index.json');
  if (manifestJson) {
    let entries: Array<{ Config: string; RepoTags?: string[] | null; Layers: string[] }>;
    try {
      entries = JSON.parse(manifestJson.toString());
      if (!Array.isArray(entries)) throw new Error('not a list');
    } catch (e) {
      throw invalid(`manifest.json in the archive is invalid: ${(e as Error).message}`);
    }
    for (const e of entries) {
      if (typeof e?.Config !== 'string' || !Array.isArray(e.Layers)) throw invalid('manifest.json: an entry lacks Config or Layers');
      const cfgPath = resolvePath(a, e.Config);
      const configBytes = a.small.get(cfgPath);
      if (!configBytes) throw invalid(`archive has no config file ${e.Config}`);
      const config = parseConfig(configBytes);
      const layers: Descriptor[] = [];
      for (const lp of e.Layers) {
        const f = a.files.get(resolvePath(a, lp));
        if (!f) throw invalid(`archive has no layer file ${lp}`);
        layers.push({ mediaType: (await isGzip(ctx, f.digest)) ? MT.dockerLayerGzip : MT.dockerLayerTar, digest: f.digest, size: f.size });
      }
      if (layers.length !== config.rootfs.diff_ids.length) throw dataLoss(`manifest.json lists ${layers.length} layers for ${e.Config} but its config has ${config.rootfs.diff_ids.length}`);
      const configDigest = sha256(configBytes);
      // Keep an OCI manifest from index.json when one describes this config:
      // its digest is the image's identity in registries.
      const fromIndex = indexJson ? findIndexManifest(a, indexJson, configDigest) : undefined;
      let manifestBytes: Buffer;
      let manifestDesc: Descriptor;
      if (fromIndex) {
        manifestBytes = fromIndex.bytes;
        manifestDesc = fromIndex.desc;
      } else {
        manifestBytes = Buffer.from(
          JSON.stringify({ schemaVersion: 2, mediaType: MT.dockerManifest, config: { mediaType: MT.dockerConfig, digest: configDigest, size: configBytes.length }, layers }),
        );
        manifestDesc = { mediaType: MT.dockerManifest, digest: sha256(manifestBytes), size: manifestBytes.length };
      }
      await ctx.content.writeBytes(configBytes, configDigest);
      const tags = tagsFromNames(e.RepoTags ?? []);
      const id = await registerLocalImage(ctx, { manifestDesc, manifestBytes, configBytes, tags, onProgress: opts.onProgress });
      loaded.push(...(tags.length ? tags.map((t) => familiarString(parseReference(t))) : [id]));
    }
  } else if (indexJson) {
    const index = parseIndex(indexJson);
    for (const d of index.manifests) {
      const ann = d.annotations ?? {};
      const names = [ann['io.containerd.image.name'], ann['org.opencontainers.image.ref.name']].filter((x): x is string => !!x && /[/:]/.test(x));
      const chosen = await pickManifest(a, d);
      const manifest = JSON.parse(chosen.bytes.toString()) as { config: Descriptor };
      const configBytes = a.small.get(`blobs/sha256/${manifest.config.digest.slice(7)}`);
      if (!configBytes) throw invalid(`archive has no config blob ${manifest.config.digest}`);
      const tags = tagsFromNames(names.slice(0, 1));
      const id = await registerLocalImage(ctx, { manifestDesc: chosen.desc, manifestBytes: chosen.bytes, configBytes, tags, onProgress: opts.onProgress });
      loaded.push(...(tags.length ? tags.map((t) => familiarString(parseReference(t))) : [id]));
    }
  } else {
    throw invalid('the archive is neither a docker-archive (manifest.json) nor an OCI image layout (index.json)');
  }
  for (const l of loaded) ctx.events.publish({ Type: 'image', Action: 'load', Actor: { ID: l, Attributes: { name: l } }, status: 'load', id: l });
  return loaded;
}

function findIndexManifest(a: Archive, indexJson: Buffer, configDigest: string): { desc: Descriptor; bytes: Buffer } | undefined {
  let index;
  try {
    index = parseIndex(indexJson);
  } catch {
    return undefined;
  }
  for (const d of index.manifests) {
    const bytes = a.small.get(`blobs/sha256/${d.digest.slice(7)}`);
    if (!bytes || isIndex(d.mediaType)) continue;
    try {
      const m = JSON.parse(bytes.toString()) as { config?: { digest?: string } };
      if (m.config?.digest === configDigest) return { desc: { mediaType: sniffMediaType(bytes, d.mediaType), digest: d.digest, size: d.size }, bytes };
    } catch {
      continue;
    }
  }
  return undefined;
}

async function pickManifest(a: Archive, d: Descriptor, depth = 0): Promise<{ desc: Descriptor; bytes: Buffer }> {
  const bytes = a.small.get(`blobs/sha256/${d.digest.slice(7)}`);
  if (!bytes) throw invalid(`archive has no manifest blob ${d.digest}`);
  const mt = sniffMediaType(bytes, d.mediaType);
  if (!isIndex(mt)) return { desc: { mediaType: mt, digest: d.digest, size: bytes.length }, bytes };
  if (depth > 2) throw invalid('image index nesting is too deep');
  const inner = parseIndex(bytes);
  const want = hostPlatform();
  const m = inner.manifests.find((x) => platformMatches(want, x.platform)) ?? (inner.manifests.length === 1 ? inner.manifests[0] : undefined);
  if (!m) throw invalid(`no manifest for ${want.os}/${want.architecture} in the archive's index ${d.digest}`);
  return pickManifest(a, m, depth + 1);
}
