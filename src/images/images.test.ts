// The image service against an in-process registry, with the real content
// store, snapshotter and layer unpacker in a temporary data root.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import tar from 'tar-stream';
import { applyLayer, type ApplyLayer } from '../archive/index.ts';
import { openContentStore } from '../content/store.ts';
import { Events } from '../engine/events.ts';
import { openDatabase } from '../metadata/db.ts';
import { FakeRegistry } from '../remotes/fake-registry.ts';
import { createRegistry } from '../remotes/index.ts';
import { openOverlaySnapshotter } from '../snapshots/overlay.ts';
import { ImageContext } from './context.ts';
import { collectGarbage } from './gc.ts';
import { MT } from './media-types.ts';
import { Images } from './service.ts';

const sha = (b: Buffer) => 'sha256:' + createHash('sha256').update(b).digest('hex');

async function makeTar(files: Record<string, string | Buffer>): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, body] of Object.entries(files)) pack.entry({ name, mode: 0o644, mtime: new Date(1000) }, body);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

interface Built {
  tag: string;
  manifest: Buffer;
  layers: Buffer[];
  configDigest: string;
}

/** Puts an image of `layers` (files per layer) into the fake registry. */
async function addImage(reg: FakeRegistry, path: string, tag: string, layerFiles: Array<Record<string, string | Buffer>>, tweak?: { badDiffId?: boolean }): Promise<Built> {
  const tars = await Promise.all(layerFiles.map(makeTar));
  const gz = tars.map((t) => gzipSync(t));
  const diffIds = tars.map(sha);
  if (tweak?.badDiffId) diffIds[0] = sha(Buffer.from('not the layer'));
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', created: '2026-01-01T00:00:00Z', config: { Cmd: ['sh'], Labels: { t: path } }, rootfs: { type: 'layers', diff_ids: diffIds } }));
  const cfgDesc = reg.addBlob(path, config, MT.ociConfig);
  const layerDescs = gz.map((g) => reg.addBlob(path, g, MT.ociLayerGzip));
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MT.ociManifest, config: cfgDesc, layers: layerDescs }));
  reg.addManifest(path, manifest, MT.ociManifest, tag);
  return { tag, manifest, layers: gz, configDigest: cfgDesc.digest };
}

async function openImages(root: string, reg?: FakeRegistry, apply: ApplyLayer = applyLayer): Promise<{ images: Images; ctx: ImageContext; close(): Promise<void> }> {
  await mkdir(root, { recursive: true });
  const db = openDatabase(join(root, 'joey.db'));
  const content = await openContentStore(join(root, 'content'));
  const snapshots = await openOverlaySnapshotter(join(root, 'snapshots'), db);
  await snapshots.cleanup();
  const ctx = new ImageContext({
    db,
    content,
    snapshots,
    registry: createRegistry({ insecureRegistries: reg ? [reg.host] : [], mirrors: [] }),
    events: new Events(),
    applyLayer: apply,
    maxConcurrentDownloads: 4,
    maxConcurrentUploads: 4,
    snapshotRoot: join(root, 'snapshots'),
  });
  return {
    images: new Images(ctx),
    ctx,
    async close() {
      await snapshots.close();
      db.close();
    },
  };
}

async function countFiles(dir: string): Promise<number> {
  try {
    return (await readdir(dir)).length;
  } catch {
    return 0;
  }
}

