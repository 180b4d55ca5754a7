// Test images, built from the host's busybox-static with umoci into OCI
// layouts that are cached per machine outside the repository, and pushed to a
// test registry with skopeo so that the registry's content never depends on
// joey's own push.
//
// What umoci 0.4.7 writes for deletions: `umoci repack` diffs the unpacked tree
// against its mtree and emits one `.wh.<name>` whiteout per removed entry, even
// when a directory's whole content was replaced (it never writes an opaque
// whiteout); `umoci insert --opaque` is what writes `<dir>/.wh..wh..opq`. The
// `multilayer` image uses both.
import { createHash, randomBytes, randomFillSync } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { chmod, link, mkdir, mkdtemp, readFile, readdir, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import {
  MT, digestOf, readJsonBlob, setTag, tagged, writeBlob,
  type Descriptor, type Index, type Manifest, type Platform,
} from './oci-layout.ts';
import { removeDir, run, runOk } from './proc.ts';
import { tarBuffer } from './tar.ts';
import type { Registry } from './registry.ts';
import { RegistryClient, type Creds } from './registry-client.ts';

/** Bump when a recipe changes: it is part of every cache key. */
export const BUILDER_VERSION = 'joey-test-images/2';
export const BUSYBOX = '/bin/busybox';
export const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
export const TEST_LABEL = 'org.joey.test.image';

export type ImageName = 'busybox' | 'multilayer' | 'multiplatform' | 'big';

export interface BuiltImage {
  name: ImageName;
  /** The OCI layout directory (in the cache: read-only by convention). */
  layout: string;
  /** Its tag in the layout; for `multiplatform` it points at an image index. */
  tag: string;
  /** The skopeo source reference, oci:LAYOUT:TAG. */
  source: string;
  isIndex: boolean;
  /** The cache key (hex). */
  key: string;
}

export interface Recipe {
  /** The inputs beyond the busybox binary that decide the content. */
  inputs: Record<string, unknown>;
  build(layout: string, work: string): Promise<void>;
}

const DEFAULT_CACHE = '/var/cache/joey-test';
export const cacheRoot = (): string => process.env.JOEY_TEST_CACHE || DEFAULT_CACHE;

let busyboxHash: Promise<string> | undefined;
function busyboxSha256(): Promise<string> {
  busyboxHash ??= new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(BUSYBOX).on('data', (c) => h.update(c)).on('end', () => resolve(h.digest('hex'))).on('error', reject);
  });
  return busyboxHash;
}

const building = new Map<string, Promise<BuiltImage>>();

/**
 * The image's OCI layout under `${JOEY_TEST_CACHE:-/var/cache/joey-test}/images/<key>/oci`,
 * built on first use (atomically: safe when several processes race).
 */
export function buildImage(name: ImageName): Promise<BuiltImage> {
  const memo = `${cacheRoot()}|${name}`;
  let p = building.get(memo);
  if (!p) {
    p = buildImageAt(cacheRoot(), name);
    building.set(memo, p);
    p.catch(() => building.delete(memo));
  }
  return p;
}

/** `buildImage` with an explicit cache root and no in-process memo. */
export function buildImageAt(root: string, name: ImageName): Promise<BuiltImage> {
  return buildCached(root, name, RECIPES[name]);
}

/** Moves a finished cache entry into place; when another process finished
 * the same entry first, its copy is kept and ours dropped. */
