// A whole pull through the p2p fetcher, with the real content store,
// snapshotter and unpacker: fake peers (some lying), the in-process registry.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { makeTar } from '../archive/test-fixtures.ts';
import { applyLayer } from '../archive/index.ts';
import { openContentStore } from '../content/store.ts';
import { Events } from '../engine/events.ts';
import { ImageContext } from '../images/context.ts';
import { MT } from '../images/media-types.ts';
import { Images } from '../images/service.ts';
import { openDatabase } from '../metadata/db.ts';
import { FakeRegistry } from '../remotes/fake-registry.ts';
import { createRegistry } from '../remotes/index.ts';
import { openOverlaySnapshotter } from '../snapshots/overlay.ts';
import { p2pRegistry } from './repository.ts';
import { PullSources } from './source.ts';
import { newStats } from './stats.ts';

const sha = (b: Buffer) => 'sha256:' + createHash('sha256').update(b).digest('hex');

const layer = (files: Record<string, string>): Promise<Buffer> => makeTar(Object.entries(files).map(([name, data]) => ({ name, data, mode: 0o644 })));

type Peer = (data: Buffer) => Buffer;
const honest: Peer = (d) => d;
const flipped: Peer = (d) => Buffer.from(d.map((x, i) => (i === d.length - 1 ? x ^ 1 : x))); // the last byte: gunzip notices late
const garbage: Peer = (d) => Buffer.alloc(d.length, 0x42);

describe('pull through the p2p fetcher', () => {
  let reg: FakeRegistry;
  let root: string;
  const blobs = new Map<string, Buffer>();
  let ref: string;
  let layerDigests: string[];

  before(async () => {
    reg = await FakeRegistry.start();
    root = await mkdtemp(join(tmpdir(), 'joey-p2p-pull-'));
    const tars = [await layer({ 'a.txt': 'one\n' }), await layer({ 'b.txt': 'two\n' })];
    const gz = tars.map((t) => gzipSync(t));
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: tars.map(sha) }, config: {} }));
    const cfg = reg.addBlob('app', config, MT.ociConfig);
    const descs = gz.map((g) => reg.addBlob('app', g, MT.ociLayerGzip));
    gz.forEach((g) => blobs.set(sha(g), g));
    layerDigests = descs.map((d) => d.digest);
    reg.addManifest('app', Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MT.ociManifest, config: cfg, layers: descs })), MT.ociManifest, 'v1');
    ref = `${reg.host}/app:v1`;
  });
  after(async () => {
    await reg.close();
    await rm(root, { recursive: true, force: true });
  });

  async function pullWith(name: string, peers: Record<string, Peer>) {
    const dir = join(root, name);
    await mkdir(dir, { recursive: true });
    const db = openDatabase(join(dir, 'joey.db'));
    const content = await openContentStore(join(dir, 'content'));
    const snapshots = await openOverlaySnapshotter(join(dir, 'snapshots'), db);
    const stats = newStats();
    let sources: PullSources | undefined;
    const registry = p2pRegistry(createRegistry({ insecureRegistries: [reg.host], mirrors: [] }), () => (sources = new PullSources({
      lookup: { holders: async () => ({ peers: Object.keys(peers), partial: [] }) },
      client: {
        blob: async (peer, digest, size, start, end = size - 1) => Readable.from([peers[peer]!(blobs.get(digest)!).subarray(start, end + 1)]),
      },
      stats,
      random: () => 0.99,
    })));
    const ctx = new ImageContext({ db, content, snapshots, registry, events: new Events(), applyLayer, maxConcurrentDownloads: 2, maxConcurrentUploads: 2, snapshotRoot: join(dir, 'snapshots') });
    const before = reg.seen('GET').length;
    try {
      const res = await new Images(ctx).pull(ref);
      const layerGets = reg.seen('GET').slice(before).filter((r) => layerDigests.some((d) => r.url.endsWith(d))).length;
      for (const d of layerDigests) assert.ok(await content.info(d), 'every layer is stored');
      assert.deepEqual(await content.ingests(), [], 'no partial download is left');
      return { res, layerGets, stats, bad: [...sources!.bad] };
    } finally {
      await snapshots.close();
      db.close();
    }
  }

  it('takes every layer from an honest peer', async () => {
    const r = await pullWith('honest', { 'http://a': honest });
    assert.equal(r.layerGets, 0);
    assert.equal(r.stats.peerBlobs, 2);
    assert.deepEqual(r.bad, []);
  });

  it('a peer whose bytes do not match the digest: skipped, and the layers come from the registry', async () => {
    const r = await pullWith('flipped', { 'http://liar': flipped });
    assert.equal(r.layerGets, 2);
    assert.deepEqual(r.bad, ['http://liar']);
  });

  it('a peer sending garbage that breaks the unpacking: the next peer gives the layers', async () => {
    const r = await pullWith('garbage', { 'http://junk': garbage, 'http://b': honest });
    assert.equal(r.layerGets, 0);
    assert.deepEqual(r.bad, ['http://junk']);
  });
});