describe('image service', () => {
  let reg: FakeRegistry;
  let root: string;
  before(async () => {
    reg = await FakeRegistry.start();
    root = await mkdtemp(join(tmpdir(), 'joey-images-'));
  });
  after(async () => {
    await reg.close();
    await rm(root, { recursive: true, force: true });
  });

  it('pulls, lists, inspects, and removes leaving nothing behind', async () => {
    await addImage(reg, 'app', 'v1', [{ 'etc/a': 'one' }, { 'etc/b': 'two', '.wh.gone': '' }]);
    const dir = join(root, 'basic');
    const { images, close } = await openImages(dir, reg);
    try {
      const res = await images.pull(`${reg.host}/app:v1`);
      assert.equal(res.downloaded, true);
      const list = await images.list();
      assert.equal(list.length, 1);
      assert.deepEqual(list[0]!.RepoTags, [`${reg.host}/app:v1`]);
      const info = await images.inspect(`${reg.host}/app:v1`);
      assert.equal(info.RootFS.Layers.length, 2);
      assert.deepEqual(info.Config.Cmd, ['sh']);
      // Unpacked files and the whiteout are on disk in the layer directories.
      const again = await images.pull(`${reg.host}/app:v1`);
      assert.equal(again.downloaded, false);
      const removed = await images.remove(`${reg.host}/app:v1`);
      assert.ok(removed.some((r) => 'Deleted' in r && r.Deleted === res.id));
      assert.equal(await countFiles(join(dir, 'content/blobs/sha256')), 0);
      assert.deepEqual((await readdir(join(dir, 'snapshots'))).filter((n) => /^\d+$/.test(n)), []);
    } finally {
      await close();
    }
  });

  it('two concurrent pulls fetch each blob once', async () => {
    const built = await addImage(reg, 'shared', 'v1', [{ a: 'x'.repeat(10000) }, { b: 'y' }, { c: 'z' }]);
    const { images, close } = await openImages(join(root, 'concurrent'), reg);
    try {
      const before = reg.seen('GET', '/v2/shared/blobs/').length;
      await Promise.all([images.pull(`${reg.host}/shared:v1`), images.pull(`${reg.host}/shared:v1`)]);
      const gets = reg.seen('GET', '/v2/shared/blobs/').slice(before);
      const perDigest = new Map<string, number>();
      for (const r of gets) perDigest.set(r.url, (perDigest.get(r.url) ?? 0) + 1);
      assert.equal(gets.length, built.layers.length + 1, `blob GETs: ${gets.map((g) => g.url).join(', ')}`);
      for (const [u, n] of perDigest) assert.equal(n, 1, `${u} fetched ${n} times`);
    } finally {
      await close();
    }
  });

  it('resumes a layer download after the connection drops', async () => {
    const big = Buffer.alloc(400_000);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7919) % 251;
    const built = await addImage(reg, 'resume', 'v1', [{ big }]);
    const layerDigest = sha(built.layers[0]!);
    reg.dropAfter.set(layerDigest, Math.floor(built.layers[0]!.length / 2));
    const { images, close } = await openImages(join(root, 'resume'), reg);
    try {
      await images.pull(`${reg.host}/resume:v1`);
      const gets = reg.seen('GET', `/v2/resume/blobs/${layerDigest}`);
      assert.equal(gets.length, 2);
      assert.match(String(gets[1]!.headers.range), /^bytes=\d+-$/);
      assert.notEqual(gets[1]!.headers.range, 'bytes=0-');
    } finally {
      await close();
    }
  });

  it('a dropped download: the unpack stops before its directory is removed, then the layer resumes', async () => {
    const big = Buffer.alloc(400_000);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7919) % 251;
    const built = await addImage(reg, 'dropunpack', 'v1', [{ big }]);
    reg.dropAfter.set(sha(built.layers[0]!), Math.floor(built.layers[0]!.length / 2));
    // An unpack that takes a while to stop after its input fails, as the
    // archive worker does: is its directory still there when it has?
    const dirThere: boolean[] = [];
    const slowToStop: ApplyLayer = async (input, dir, opts) => {
      try {
        return await applyLayer(input, dir, opts);
      } catch (e) {
        await new Promise((r) => setTimeout(r, 300));
        dirThere.push(await access(dir).then(() => true, () => false));
        throw e;
      }
    };
    const { images, close } = await openImages(join(root, 'dropunpack'), reg, slowToStop);
    try {
      await images.pull(`${reg.host}/dropunpack:v1`);
      assert.deepEqual(dirThere, [true]);
    } finally {
      await close();
    }
  });

  it('refuses a layer whose content does not match its diff id, keeping nothing', async () => {
    await addImage(reg, 'baddiff', 'v1', [{ a: 'a' }], { badDiffId: true });
    const dir = join(root, 'baddiff');
    const { images, ctx, close } = await openImages(dir, reg);
    try {
      await assert.rejects(images.pull(`${reg.host}/baddiff:v1`), (e: Error & { kind?: string }) => e.kind === 'data-loss' && /diff id/.test(e.message));
      assert.equal((await images.list()).length, 0);
      await collectGarbage(ctx);
      assert.equal(await countFiles(join(dir, 'content/blobs/sha256')), 0);
    } finally {
      await close();
    }
  });

  it('refuses a blob whose bytes do not match the manifest digest', async () => {
    const built = await addImage(reg, 'badblob', 'v1', [{ a: 'original' }]);
    const layerDigest = sha(built.layers[0]!);
    // Same length, other bytes.
    const evil = Buffer.from(built.layers[0]!);
    evil[evil.length - 5] = evil[evil.length - 5]! ^ 0xff;
    reg.blobs.set(layerDigest, evil);
    const { images, close } = await openImages(join(root, 'badblob'), reg);
    try {
      await assert.rejects(images.pull(`${reg.host}/badblob:v1`), (e: Error & { kind?: string }) => e.kind === 'data-loss');
      assert.equal((await images.list()).length, 0);
    } finally {
      await close();
    }
  });

  it('refuses a blob longer than the manifest says, and keeps running', async () => {
    const built = await addImage(reg, 'longblob', 'v1', [{ a: 'original' }]);
    const layerDigest = sha(built.layers[0]!);
    reg.blobs.set(layerDigest, Buffer.concat([built.layers[0]!, Buffer.alloc(5000, 1)]));
    const { images, close } = await openImages(join(root, 'longblob'), reg);
    try {
      await assert.rejects(images.pull(`${reg.host}/longblob:v1`), (e: Error & { kind?: string }) => e.kind === 'data-loss' && /more than/.test(e.message));
      assert.equal((await images.list()).length, 0);
    } finally {
      await close();
    }
  });

  it('saves and loads into another store with the same id and digest', async () => {
    await addImage(reg, 'saved', 'v1', [{ x: '1' }, { y: '2' }]);
    const a = await openImages(join(root, 'save-a'), reg);
    const b = await openImages(join(root, 'save-b'));
    try {
      const pulled = await a.images.pull(`${reg.host}/saved:v1`);
      const stream = await a.images.save([`${reg.host}/saved:v1`]);
      const loaded = await b.images.load(stream);
      assert.deepEqual(loaded, [`${reg.host}/saved:v1`]);
      const ia = await a.images.inspect(`${reg.host}/saved:v1`);
      const ib = await b.images.inspect(`${reg.host}/saved:v1`);
      assert.equal(ib.Id, pulled.id);
      assert.deepEqual(ib.RootFS, ia.RootFS);
      assert.equal(ib.Descriptor?.digest, ia.Descriptor?.digest);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('imports a rootfs tarball with changes', async () => {
    const dir = join(root, 'import');
    const { images, ctx, close } = await openImages(dir);
    try {
      const t = gzipSync(await makeTar({ 'bin/hello': 'hi', 'etc/motd': 'm' }));
      const id = await images.import(Readable.from([t]), { repo: 'mine/rootfs', tag: '1', changes: ['CMD ["sh"]', 'ENV A=1 B="two words"'], message: 'hello' });
      const info = await images.inspect('mine/rootfs:1');
      assert.equal(info.Id, id);
      assert.deepEqual(info.Config.Cmd, ['sh']);
      assert.deepEqual(info.Config.Env, ['A=1', 'B=two words']);
      // docker-compose 1.29 reads ContainerConfig on every recreate.
      assert.deepEqual(info.ContainerConfig.Cmd, ['sh']);
      assert.equal(info.RootFS.Layers.length, 1);
      const layer = ctx.store.layers(id)[0]!;
      assert.equal(layer.mediaType, MT.dockerLayerGzip);
      const snapDir = await ctx.snapshots.mounts(layer.chainId);
      assert.ok(snapDir.length > 0);
      const blob = await readFile(ctx.content.path(layer.blobDigest));
      assert.equal(sha(blob), layer.blobDigest);
      assert.ok((await stat(ctx.content.path(layer.blobDigest))).size > 0);
    } finally {
      await close();
    }
  });

  it('imports xz, bzip2 and zstd tarballs: stored gzip-compressed (a Docker manifest has no layer type for them)', async () => {
    const dir = join(root, 'import-xz');
    const { images, ctx, close } = await openImages(dir);
    try {
      const plain = await makeTar({ 'bin/hello': 'hi', 'etc/motd': 'm' });
      for (const [tool, args] of [['xz', ['-c']], ['bzip2', ['-c']], ['zstd', ['-q', '-c']]] as const) {
        const packed = execFileSync(tool, args, { input: plain });
        const id = await images.import(Readable.from([packed]), { repo: `mine/${tool}`, tag: '1' });
        const layer = ctx.store.layers(id)[0]!;
        assert.equal(layer.mediaType, MT.dockerLayerGzip, tool);
        const blob = await readFile(ctx.content.path(layer.blobDigest));
        assert.equal(sha(blob), layer.blobDigest, tool);
        assert.ok(gunzipSync(blob).equals(plain), `${tool}: the stored blob is the gzip of the tar`);
        assert.equal(layer.diffId, sha(plain), tool);
      }
    } finally {
      await close();
    }
  });

  it('tags, untags and refuses ambiguous deletes as Docker does', async () => {
    await addImage(reg, 'tags', 'v1', [{ t: 't' }]);
    const { images, close } = await openImages(join(root, 'tags'), reg);
    try {
      const { id } = await images.pull(`${reg.host}/tags:v1`);
      await images.tag(`${reg.host}/tags:v1`, 'other/name', 'x');
      await assert.rejects(images.remove(id), (e: Error & { kind?: string }) => e.kind === 'conflict');
      const r1 = await images.remove('other/name:x');
      assert.deepEqual(r1, [{ Untagged: 'other/name:x' }]);
      await assert.rejects(images.tag(id, 'Bad/Upper'), (e: Error & { kind?: string }) => e.kind === 'invalid');
      await assert.rejects(images.inspect('nope:latest'), (e: Error & { kind?: string }) => e.kind === 'not-found');
    } finally {
      await close();
    }
  });
});