export async function publishCacheDir(tmp: string, dir: string): Promise<void> {
  try {
    await rename(tmp, dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
    await removeDir(tmp);
  }
}

export async function cacheKey(name: string, recipe: Recipe): Promise<string> {
  const material = JSON.stringify({ builder: BUILDER_VERSION, name, inputs: recipe.inputs, busybox: await busyboxSha256() });
  return createHash('sha256').update(material).digest('hex').slice(0, 32);
}

async function buildCached(root: string, name: ImageName, recipe: Recipe): Promise<BuiltImage> {
  const key = await cacheKey(name, recipe);
  const dir = join(root, 'images', key);
  const result = (): BuiltImage => ({
    name, layout: join(dir, 'oci'), tag: 'latest', source: `oci:${join(dir, 'oci')}:latest`, isIndex: name === 'multiplatform', key,
  });
  if (existsSync(join(dir, 'done.json'))) return result();
  await mkdir(join(root, 'images'), { recursive: true });
  await removeStaleBuilds(join(root, 'images'));
  const tmp = await mkdtemp(join(root, 'images', `.build-${key}-`));
  try {
    const layout = join(tmp, 'oci');
    const work = join(tmp, 'work');
    await mkdir(work);
    await runOk('umoci', ['init', '--layout', layout]);
    const started = Date.now();
    await recipe.build(layout, work);
    await runOk('umoci', ['gc', '--layout', layout]);
    await rm(work, { recursive: true, force: true });
    await chmod(tmp, 0o755);
    await writeFile(join(tmp, 'done.json'), JSON.stringify({ name, key, builder: BUILDER_VERSION, inputs: recipe.inputs, buildMs: Date.now() - started }));
    await publishCacheDir(tmp, dir);
  } catch (e) {
    await removeDir(tmp);
    throw e;
  }
  return result();
}

/** Builds left by killed processes (older than an hour) are removed. */
async function removeStaleBuilds(imagesDir: string): Promise<void> {
  for (const e of await readdir(imagesDir)) {
    if (!e.startsWith('.build-')) continue;
    const st = await stat(join(imagesDir, e)).catch(() => undefined);
    if (st && Date.now() - st.mtimeMs > 3_600_000) await removeDir(join(imagesDir, e));
  }
}

// ---- rootfs pieces -------------------------------------------------------

/** /bin/busybox, one symlink per applet, minimal /etc and the usual empty dirs. */
async function writeBusyboxRootfs(rootfs: string): Promise<void> {
  for (const d of ['bin', 'sbin', 'etc', 'root', 'tmp', 'home', 'proc', 'sys', 'dev', 'var', 'usr/bin', 'usr/sbin']) {
    await mkdir(join(rootfs, d), { recursive: true });
  }
  await chmod(join(rootfs, 'tmp'), 0o1777);
  await writeFile(join(rootfs, 'bin/busybox'), await readFile(BUSYBOX), { mode: 0o755 });
  const applets = (await runOk(BUSYBOX, ['--list'])).stdout.split('\n').map((s) => s.trim()).filter((s) => s && s !== 'busybox');
  for (const a of applets) await symlink('busybox', join(rootfs, 'bin', a));
  await writeFile(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  await writeFile(join(rootfs, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
}

async function umociNew(layout: string, tag: string, work: string, bundleName = 'bundle'): Promise<string> {
  await runOk('umoci', ['new', '--image', `${layout}:${tag}`]);
  const bundle = join(work, bundleName);
  await runOk('umoci', ['unpack', '--image', `${layout}:${tag}`, bundle]);
  return bundle;
}

const repack = (layout: string, tag: string, bundle: string, createdBy: string): Promise<unknown> =>
  runOk('umoci', ['repack', '--refresh-bundle', '--history.created_by', createdBy, '--image', `${layout}:${tag}`, bundle]);

function configure(layout: string, tag: string, opts: { arch?: string; label?: string; cmd?: string[]; extra?: string[] } = {}): Promise<unknown> {
  return runOk('umoci', [
    'config', '--image', `${layout}:${tag}`,
    '--os', 'linux', '--architecture', opts.arch ?? 'amd64',
    '--config.env', PATH_ENV,
    ...(opts.cmd ?? ['sh']).flatMap((c) => ['--config.cmd', c]),
    '--config.label', `${TEST_LABEL}=${opts.label ?? 'busybox'}`,
    '--author', 'joey tests',
    '--history.created_by', 'umoci config',
    ...(opts.extra ?? []),
  ]);
}

// ---- recipes ---------------------------------------------------------------

const busyboxRecipe: Recipe = {
  inputs: { layers: 1 },
  async build(layout, work) {
    const bundle = await umociNew(layout, 'latest', work);
    await writeBusyboxRootfs(join(bundle, 'rootfs'));
    await repack(layout, 'latest', bundle, 'busybox rootfs');
    await configure(layout, 'latest', { label: 'busybox' });
  },
};

/** Paths in the multilayer image, for tests that check what survived. */
export const MULTILAYER = {
  kept: '/data/keep.txt',
  deletedFile: '/data/deleted.txt',
  deletedDir: '/data/deleted-dir',
  opaqueDir: '/data/opaque',
  opaqueOld: ['/data/opaque/old-1', '/data/opaque/old-2'],
  opaqueNew: '/data/opaque/new',
  hardlink: '/data/hardlink', // to keep.txt
  symlink: '/data/symlink', // -> keep.txt
  layers: 3,
} as const;

const multilayerRecipe: Recipe = {
  inputs: { layers: MULTILAYER.layers, paths: MULTILAYER },
  async build(layout, work) {
    const bundle = await umociNew(layout, 'latest', work);
    const root = join(bundle, 'rootfs');
    // Layer 1: busybox plus data that later layers delete or mask.
    await writeBusyboxRootfs(root);
    await mkdir(join(root, 'data/deleted-dir/sub'), { recursive: true });
    await mkdir(join(root, 'data/opaque'), { recursive: true });
    await writeFile(join(root, MULTILAYER.kept), 'kept\n');
    await writeFile(join(root, MULTILAYER.deletedFile), 'deleted in layer 2\n');
    await writeFile(join(root, 'data/deleted-dir/a'), 'a\n');
    await writeFile(join(root, 'data/deleted-dir/sub/b'), 'b\n');
    for (const p of MULTILAYER.opaqueOld) await writeFile(join(bundle, 'rootfs', p), 'old\n');
    await repack(layout, 'latest', bundle, 'layer 1: busybox and data');
    // Layer 2: individual whiteouts (.wh.deleted.txt, .wh.deleted-dir), a hardlink and a symlink.
    await rm(join(root, MULTILAYER.deletedFile));
    await rm(join(root, MULTILAYER.deletedDir), { recursive: true });
    await link(join(root, MULTILAYER.kept), join(root, MULTILAYER.hardlink));
    await symlink('keep.txt', join(root, MULTILAYER.symlink));
    await repack(layout, 'latest', bundle, 'layer 2: deletions, hardlink, symlink');
    // Layer 3: an opaque whiteout (data/opaque/.wh..wh..opq) and the directory's new
    // content. Written with tar-stream: `umoci insert --opaque` (0.4.7) writes a
    // truncated tar (no padding after the last file, no end-of-archive blocks).
    const layer3 = join(work, 'layer3.tar');
    await writeFile(layer3, await tarBuffer([
      { name: 'data/opaque/', type: 'directory', mode: 0o755 },
      { name: 'data/opaque/.wh..wh..opq', type: 'file', mode: 0o644, content: '' },
      { name: 'data/opaque/new', type: 'file', mode: 0o644, content: 'new\n' },
    ]));
    await runOk('umoci', ['raw', 'add-layer', '--history.created_by', 'layer 3: opaque dir', '--image', `${layout}:latest`, layer3]);
    await configure(layout, 'latest', { label: 'multilayer' });
  },
};

export const PLATFORMS: Platform[] = [
  { os: 'linux', architecture: 'amd64' },
  { os: 'linux', architecture: 'arm64' },
  { os: 'linux', architecture: 'arm', variant: 'v7' },
];
export const platformString = (p: Platform): string => `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
const platformTag = (p: Platform): string => platformString(p).replace(/\//g, '-');

const multiplatformRecipe: Recipe = {
  inputs: { platforms: PLATFORMS.map(platformString), file: '/platform' },
  async build(layout, work) {
    const bundle = await umociNew(layout, 'base', work);
    await writeBusyboxRootfs(join(bundle, 'rootfs'));
    await repack(layout, 'base', bundle, 'busybox rootfs');
    // Each platform: the shared busybox layer plus one layer holding /platform.
    const manifests: Descriptor[] = [];
    for (const p of PLATFORMS) {
      const tag = platformTag(p);
      await writeFile(join(bundle, 'rootfs/platform'), `${platformString(p)}\n`);
      await runOk('umoci', ['repack', '--history.created_by', `platform ${platformString(p)}`, '--image', `${layout}:${tag}`, bundle]);
      await configure(layout, tag, { arch: p.architecture, label: `multiplatform-${tag}` });
      let desc = await tagged(layout, tag);
      if (p.variant) desc = await setConfigField(layout, tag, desc, { variant: p.variant });
      manifests.push({ mediaType: desc.mediaType, digest: desc.digest, size: desc.size, platform: p });
    }
    await runOk('umoci', ['rm', '--image', `${layout}:base`]);
    const index = await writeBlob(layout, MT.ociIndex, { schemaVersion: 2, mediaType: MT.ociIndex, manifests });
    await setTag(layout, 'latest', index);
  },
};

/** Rewrites fields of a tagged image's config (umoci has no flag for `variant`). */
async function setConfigField(layout: string, tag: string, desc: Descriptor, fields: Record<string, unknown>): Promise<Descriptor> {
  const manifest = await readJsonBlob<Manifest>(layout, desc.digest);
  const config = { ...(await readJsonBlob<Record<string, unknown>>(layout, manifest.config.digest)), ...fields };
  manifest.config = await writeBlob(layout, manifest.config.mediaType, config);
  const m = await writeBlob(layout, desc.mediaType, manifest);
  await setTag(layout, tag, m);
  return m;
}

export const BIG = { layers: 4, randomBytesPerLayer: 72 << 20, randomFilesPerLayer: 6, smallFilesPerLayer: 400 } as const;

const bigRecipe: Recipe = {
  inputs: BIG,
  async build(layout, work) {
    const bundle = await umociNew(layout, 'latest', work);
    const root = join(bundle, 'rootfs');
    await writeBusyboxRootfs(root);
    const chunk = Buffer.allocUnsafe(1 << 20);
    for (let l = 0; l < BIG.layers; l++) {
      const dir = join(root, `big/layer-${l}`);
      await mkdir(join(dir, 'small'), { recursive: true });
      const perFile = Math.floor(BIG.randomBytesPerLayer / BIG.randomFilesPerLayer);
      for (let f = 0; f < BIG.randomFilesPerLayer; f++) {
        const parts: Buffer[] = [];
        for (let left = perFile; left > 0; left -= chunk.length) parts.push(Buffer.from(randomFillSync(chunk).subarray(0, Math.min(left, chunk.length))));
        await writeFile(join(dir, `random-${f}.bin`), Buffer.concat(parts));
      }
      for (let s = 0; s < BIG.smallFilesPerLayer; s++) {
        await writeFile(join(dir, 'small', `f-${s}.txt`), `layer ${l} file ${s} ${randomBytes(8 + (s % 200)).toString('hex')}\n`);
      }
      await repack(layout, 'latest', bundle, `big layer ${l}`);
    }
    await configure(layout, 'latest', { label: 'big' });
  },
};

export const RECIPES: Record<ImageName, Recipe> = {
  busybox: busyboxRecipe,
  multilayer: multilayerRecipe,
  multiplatform: multiplatformRecipe,
  big: bigRecipe,
};

// ---- pushing -----------------------------------------------------------------

export type PushFormat = 'oci' | 'v2s2';

export interface PushOptions {
  /** Repository name; default: the image name. */
  repo?: string;
  tag?: string;
  /** 'oci' keeps the layout's OCI media types; 'v2s2' converts to Docker schema 2. Default 'oci'. */
  format?: PushFormat;
  /** Default: the registry's first user, if it has users. */
  creds?: Creds;
}

export interface Pushed {
  /** HOST/REPO:TAG */
  ref: string;
  /** HOST/REPO@sha256:… (the digest of what the tag points at: manifest or index). */
  byDigest: string;
  digest: string;
  repo: string;
  tag: string;
}

/** Pushes an image to the registry with skopeo (all platforms for an index). */
export async function pushImage(reg: Registry, image: ImageName | BuiltImage, opts: PushOptions = {}): Promise<Pushed> {
  const built = typeof image === 'string' ? await buildImage(image) : image;
  const repo = opts.repo ?? built.name;
  const tag = opts.tag ?? 'latest';
  const creds = opts.creds ?? reg.users?.[0];
  const tmp = await mkdtemp(join(process.env.TMPDIR ?? '/tmp', 'joey-it-push-'));
  try {
    const digestFile = join(tmp, 'digest');
    const args = [
      '--insecure-policy', 'copy', '--quiet', '--dest-tls-verify=false', '--digestfile', digestFile,
      ...(built.isIndex ? ['--all'] : []),
      ...(opts.format === 'v2s2' ? ['--format', 'v2s2'] : []),
      ...(creds ? ['--dest-creds', `${creds.username}:${creds.password}`] : []),
      built.source, `docker://${reg.host}/${repo}:${tag}`,
    ];
    await runOk('skopeo', args, { env: skopeoEnv(tmp) });
    const digest = (await readFile(digestFile, 'utf8')).trim();
    return { ref: `${reg.host}/${repo}:${tag}`, byDigest: `${reg.host}/${repo}@${digest}`, digest, repo, tag };
  } finally {
    await removeDir(tmp);
  }
}

/** Pushes the image twice, as OCI (`REPO:oci`) and as Docker schema 2 (`REPO:v2s2`). */
export async function pushBothFormats(reg: Registry, image: ImageName, opts: Omit<PushOptions, 'format' | 'tag'> = {}): Promise<{ oci: Pushed; v2s2: Pushed }> {
  return {
    oci: await pushImage(reg, image, { ...opts, format: 'oci', tag: 'oci' }),
    v2s2: await pushImage(reg, image, { ...opts, format: 'v2s2', tag: 'v2s2' }),
  };
}

/** skopeo with private config: a policy and auth file of its own, never the host's. */
function skopeoEnv(tmp: string): NodeJS.ProcessEnv {
  return { ...process.env, REGISTRY_AUTH_FILE: join(tmp, 'auth.json'), XDG_RUNTIME_DIR: tmp, HOME: tmp };
}

/** `skopeo inspect` of docker://REF; `raw` returns the manifest as stored. */
export async function skopeoInspect(ref: string, opts: { creds?: Creds; raw?: boolean; config?: boolean; platform?: Platform } = {}): Promise<{ code: number; json?: any; stderr: string }> {
  const tmp = await mkdtemp(join(process.env.TMPDIR ?? '/tmp', 'joey-it-skopeo-'));
  try {
    const args = [
      ...(opts.platform ? ['--override-os', opts.platform.os, '--override-arch', opts.platform.architecture, ...(opts.platform.variant ? ['--override-variant', opts.platform.variant] : [])] : []),
      'inspect', '--tls-verify=false',
      ...(opts.raw ? ['--raw'] : []), ...(opts.config ? ['--config'] : []),
      ...(opts.creds ? ['--creds', `${opts.creds.username}:${opts.creds.password}`] : ['--no-creds']),
      `docker://${ref}`,
    ];
    const r = await run('skopeo', args, { env: skopeoEnv(tmp) });
    return { code: r.code, stderr: r.stderr, ...(r.code === 0 ? { json: JSON.parse(r.stdout) } : {}) };
  } finally {
    await removeDir(tmp);
  }
}

/** `skopeo copy` with private config; `--insecure-policy` and no TLS verification on either side. */
export async function skopeoCopy(src: string, dest: string, extra: string[] = []): Promise<void> {
  const tmp = await mkdtemp(join(process.env.TMPDIR ?? '/tmp', 'joey-it-skopeo-'));
  try {
    await runOk('skopeo', ['--insecure-policy', 'copy', '--quiet', '--src-tls-verify=false', '--dest-tls-verify=false', ...extra, src, dest], { env: skopeoEnv(tmp) });
  } finally {
    await removeDir(tmp);
  }
}

// ---- raw pushes --------------------------------------------------------------

export interface RawImage {
  /** The manifest: an object (serialized here), or exact bytes. Default: an OCI manifest built from config and layers. */
  manifest?: object | Buffer | string;
  /** The Content-Type of the manifest PUT; default: the manifest's own mediaType, else OCI manifest. */
  manifestMediaType?: string;
  /** The config: an object or bytes. Default: linux/amd64 with diff_ids computed from `layers`. */
  config?: object | Buffer;
  /** Layer blobs as uploaded (gzip them first for the gzip media types). */
  layers?: Buffer[];
  /** Media type of the layers in the default manifest; default OCI tar+gzip. */
  layerMediaType?: string;
  /** Extra blobs to upload (for manifests that reference more). */
  blobs?: Buffer[];
  creds?: Creds;
}

export interface RawPushed {
  ref: string;
  digest: string;
  manifest: Buffer;
  mediaType: string;
  config?: Descriptor;
  layers: Descriptor[];
}

/**
 * Uploads blobs and a manifest with plain HTTP requests, bypassing skopeo's
 * checks, so that tests can serve hostile content. `tag` may be a digest.
 */
export async function pushRaw(reg: Registry | { url: string; host: string; users?: Creds[] }, name: string, tag: string, image: RawImage): Promise<RawPushed> {
  const client = new RegistryClient(reg.url, image.creds ?? reg.users?.[0]);
  const layerMediaType = image.layerMediaType ?? MT.ociLayerGzip;
  const layers: Descriptor[] = [];
  for (const l of image.layers ?? []) {
    layers.push({ mediaType: layerMediaType, digest: await client.putBlob(name, l), size: l.length });
  }
  for (const b of image.blobs ?? []) await client.putBlob(name, b);
  let config: Descriptor | undefined;
  if (image.config !== undefined || image.manifest === undefined) {
    const bytes = image.config === undefined
      ? Buffer.from(JSON.stringify(defaultConfig(image.layers ?? [], layerMediaType)))
      : Buffer.isBuffer(image.config) ? image.config : Buffer.from(JSON.stringify(image.config));
    const cmt = layerMediaType.startsWith('application/vnd.docker') ? MT.dockerConfig : MT.ociConfig;
    config = { mediaType: cmt, digest: await client.putBlob(name, bytes), size: bytes.length };
  }
  let manifest: Buffer;
  let mediaType: string;
  if (image.manifest === undefined) {
    mediaType = image.manifestMediaType ?? (layerMediaType.startsWith('application/vnd.docker') ? MT.dockerManifest : MT.ociManifest);
    manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType, config, layers }));
  } else {
    manifest = Buffer.isBuffer(image.manifest) ? image.manifest
      : Buffer.from(typeof image.manifest === 'string' ? image.manifest : JSON.stringify(image.manifest));
    let declared: string | undefined;
    try {
      declared = (JSON.parse(manifest.toString()) as { mediaType?: string }).mediaType;
    } catch {
      // Not JSON: the caller must say what to send it as.
    }
    mediaType = image.manifestMediaType ?? declared ?? MT.ociManifest;
  }
  const digest = await client.putManifest(name, tag, manifest, mediaType);
  return { ref: tag.startsWith('sha256:') ? `${reg.host}/${name}@${tag}` : `${reg.host}/${name}:${tag}`, digest, manifest, mediaType, ...(config ? { config } : {}), layers };
}

