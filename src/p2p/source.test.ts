import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { unavailable } from '../errdefs/index.ts';
import type { Descriptor } from '../remotes/types.ts';
import { PullSources, type SourceDeps } from './source.ts';
import { newStats } from './stats.ts';

const data = randomBytes(200_000);
const desc: Descriptor = { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: 'sha256:' + 'a'.repeat(64), size: data.length };

type PeerBehaviour = { kind: 'ok' } | { kind: 'down' } | { kind: 'drop-after'; bytes: number } | { kind: 'corrupt' };

/** Fake peers: what each does, and every request made of it. */
function fakes(peers: Record<string, PeerBehaviour>, opts: { trackerDown?: boolean; partial?: Record<string, PeerBehaviour> } = {}) {
  const calls: string[] = [];
  const registryCalls: number[] = [];
  const deps: SourceDeps = {
    lookup: {
      holders: async () => {
        if (opts.trackerDown) throw unavailable('tracker down');
        return { peers: Object.keys(peers), partial: Object.keys(opts.partial ?? {}) };
      },
    },
    client: {
      blob: async (peer, _digest, size, start, end = size - 1) => {
        calls.push(`${peer} ${start}-${end}`);
        const b = peers[peer] ?? opts.partial![peer]!;
        if (b.kind === 'down') throw unavailable(`peer ${peer}: connection refused`);
        const slice = Buffer.from(data.subarray(start, end + 1));
        if (b.kind === 'corrupt') slice[0] = slice[0]! ^ 0xff;
        if (b.kind === 'drop-after') {
          const keep = Math.max(0, b.bytes - start);
          return Readable.from((async function* () {
            yield slice.subarray(0, keep);
            throw unavailable('connection reset');
          })());
        }
        return Readable.from([slice.subarray(0, 1000), slice.subarray(1000)].filter((x) => x.length > 0));
      },
    },
    stats: newStats(),
    random: () => 0.99, // keeps the order given
    piecesAbove: 0,
  };
  const registry = async (offset: number) => {
    registryCalls.push(offset);
    return Readable.from([data.subarray(offset)]);
  };
  return { deps, calls, registryCalls, registry };
}

