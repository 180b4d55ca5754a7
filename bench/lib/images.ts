// The pull benchmark's images, built directly as OCI image layouts (tar +
// gzip + JSON) and cached outside the repository under
// ${JOEY_BENCH_CACHE:-/var/cache/joey-bench}/<name>-<content key>/.
//
// Each layer looks like a slice of a distribution's /usr: thousands of small
// files (1–64 KiB, log-uniform) and a few big ones (4–24 MiB), whose bytes are
// a mix of word-like text (compresses to ~30 %) and random blocks
// (incompressible), so a layer compresses to about half. The first layer also
// holds a static busybox as /bin/sh, so the images can be run.
import { spawnSync } from 'node:child_process';
import { createHash, randomFillSync, randomInt } from 'node:crypto';
import { createGzip, gzipSync } from 'node:zlib';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { tarEnd, tarHeader, tarPadding, type TarHeader } from './tar.ts';

export interface ImageSpec {
  name: string;
  layers: number;
  /** target uncompressed bytes of file content over all layers */
  contentBytes: number;
}

/** Parameters of the generator; any change here gives new content keys. */
const GENERATOR = {
  version: 1,
  chunk: 4096,
  /** share of chunks filled with random (incompressible) bytes */
  randomFraction: 0.22,
  /** share of a layer's bytes in big files */
  bigFraction: 0.35,
  smallMin: 1024,
  smallMax: 64 * 1024,
  bigMin: 4 << 20,
  bigMax: 24 << 20,
  filesPerDirMin: 20,
  filesPerDirMax: 120,
  gzipLevel: 6,
  vocabulary: 1024,
  textPoolBytes: 16 << 20,
  busybox: '/bin/busybox',
};

const CONTENT_BYTES = 380_000_000;

export const IMAGES: Record<string, ImageSpec> = {
  p1: { name: 'p1', layers: 1, contentBytes: CONTENT_BYTES },
  p5: { name: 'p5', layers: 5, contentBytes: CONTENT_BYTES },
  p10: { name: 'p10', layers: 10, contentBytes: CONTENT_BYTES },
};

export interface LayerInfo {
  digest: string;
  diffId: string;
  /** compressed bytes */
  size: number;
  uncompressedSize: number;
  files: number;
}

export interface BuiltImage {
  name: string;
  dir: string;
  tag: string;
  key: string;
  layers: LayerInfo[];
  compressedBytes: number;
  uncompressedBytes: number;
  files: number;
  manifestDigest: string;
}

const MEDIA = {
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar+gzip',
};

export function cacheRoot(): string {
  return process.env['JOEY_BENCH_CACHE'] || '/var/cache/joey-bench';
}

export function contentKey(spec: ImageSpec): string {
  const h = createHash('sha256').update(JSON.stringify({ spec, generator: GENERATOR })).digest('hex');
  return h.slice(0, 16);
}

// ---- content generator -----------------------------------------------------

const LETTERS = 'abcdefghijklmnopqrstuvwxyz_';
const SEPARATORS = [' ', ' ', ' ', '\n', '.', '(', ')', ', ', '=', '/'];
const EXTENSIONS = ['so', 'py', 'h', 'txt', 'conf', 'pyc', 'mo', 'json', 'pm', 'html'];

function randomWord(): string {
  const n = 3 + randomInt(10);
  let s = '';
  for (let j = 0; j < n; j++) s += LETTERS[randomInt(LETTERS.length)];
  return s;
}

class ContentSource {
  private readonly pool: Buffer;
  readonly words: string[];

  constructor() {
    this.words = Array.from({ length: GENERATOR.vocabulary }, randomWord);
    const parts: string[] = [];
    let len = 0;
    while (len < GENERATOR.textPoolBytes) {
      // a skewed choice of words, as in real text
      const w = this.words[Math.floor(Math.random() ** 3 * this.words.length)] ?? 'x';
      const s = SEPARATORS[randomInt(SEPARATORS.length)] ?? ' ';
      parts.push(w, s);
      len += w.length + s.length;
    }
    this.pool = Buffer.from(parts.join(''), 'latin1');
  }

  word(): string {
    return this.words[randomInt(this.words.length)] ?? 'x';
  }