/** A linux/amd64 image config whose diff_ids match the given (gzipped or plain) layers. */
export function defaultConfig(layers: Buffer[], layerMediaType: string = MT.ociLayerGzip, extra: Record<string, unknown> = {}): object {
  const gz = /gzip/.test(layerMediaType);
  return {
    created: new Date().toISOString(),
    architecture: 'amd64',
    os: 'linux',
    config: { Env: [PATH_ENV], Cmd: ['sh'] },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => digestOf(gz ? gunzipSync(l) : l)) },
    history: layers.map(() => ({ created: new Date().toISOString(), created_by: 'joey test pushRaw' })),
    ...extra,
  };
}

/** Pushes an image index (or Docker manifest list) of already pushed manifests. */
export async function pushIndex(reg: Registry | { url: string; host: string; users?: Creds[] }, name: string, tag: string, manifests: Descriptor[], mediaType: string = MT.ociIndex): Promise<RawPushed> {
  const index: Index = { schemaVersion: 2, mediaType, manifests };
  return pushRaw(reg, name, tag, { manifest: index, manifestMediaType: mediaType });
}

/** Reads the digests an image's manifest(s) reference in an OCI layout, for blob accounting. */
export async function layoutDigests(layout: string, tag = 'latest'): Promise<{ manifests: string[]; configs: string[]; layers: string[] }> {
  const out = { manifests: [] as string[], configs: [] as string[], layers: [] as string[] };
  const visit = async (d: Descriptor): Promise<void> => {
    out.manifests.push(d.digest);
    if (d.mediaType === MT.ociIndex || d.mediaType === MT.dockerList) {
      for (const m of (await readJsonBlob<Index>(layout, d.digest)).manifests) await visit(m);
      return;
    }
    const m = await readJsonBlob<Manifest>(layout, d.digest);
    out.configs.push(m.config.digest);
    out.layers.push(...m.layers.map((l) => l.digest));
  };
  await visit(await tagged(layout, tag));
  return out;
}