async function readAll(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

test('a blob from a peer: the registry is not asked', async () => {
  const f = fakes({ 'http://a': { kind: 'ok' } });
  const s = new PullSources(f.deps);
  assert.ok((await readAll(await s.open(desc, 0, f.registry))).equals(data));
  assert.deepEqual(f.registryCalls, []);
  assert.equal(f.deps.stats.peerBytes, data.length);
  assert.equal(f.deps.stats.peerBlobs, 1);
});

test('a peer that drops mid-way: the next peer resumes with a Range from there', async () => {
  const f = fakes({ 'http://a': { kind: 'drop-after', bytes: 50_000 }, 'http://b': { kind: 'ok' } });
  const s = new PullSources(f.deps);
  assert.ok((await readAll(await s.open(desc, 0, f.registry))).equals(data));
  assert.deepEqual(f.calls, ['http://a 0-199999', 'http://b 50000-199999']);
  assert.deepEqual(f.registryCalls, []);
  assert.equal(f.deps.stats.peerFailures, 1);
});

test('every peer fails: the registry gives the rest, from where the peers stopped', async () => {
  const f = fakes({ 'http://a': { kind: 'drop-after', bytes: 70_000 }, 'http://b': { kind: 'down' } });
  const s = new PullSources(f.deps);
  assert.ok((await readAll(await s.open(desc, 0, f.registry))).equals(data));
  assert.deepEqual(f.registryCalls, [70_000]);
  assert.equal(f.deps.stats.registryBytes, data.length - 70_000);
});

test('a resumed download starts at the offset asked for', async () => {
  const f = fakes({ 'http://a': { kind: 'ok' } });
  const s = new PullSources(f.deps);
  assert.ok((await readAll(await s.open(desc, 12_345, f.registry))).equals(data.subarray(12_345)));
  assert.deepEqual(f.calls, ['http://a 12345-199999']);
});

test('tracker down or no peer: straight to the registry', async () => {
  for (const f of [fakes({ 'http://a': { kind: 'ok' } }, { trackerDown: true }), fakes({})]) {
    const s = new PullSources(f.deps);
    assert.ok((await readAll(await s.open(desc, 0, f.registry))).equals(data));
    assert.deepEqual(f.registryCalls, [0]);
    assert.deepEqual(f.calls, []);
  }
});

test('bad bytes: the peers that gave them are skipped for the rest of the pull', async () => {
  const f = fakes({ 'http://evil': { kind: 'corrupt' }, 'http://good': { kind: 'ok' } });
  const s = new PullSources(f.deps);
  const first = await readAll(await s.open(desc, 0, f.registry));
  assert.ok(!first.equals(data)); // the digest check (the content store's) would refuse these
  assert.equal(s.corrupt(desc), true);
  assert.deepEqual([...s.bad], ['http://evil']);
  const second = await readAll(await s.open(desc, 0, f.registry));
  assert.ok(second.equals(data));
  assert.deepEqual(f.calls, ['http://evil 0-199999', 'http://good 0-199999']);
  // Bytes from the registry alone: nothing else to try.
  const g = fakes({});
  const t = new PullSources(g.deps);
  await readAll(await t.open(desc, 0, g.registry));
  assert.equal(t.corrupt(desc), false);
});

test('pieces: a large blob is fetched in ranges from several peers and given in order', async () => {
  const f = fakes({ 'http://a': { kind: 'ok' }, 'http://b': { kind: 'ok' }, 'http://c': { kind: 'down' } });
  f.deps.piecesAbove = 10_000;
  f.deps.pieceSize = 30_000;
  const s = new PullSources(f.deps);
  assert.ok((await readAll(await s.open(desc, 0, f.registry))).equals(data));
  assert.deepEqual(f.registryCalls, []);
  const peersUsed = new Set(f.calls.filter((c) => !c.startsWith('http://c')).map((c) => c.split(' ')[0]));
  assert.deepEqual([...peersUsed].sort(), ['http://a', 'http://b']);
  assert.ok(f.calls.some((c) => c.endsWith(' 0-29999')) && f.calls.some((c) => c.endsWith(' 180000-199999')));
});

test('pieces: when no peer can give a piece, the rest comes from the registry', async () => {
  const f = fakes({ 'http://a': { kind: 'drop-after', bytes: 65_000 }, 'http://b': { kind: 'down' } });
  f.deps.piecesAbove = 10_000;
  f.deps.pieceSize = 30_000;
  const s = new PullSources(f.deps);
  assert.ok((await readAll(await s.open(desc, 0, f.registry))).equals(data));
  // Pieces up to 60000, then a on its own to 65000, then the registry.
  assert.deepEqual(f.registryCalls, [65_000]);
});

test('after three bad tries of a blob, only the registry is asked for it', async () => {
  const f = fakes({ 'http://e1': { kind: 'corrupt' }, 'http://e2': { kind: 'corrupt' }, 'http://e3': { kind: 'corrupt' }, 'http://e4': { kind: 'corrupt' } });
  const s = new PullSources(f.deps);
  for (let i = 0; i < 3; i++) {
    await readAll(await s.open(desc, 0, f.registry));
    assert.equal(s.corrupt(desc), true);
  }
  assert.ok((await readAll(await s.open(desc, 0, f.registry))).equals(data));
  assert.deepEqual(f.registryCalls, [0]);
  assert.equal(s.corrupt(desc), false);
});


test('partial holders: after the whole ones, the nearest earlier joiner first, then the ones before it', async () => {
  // The tracker lists partial holders oldest first: p1 joined first (the seed).
  const f = fakes({}, { partial: { 'http://p1': { kind: 'ok' }, 'http://p2': { kind: 'ok' }, 'http://p3': { kind: 'drop-after', bytes: 80_000 } } });
  const s = new PullSources(f.deps);
  assert.ok((await readAll(await s.open(desc, 0, f.registry))).equals(data));
  assert.deepEqual(f.calls, ['http://p3 0-199999', 'http://p2 80000-199999']);
  assert.deepEqual(f.registryCalls, []);
  const g = fakes({ 'http://whole': { kind: 'drop-after', bytes: 10_000 } }, { partial: { 'http://p1': { kind: 'ok' } } });
  assert.ok((await readAll(await new PullSources(g.deps).open(desc, 0, g.registry))).equals(data));
  assert.deepEqual(g.calls, ['http://whole 0-199999', 'http://p1 10000-199999']);
});

test('partial holders: only the nearest few are followed; when they all stop, the registry gives the rest', async () => {
  const partial: Record<string, PeerBehaviour> = {};
  for (let i = 1; i <= 5; i++) partial[`http://p${i}`] = { kind: 'drop-after', bytes: i * 10_000 };
  const f = fakes({}, { partial });
  f.deps.maxPartial = 2;
  f.deps.piecesAbove = 10_000; // pieces are only ever asked of peers with the whole blob
  const s = new PullSources(f.deps);
  assert.ok((await readAll(await s.open(desc, 0, f.registry))).equals(data));
  assert.deepEqual(f.calls, ['http://p5 0-199999', 'http://p4 50000-199999']);
  assert.deepEqual(f.registryCalls, [50_000]);
});

test('a reader that stops (its unpack failed) ends the peer request at once; no other source is opened or blamed', async () => {
  const f = fakes({ 'http://slow': { kind: 'ok' }, 'http://b': { kind: 'ok' } });
  let aborted = false;
  f.deps.client = {
    blob: async (peer, _digest, size, start, end = size - 1, signal) => {
      f.calls.push(`${peer} ${start}-${end}`);
      // 1000 bytes, then the next 1000 after 300 ms: a peer whose own download is slow.
      return Readable.from((async function* () {
        yield data.subarray(start, start + 1000);
        await new Promise<void>((resolve, reject) => {
          const t = setTimeout(resolve, 300);
          signal?.addEventListener('abort', () => ((aborted = true), clearTimeout(t), reject(signal.reason)), { once: true });
        });
        yield data.subarray(start + 1000, start + 2000);
      })());
    },
  };
  const s = new PullSources(f.deps);
  const r = await s.open(desc, 0, f.registry);
  r.on('error', () => undefined);
  await new Promise((resolve) => r.once('data', resolve));
  r.destroy(new Error('the unpack failed'));
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.ok(aborted, 'the request of the peer read was aborted');
  assert.deepEqual(f.calls, ['http://slow 0-199999']);
  assert.deepEqual(f.registryCalls, []);
  assert.equal(f.deps.stats.peerFailures, 0);
  assert.equal(s.corrupt(desc), true);
  assert.deepEqual([...s.bad], ['http://slow'], 'only the peer that gave bytes');
});