  /** size bytes of semi-compressible data */
  fill(size: number): Buffer {
    const buf = Buffer.allocUnsafe(size);
    const chunk = GENERATOR.chunk;
    for (let o = 0; o < size; o += chunk) {
      const n = Math.min(chunk, size - o);
      if (Math.random() < GENERATOR.randomFraction) {
        randomFillSync(buf, o, n);
      } else {
        const from = randomInt(this.pool.length - chunk);
        this.pool.copy(buf, o, from, from + n);
      }
    }
    return buf;
  }
}

/** Writes a tar stream through gzip into a file, hashing both sides. */
class LayerWriter {
  private readonly gzip = createGzip({ level: GENERATOR.gzipLevel });
  private readonly diffHash = createHash('sha256');
  private readonly blobHash = createHash('sha256');
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private written = 0;
  private compressed = 0;
  private readonly done: Promise<void>;
  private writeChain: Promise<void> = Promise.resolve();

  constructor(private readonly fh: FileHandle) {
    this.gzip.on('data', (b: Buffer) => {
      this.blobHash.update(b);
      this.compressed += b.length;
      this.writeChain = this.writeChain.then(async () => {
        await this.fh.write(b);
      });
    });
    this.done = new Promise((resolve, reject) => {
      this.gzip.on('end', () => resolve());
      this.gzip.on('error', reject);
    });
  }

  async write(b: Buffer): Promise<void> {
    this.pending.push(b);
    this.pendingBytes += b.length;
    if (this.pendingBytes >= 1 << 20) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.pendingBytes === 0) return;
    const b = Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    this.diffHash.update(b);
    this.written += b.length;
    if (!this.gzip.write(b)) await once(this.gzip, 'drain');
  }

  async finish(): Promise<{ diffId: string; digest: string; size: number; uncompressedSize: number }> {
    await this.flush();
    this.gzip.end();
    await this.done;
    await this.writeChain;
    return {
      diffId: 'sha256:' + this.diffHash.digest('hex'),
      digest: 'sha256:' + this.blobHash.digest('hex'),
      size: this.compressed,
      uncompressedSize: this.written,
    };
  }
}

async function writeLayer(
  src: ContentSource,
  blobsDir: string,
  image: string,
  index: number,
  contentBytes: number,
): Promise<LayerInfo> {
  const tmp = join(blobsDir, `.tmp-layer-${index}`);
  const fh = await open(tmp, 'w');
  const w = new LayerWriter(fh);
  let files = 0;
  const entry = async (h: TarHeader, body?: Buffer) => {
    await w.write(tarHeader(h));
    if (body) {
      await w.write(body);
      await w.write(tarPadding(body.length));
    }
    if (h.type !== 'dir') files++;
  };
  const mtime = 1_700_000_000;

  if (index === 0) {
    const busybox = readFileSync(GENERATOR.busybox);
    await entry({ name: 'bin', type: 'dir', mode: 0o755, mtime });
    await entry({ name: 'bin/busybox', type: 'file', mode: 0o755, size: busybox.length, mtime }, busybox);
    await entry({ name: 'bin/sh', type: 'symlink', mode: 0o777, linkname: 'busybox', mtime });
    await entry({ name: 'etc', type: 'dir', mode: 0o755, mtime });
    await entry({ name: 'root', type: 'dir', mode: 0o700, mtime });
    await entry({ name: 'tmp', type: 'dir', mode: 0o1777, mtime });
  }
  const top = `usr/lib/bench-${image}-${index + 1}`;
  await entry({ name: 'usr', type: 'dir', mode: 0o755, mtime });
  await entry({ name: 'usr/lib', type: 'dir', mode: 0o755, mtime });
  await entry({ name: top, type: 'dir', mode: 0o755, mtime });

  // small files, grouped in package-like directories
  const smallTarget = Math.round(contentBytes * (1 - GENERATOR.bigFraction));
  const logMin = Math.log(GENERATOR.smallMin);
  const logMax = Math.log(GENERATOR.smallMax);
  let small = 0;
  let dirNo = 0;
  while (small < smallTarget) {
    const dir = `${top}/pkg${String(dirNo++).padStart(4, '0')}-${src.word()}`;
    await entry({ name: dir, type: 'dir', mode: 0o755, mtime });
    const count = GENERATOR.filesPerDirMin + randomInt(GENERATOR.filesPerDirMax - GENERATOR.filesPerDirMin + 1);
    for (let i = 0; i < count && small < smallTarget; i++) {
      const size = Math.min(Math.floor(Math.exp(logMin + Math.random() * (logMax - logMin))), smallTarget - small);
      const ext = EXTENSIONS[randomInt(EXTENSIONS.length)] ?? 'dat';
      const name = `${dir}/${src.word()}${i}.${ext}`;
      await entry({ name, type: 'file', mode: ext === 'so' ? 0o755 : 0o644, size, mtime }, src.fill(size));
      small += size;
    }
  }

  // a few big files, written in 1 MiB pieces
  const bigTarget = contentBytes - small;
  let big = 0;
  if (bigTarget > 0) await entry({ name: `${top}/big`, type: 'dir', mode: 0o755, mtime });
  for (let n = 0; big < bigTarget; n++) {
    let size = GENERATOR.bigMin + randomInt(GENERATOR.bigMax - GENERATOR.bigMin);
    size = Math.min(size, bigTarget - big);
    await w.write(tarHeader({ name: `${top}/big/lib${src.word()}-${n}.so.1`, type: 'file', mode: 0o755, size, mtime }));
    for (let o = 0; o < size; o += 1 << 20) await w.write(src.fill(Math.min(1 << 20, size - o)));
    await w.write(tarPadding(size));
    files++;
    big += size;
  }
  await w.write(tarEnd());
  const r = await w.finish();
  await fh.close();
  await rename(tmp, join(blobsDir, r.digest.slice('sha256:'.length)));
  return { ...r, files };
}

