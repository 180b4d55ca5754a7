// The integration-test fixtures themselves, against the real tools: the test
// images build (and cache), skopeo pushes them to each kind of private
// registry, auth refuses and admits the right callers, raw pushes store
// hostile content, and the proxy counts and holds downloads.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HOSTILE_CASES, pushHostile } from './lib/hostile.ts';
import {
  BIG, MULTILAYER, PLATFORMS, TEST_LABEL, buildImage, buildImageAt, layoutDigests, pushBothFormats, pushImage, pushRaw,
  skopeoCopy, skopeoInspect, type ImageName,
} from './lib/images.ts';
import { MT, readBlob, readIndex, readJsonBlob, tagged, type Index, type Manifest } from './lib/oci-layout.ts';
import { makeTempDir, removeDir, run } from './lib/proc.ts';
import { startProxy } from './lib/proxy.ts';
import { RegistryClient } from './lib/registry-client.ts';
import { startRegistry, type Registry, type RegistryAuth } from './lib/registry.ts';
import { listTar, tarGz } from './lib/tar.ts';

const IMAGES: ImageName[] = ['busybox', 'multilayer', 'multiplatform', 'big'];

describe('test images', () => {
  test('build once per machine into the cache, then come from it', async (t) => {
    for (const name of IMAGES) {
      const t0 = performance.now();
      const first = await buildImage(name);
      const firstMs = performance.now() - t0;
      const t1 = performance.now();
      const again = await buildImage(name);
      const cachedMs = performance.now() - t1;
      assert.equal(again.layout, first.layout);
      assert.ok(existsSync(join(first.layout, '..', 'done.json')));
      t.diagnostic(`${name}: ${firstMs.toFixed(0)} ms (first call in this process; uncached if the cache was empty), ${cachedMs.toFixed(1)} ms cached, at ${first.layout}`);
    }
  });

  test('a build from an empty cache is atomic when two builders race', async (t) => {
    const root = await makeTempDir();
    try {
      for (const name of ['busybox', 'multilayer', 'multiplatform'] as const) {
        const t0 = performance.now();
        const [a, b] = await Promise.all([buildImageAt(root, name), buildImageAt(root, name)]);
        const uncachedMs = performance.now() - t0;
        assert.equal(a.layout, b.layout);
        const t1 = performance.now();
        await buildImageAt(root, name);
        t.diagnostic(`${name}: uncached ${uncachedMs.toFixed(0)} ms, cached ${(performance.now() - t1).toFixed(1)} ms`);
      }
      const entries = await readdir(join(root, 'images'));
      assert.equal(entries.filter((e) => e.startsWith('.build-')).length, 0, `leftover build dirs: ${entries.join(' ')}`);
      assert.equal(entries.length, 3);
    } finally {
      await removeDir(root);
    }
  });

  test('busybox: one layer with the binary, applet links, /etc files and the config', async () => {
    const img = await buildImage('busybox');
    const m = await readJsonBlob<Manifest>(img.layout, (await tagged(img.layout, 'latest')).digest);
    assert.equal(m.layers.length, 1);
    const entries = await listTar(await readBlob(img.layout, m.layers[0]!.digest));
    const byName = new Map(entries.map((e) => [e.name.replace(/^\.\//, '').replace(/\/$/, ''), e]));
    assert.equal(byName.get('bin/busybox')?.type, 'file');
    for (const a of ['sh', 'ls', 'cat', 'echo', 'true']) assert.equal(byName.get(`bin/${a}`)?.linkname, 'busybox', `bin/${a}`);
    assert.ok(byName.has('etc/passwd') && byName.has('etc/group'));
    const config = await readJsonBlob<any>(img.layout, m.config.digest);
    assert.deepEqual(config.config.Cmd, ['sh']);
    assert.ok(config.config.Env.some((e: string) => e.startsWith('PATH=')));
    assert.equal(config.config.Labels[TEST_LABEL], 'busybox');
    assert.equal(config.architecture, 'amd64');
    assert.equal(config.os, 'linux');
    assert.equal(config.rootfs.diff_ids.length, 1);
  });

  test('multilayer: whiteouts, an opaque dir, a hardlink and a symlink across 3 layers', async () => {
    const img = await buildImage('multilayer');
    const m = await readJsonBlob<Manifest>(img.layout, (await tagged(img.layout, 'latest')).digest);
    assert.equal(m.layers.length, MULTILAYER.layers);
    const layers = await Promise.all(m.layers.map(async (l) => (await listTar(await readBlob(img.layout, l.digest))).map((e) => ({ ...e, name: e.name.replace(/^\.\//, '') }))));
    const names = layers.map((l) => l.map((e) => e.name));
    assert.ok(names[0]!.includes('data/deleted.txt') && names[0]!.includes('data/deleted-dir/sub/b') && names[0]!.includes('data/opaque/old-1'));
    assert.ok(names[1]!.includes('data/.wh.deleted.txt'), names[1]!.join(' '));
    assert.ok(names[1]!.includes('data/.wh.deleted-dir'), names[1]!.join(' '));
    const hl = layers[1]!.find((e) => e.type === 'link');
    assert.ok(hl && ['data/keep.txt', 'data/hardlink'].includes(hl.name) && ['data/keep.txt', 'data/hardlink'].includes(hl.linkname!), JSON.stringify(layers[1]));
    assert.equal(layers[1]!.find((e) => e.name === 'data/symlink')?.linkname, 'keep.txt');
    assert.ok(names[2]!.includes('data/opaque/.wh..wh..opq'), names[2]!.join(' '));
    assert.ok(names[2]!.includes('data/opaque/new'));
  });

  test('multiplatform: an index of linux/amd64, arm64 and arm/v7 with configs that differ', async () => {
    const img = await buildImage('multiplatform');
    const top = await tagged(img.layout, 'latest');
    assert.equal(top.mediaType, MT.ociIndex);
    const index = await readJsonBlob<Index>(img.layout, top.digest);
    assert.deepEqual(index.manifests.map((d) => d.platform), PLATFORMS);
    const files = new Set<string>();
    for (const d of index.manifests) {
      const m = await readJsonBlob<Manifest>(img.layout, d.digest);
      const config = await readJsonBlob<any>(img.layout, m.config.digest);
      assert.equal(config.architecture, d.platform!.architecture);
      assert.equal(config.variant, d.platform!.variant);
      const last = await listTar(await readBlob(img.layout, m.layers.at(-1)!.digest));
      assert.ok(last.some((e) => e.name.replace(/^\.\//, '') === 'platform'));
      files.add(m.layers.at(-1)!.digest);
    }
    assert.equal(files.size, 3, 'each platform has its own /platform layer');
  });

  test('big: a few hundred MB of incompressible data over 4 layers', async () => {
    const img = await buildImage('big');
    const m = await readJsonBlob<Manifest>(img.layout, (await tagged(img.layout, 'latest')).digest);
    assert.equal(m.layers.length, BIG.layers);
    const total = m.layers.reduce((n, l) => n + l.size, 0);
    assert.ok(total > 250e6, `total ${total}`);
    for (const l of m.layers) assert.ok(l.size > 60e6, `layer ${l.digest} is ${l.size} bytes`);
  });
});

for (const auth of ['none', 'htpasswd', 'token'] as RegistryAuth[]) {
  describe(`registry with auth=${auth}`, () => {
    let reg: Registry;
    before(async () => {
      reg = await startRegistry({ auth });
    });
    after(async () => {
      await reg?.stop();
    });

    test('answers /v2/ on loopback', async () => {
      assert.match(reg.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      const r = await fetch(`${reg.url}/v2/`);
      assert.equal(r.status, auth === 'none' ? 200 : 401);
      if (auth === 'token') assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer realm="http:\/\/127\.0\.0\.1:\d+\/token"/);
      if (auth === 'htpasswd') assert.match(r.headers.get('www-authenticate') ?? '', /^Basic/);
    });

    test('skopeo pushes each image, in OCI and schema-2 form', async () => {
      const creds = reg.users?.[0];
      const bb = await pushBothFormats(reg, 'busybox');
      const oci = await skopeoInspect(bb.oci.ref, { raw: true, ...(creds ? { creds } : {}) });
      assert.equal(oci.code, 0, oci.stderr);
      assert.equal(oci.json.mediaType ?? MT.ociManifest, MT.ociManifest);
      const v2 = await skopeoInspect(bb.v2s2.ref, { raw: true, ...(creds ? { creds } : {}) });
      assert.equal(v2.code, 0, v2.stderr);
      assert.equal(v2.json.mediaType, MT.dockerManifest);
      assert.equal(v2.json.config.mediaType, MT.dockerConfig);
      const info = await skopeoInspect(bb.oci.ref, creds ? { creds } : {});
      assert.equal(info.json.Architecture, 'amd64');
      assert.equal(info.json.Labels[TEST_LABEL], 'busybox');
      assert.equal(info.json.Digest, bb.oci.digest);

      const ml = await pushImage(reg, 'multilayer');
      assert.equal((await skopeoInspect(ml.ref, creds ? { creds } : {})).json.Layers.length, MULTILAYER.layers);

      const mp = await pushImage(reg, 'multiplatform');
      const raw = await skopeoInspect(mp.ref, { raw: true, ...(creds ? { creds } : {}) });
      assert.equal(raw.json.mediaType, MT.ociIndex);
      assert.equal(raw.json.manifests.length, 3);
      for (const p of PLATFORMS) {
        const cfg = await skopeoInspect(mp.ref, { config: true, platform: p, ...(creds ? { creds } : {}) });
        assert.equal(cfg.code, 0, cfg.stderr);
        assert.equal(cfg.json.architecture, p.architecture);
      }
      const mp2 = await pushImage(reg, 'multiplatform', { format: 'v2s2', tag: 'v2s2' });
      const list = await skopeoInspect(mp2.ref, { raw: true, ...(creds ? { creds } : {}) });
      assert.equal(list.json.mediaType, MT.dockerList, 'a schema-2 push of an index is a manifest list');
    });

    if (auth !== 'none') {
      test('refuses anonymous callers and wrong passwords, admits the user', async () => {
        const { ref } = await pushImage(reg, 'busybox', { repo: 'private/busybox' });
        const anon = await skopeoInspect(ref, { raw: true });
        assert.notEqual(anon.code, 0);
        assert.match(anon.stderr, /unauthorized|authentication required|denied/i);
        const wrong = await skopeoInspect(ref, { raw: true, creds: { username: reg.users![0]!.username, password: 'wrong' } });
        assert.notEqual(wrong.code, 0);
        assert.match(wrong.stderr, /unauthorized|invalid username or password|authentication required/i);
        const ok = await skopeoInspect(ref, { raw: true, creds: reg.users![0]! });
        assert.equal(ok.code, 0, ok.stderr);
        const anonPush = await run('skopeo', ['--insecure-policy', 'copy', '--quiet', '--dest-tls-verify=false', '--dest-no-creds',
          (await buildImage('busybox')).source, `docker://${reg.host}/private/anon:latest`]);
        assert.notEqual(anonPush.code, 0, 'anonymous push must be refused');
        if (auth === 'token') {
          const granted = reg.token!.requests.filter((r) => r.user === undefined).flatMap((r) => r.granted);
          assert.deepEqual(granted, [], 'anonymous token requests are granted nothing');
        }
      });

      test('pushRaw answers the auth challenge', async () => {
        const layer = await tarGz([{ name: 'hello', type: 'file', content: 'hi\n' }]);
        const pushed = await pushRaw(reg, 'raw/auth', 'v1', { layers: [layer] });
        const got = await skopeoInspect(pushed.ref, { raw: true, creds: reg.users![0]! });
        assert.equal(got.code, 0, got.stderr);
        assert.equal(got.json.layers[0].digest, pushed.layers[0]!.digest);
      });
    }

    if (auth === 'none') {
      test('big pushes and copies back intact', async () => {
        const big = await buildImage('big');
        const pushed = await pushImage(reg, 'big');
        const info = await skopeoInspect(pushed.ref);
        assert.deepEqual(info.json.Layers, (await layoutDigests(big.layout)).layers);
        const dir = await makeTempDir();
        try {
          await skopeoCopy(`docker://${pushed.ref}`, `oci:${dir}/oci:big`);
          const idx = await readIndex(join(dir, 'oci'));
          assert.equal(idx.manifests.length, 1);
        } finally {
          await removeDir(dir);
        }
      });
    }
  });
}

describe('hostile images and the proxy', () => {
  let reg: Registry;
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  before(async () => {
    reg = await startRegistry();
    proxy = await startProxy(reg.url);
  });
  after(async () => {
    await proxy?.stop();
    await reg?.stop();
  });

  test('every hostile case is stored or served as written', async () => {
    const client = new RegistryClient(proxy.url);
    const accept = [MT.ociManifest, MT.ociIndex, MT.dockerManifest, MT.dockerList, 'application/vnd.joey.test.bogus+json'];
    for (const kind of HOSTILE_CASES) {
      const h = await pushHostile(reg, proxy, kind);
      const r = await client.request('GET', `/v2/${h.repo}/manifests/latest`, { headers: { accept: accept.join(', ') } });
      assert.equal(r.status, 200, `${kind}: ${r.body.toString()}`);
      if (kind === 'manifest-not-json') {
        assert.throws(() => JSON.parse(r.body.toString()));
        continue;
      }
      const m = JSON.parse(r.body.toString());
      if (kind === 'wrong-mediatype') {
        assert.equal(m.mediaType, 'application/vnd.joey.test.bogus+json');
        continue;
      }
      if (kind === 'no-amd64') {
        assert.ok(m.manifests.length >= 2);
        assert.ok(!m.manifests.some((d: any) => d.platform.architecture === 'amd64'));
        continue;
      }
      const layer = await client.request('GET', `/v2/${h.repo}/blobs/${m.layers[0].digest}`);
      const entries = await listTar(layer.body);
      const names = entries.map((e) => e.name);
      switch (kind) {
        case 'dotdot':
          assert.ok(names.some((n) => n.startsWith('../') && n.includes('joey-escape-')), names.join(' '));
          break;
        case 'absolute':
          assert.ok(names.some((n) => n.startsWith('/tmp/joey-escape-')), names.join(' '));
          break;
        case 'symlink-escape':
          assert.equal(entries.find((e) => e.name === 'escape')?.linkname, '/tmp');
          assert.ok(names.some((n) => n.startsWith('escape/joey-escape-')));
          break;
        case 'hardlink-passwd':
          assert.ok(entries.some((e) => e.type === 'link' && e.linkname === '/etc/passwd'));
          break;
        case 'device':
          assert.ok(entries.some((e) => e.type === 'block-device') && entries.some((e) => e.type === 'character-device'));
          break;
        case 'digest-mismatch': {
          const { createHash } = await import('node:crypto');
          assert.notEqual(`sha256:${createHash('sha256').update(layer.body).digest('hex')}`, m.layers[0].digest, 'the proxy serves other bytes');
          break;
        }
        case 'size-mismatch':
          assert.ok(layer.body.length > m.layers[0].size, 'the proxy serves more than the manifest declares');
          break;
        case 'diffid-mismatch': {
          const cfg = await client.request('GET', `/v2/${h.repo}/blobs/${m.config.digest}`);
          const { createHash } = await import('node:crypto');
          const { gunzipSync } = await import('node:zlib');
          const real = `sha256:${createHash('sha256').update(gunzipSync(layer.body)).digest('hex')}`;
          assert.notEqual(JSON.parse(cfg.body.toString()).rootfs.diff_ids[0], real);
          break;
        }
        default:
          break;
      }
      for (const s of h.sentinels) assert.ok(!existsSync(s));
    }
  });

  test('counts blob downloads and holds them at a byte budget', async () => {
    const big = await buildImage('big');
    const pushed = await pushImage(reg, big, { repo: 'counted/big' });
    const layer = (await layoutDigests(big.layout)).layers[0]!;
    const size = (await readJsonBlob<Manifest>(big.layout, (await tagged(big.layout, 'latest')).digest)).layers[0]!.size;
    proxy.reset();
    proxy.stallAt(Math.floor(size / 2));
    const url = `${proxy.url}/v2/${pushed.repo}/blobs/${layer}`;
    const download = fetch(url).then(async (r) => Buffer.from(await r.arrayBuffer()));
    await proxy.stalled();
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(proxy.blobBytes(), Math.floor(size / 2), 'held exactly at the budget');
    proxy.release();
    const body = await download;
    assert.equal(body.length, size);
    assert.equal(proxy.blobGets().get(layer), 1);
  });
});