async function writeBlob(blobsDir: string, data: Buffer): Promise<{ digest: string; size: number }> {
  const hex = createHash('sha256').update(data).digest('hex');
  await writeFile(join(blobsDir, hex), data);
  return { digest: 'sha256:' + hex, size: data.length };
}

/** Runs fns with at most limit of them at a time; results in order. */
async function limited<T>(limit: number, fns: (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array<T>(fns.length);
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      const fn = fns[i];
      if (fn === undefined) return;
      results[i] = await fn();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, fns.length) }, worker));
  return results;
}

/** Writes config, manifest, index.json and oci-layout for `layers` (already
 * in blobsDir) into the OCI layout at dir; returns the manifest's digest. */
async function writeLayout(dir: string, blobsDir: string, layers: LayerInfo[], label: string, createdBy: (i: number) => string): Promise<string> {
  const created = '2024-01-01T00:00:00Z';
  const config = {
    created,
    architecture: 'amd64',
    os: 'linux',
    config: {
      Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      Cmd: ['/bin/sh'],
      Labels: { 'org.joey.bench': label },
    },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history: layers.map((_l, i) => ({ created, created_by: createdBy(i) })),
  };
  const cfg = await writeBlob(blobsDir, Buffer.from(JSON.stringify(config)));
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA.manifest,
    config: { mediaType: MEDIA.config, digest: cfg.digest, size: cfg.size },
    layers: layers.map((l) => ({ mediaType: MEDIA.layer, digest: l.digest, size: l.size })),
  };
  const man = await writeBlob(blobsDir, Buffer.from(JSON.stringify(manifest)));
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: MEDIA.manifest, digest: man.digest, size: man.size, annotations: { 'org.opencontainers.image.ref.name': 'latest' } }],
    }),
  );
  return man.digest;
}

async function buildLayout(spec: ImageSpec, dir: string, key: string, log: (s: string) => void): Promise<BuiltImage> {
  const blobsDir = join(dir, 'blobs', 'sha256');
  await mkdir(blobsDir, { recursive: true });
  const src = new ContentSource();
  const perLayer = Math.floor(spec.contentBytes / spec.layers);
  const started = Date.now();
  const layers = await limited(
    Math.max(1, availableParallelism()),
    Array.from({ length: spec.layers }, (_v, i) => () => writeLayer(src, blobsDir, spec.name, i, perLayer)),
  );
  const manifestDigest = await writeLayout(dir, blobsDir, layers, `pull ${spec.name} ${key}`, (i) => `joey bench: layer ${i + 1} of ${spec.name}`);
  const built: BuiltImage = {
    name: spec.name,
    dir,
    tag: 'latest',
    key,
    layers,
    compressedBytes: layers.reduce((a, l) => a + l.size, 0),
    uncompressedBytes: layers.reduce((a, l) => a + l.uncompressedSize, 0),
    files: layers.reduce((a, l) => a + l.files, 0),
    manifestDigest,
  };
  log(`built ${spec.name} in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  return built;
}

/** The cached OCI layout of spec, built first if it is not in the cache. */
export async function ensureImage(spec: ImageSpec, log: (s: string) => void): Promise<BuiltImage> {
  const key = contentKey(spec);
  const root = cacheRoot();
  const dir = join(root, `${spec.name}-${key}`);
  const summaryPath = join(dir, 'bench-image.json');
  if (existsSync(summaryPath)) {
    const built = JSON.parse(await readFile(summaryPath, 'utf8')) as BuiltImage;
    // the layout may have moved with the cache root
    const missing = built.layers.find((l) => !existsSync(join(dir, 'blobs', 'sha256', l.digest.slice(7))));
    if (!missing) return { ...built, dir };
    log(`cache ${dir} is incomplete (missing ${missing.digest}); rebuilding`);
  }
  await mkdir(root, { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  log(`building ${spec.name} (${spec.layers} layers, ~${(spec.contentBytes / 1e6).toFixed(0)} MB of files) into ${dir}`);
  try {
    const built = await buildLayout(spec, tmp, key, log);
    await writeFile(join(tmp, 'bench-image.json'), JSON.stringify({ ...built, dir }, null, 2) + '\n');
    await rm(dir, { recursive: true, force: true });
    await rename(tmp, dir);
    return { ...built, dir };
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}

// ---- the run benchmarks' image ---------------------------------------------

/** Applets linked in the busybox image (all run as `busybox <applet>`). */
const BUSYBOX_APPLETS = ['sh', 'true', 'sleep', 'ls', 'cat', 'echo', 'ps'];

/**
 * A one-layer busybox image (the host's static busybox, a few applet links,
 * /etc, /root, /tmp), built as an OCI layout in the cache like the pull
 * images. Returns it with the path of its layer blob (for a runc bundle).
 */
export async function ensureBusyboxImage(log: (s: string) => void): Promise<BuiltImage & { layerPath: string }> {
  const busybox = readFileSync(GENERATOR.busybox);
  const key = createHash('sha256')
    .update(JSON.stringify({ image: 'busybox', version: 1, applets: BUSYBOX_APPLETS }))
    .update(busybox)
    .digest('hex')
    .slice(0, 16);
  const dir = join(cacheRoot(), `busybox-${key}`);
  const summaryPath = join(dir, 'bench-image.json');
  const withLayer = (b: BuiltImage) => ({ ...b, dir, layerPath: join(dir, 'blobs', 'sha256', (b.layers[0]?.digest ?? '').slice(7)) });
  if (existsSync(summaryPath)) {
    const built = JSON.parse(await readFile(summaryPath, 'utf8')) as BuiltImage;
    const img = withLayer(built);
    if (existsSync(img.layerPath)) return img;
  }
  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  const blobsDir = join(tmp, 'blobs', 'sha256');
  await mkdir(blobsDir, { recursive: true });
  const mtime = 1_700_000_000;
  const parts: Buffer[] = [];
  const entry = (h: TarHeader, body?: Buffer) => {
    parts.push(tarHeader({ ...h, mtime }));
    if (body) parts.push(body, tarPadding(body.length));
  };
  entry({ name: 'bin', type: 'dir', mode: 0o755 });
  entry({ name: 'bin/busybox', type: 'file', mode: 0o755, size: busybox.length }, busybox);
  for (const a of BUSYBOX_APPLETS) entry({ name: `bin/${a}`, type: 'symlink', mode: 0o777, linkname: 'busybox' });
  for (const d of ['etc', 'dev', 'proc', 'sys']) entry({ name: d, type: 'dir', mode: 0o755 });
  entry({ name: 'root', type: 'dir', mode: 0o700 });
  entry({ name: 'tmp', type: 'dir', mode: 0o1777 });
  parts.push(tarEnd());
  const tar = Buffer.concat(parts);
  const gz = gzipSync(tar, { level: GENERATOR.gzipLevel });
  const diffId = 'sha256:' + createHash('sha256').update(tar).digest('hex');
  const blob = await writeBlob(blobsDir, gz);
  const layer: LayerInfo = { digest: blob.digest, diffId, size: blob.size, uncompressedSize: tar.length, files: 2 + BUSYBOX_APPLETS.length };
  const manifestDigest = await writeLayout(tmp, blobsDir, [layer], `busybox ${key}`, () => 'joey bench: static busybox');
  const built: BuiltImage = {
    name: 'busybox',
    dir,
    tag: 'latest',
    key,
    layers: [layer],
    compressedBytes: blob.size,
    uncompressedBytes: tar.length,
    files: layer.files,
    manifestDigest,
  };
  await writeFile(join(tmp, 'bench-image.json'), JSON.stringify(built, null, 2) + '\n');
  await mkdir(cacheRoot(), { recursive: true });
  await rm(dir, { recursive: true, force: true });
  await rename(tmp, dir);
  log(`built busybox image ${dir}`);
  return withLayer(built);
}

/**
 * A copy of the image's layout under `dst` whose layers are
 * recompressed with zstd (level 3, zstd's default) and listed as
 * `tar+zstd` in an OCI manifest; same config, so the same diff ids. Not
 * cached: zstd at level 3 is quick next to a pull.
 */
export async function zstdLayout(b: BuiltImage, dst: string, log: (s: string) => void): Promise<BuiltImage> {
  const src = b.dir;
  const tag = b.tag;
  const blob = (dir: string, digest: string): string => join(dir, 'blobs', 'sha256', digest.replace(/^sha256:/, ''));
  const index = JSON.parse(await readFile(join(src, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string; annotations?: Record<string, string> }> };
  const desc = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag) ?? index.manifests[0];
  if (!desc) throw new Error(`${src}: no manifest for ${tag}`);
  const manifest = JSON.parse(await readFile(blob(src, desc.digest), 'utf8')) as {
    config: { mediaType: string; digest: string; size: number };
    layers: Array<{ digest: string; size: number }>;
  };
  const blobsDir = join(dst, 'blobs', 'sha256');
  await mkdir(blobsDir, { recursive: true });
  await writeFile(blob(dst, manifest.config.digest), await readFile(blob(src, manifest.config.digest)));
  const started = Date.now();
  const layers = await Promise.all(manifest.layers.map(async (l) => {
    const tmp = join(dst, `layer-${l.digest.slice(7, 19)}.zst`);
    const r = spawnSync('sh', ['-c', 'gzip -dc < "$1" | zstd -q -c -3 > "$2"', 'sh', blob(src, l.digest), tmp]);
    if (r.status !== 0) throw new Error(`recompressing ${l.digest}: ${r.stderr.toString()}`);
    const h = createHash('sha256');
    const fh = await open(tmp);
    let size = 0;
    try {
      for await (const chunk of fh.createReadStream()) {
        h.update(chunk as Buffer);
        size += (chunk as Buffer).length;
      }
    } finally {
      await fh.close();
    }
    const digest = `sha256:${h.digest('hex')}`;
    await rename(tmp, blob(dst, digest));
    return { digest, size };
  }));
  const out = {
    schemaVersion: 2,
    mediaType: MEDIA.manifest,
    config: manifest.config,
    layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd', digest: l.digest, size: l.size })),
  };
  const man = await writeBlob(blobsDir, Buffer.from(JSON.stringify(out)));
  await writeFile(join(dst, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(join(dst, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    manifests: [{ mediaType: MEDIA.manifest, digest: man.digest, size: man.size, annotations: { 'org.opencontainers.image.ref.name': tag } }],
  }));
  const compressedBytes = layers.reduce((a, l) => a + l.size, 0);
  log(`recompressed ${manifest.layers.length} layers with zstd: ${(compressedBytes / 1e6).toFixed(1)} MB (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return { ...b, dir: dst, layers: b.layers.map((l, i) => ({ ...l, ...layers[i]! })), compressedBytes, manifestDigest: man.digest };
}
