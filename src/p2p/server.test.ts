import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openContentStore } from '../content/store.ts';
import type { ContentStore } from '../content/types.ts';
import { P2PClient } from './client.ts';
import type { Readable, Writable } from 'node:stream';
import { PartialBlobs } from './partial.ts';
import { blobHandler, parseRange, serve, trackerHandler, type P2PServer } from './server.ts';
import { newStats } from './stats.ts';
import { PeerTable } from './tracker.ts';

const SECRET = 'a-secret-of-the-fleet-0123';
let dir: string;
let content: ContentStore;
let server: P2PServer;
let base: string;
const blob = randomBytes(300_000);
const digest = 'sha256:' + createHash('sha256').update(blob).digest('hex');
const client = new P2PClient({ secret: SECRET, timeoutMs: 5000 });
const partials = new PartialBlobs();
const stats = newStats();

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'joey-p2p-'));
  content = await openContentStore(dir);
  await content.writeBytes(blob, digest);
  server = await serve({ host: '127.0.0.1', port: 0 }, SECRET, [blobHandler(content, stats, { partials, partialWaitMs: 300 }), trackerHandler(new PeerTable())], 'test');
  base = `http://127.0.0.1:${server.port}`;
});
after(async () => {
  client.close();
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

function raw(method: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(base + path, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}
const auth = { authorization: `Bearer ${SECRET}` };

test('without the secret, or with a wrong one: 401, before anything else', async () => {
  assert.equal((await raw('GET', `/p2p/v1/blobs/${digest}`)).status, 401);
  assert.equal((await raw('GET', `/p2p/v1/blobs/${digest}`, { authorization: `Bearer ${SECRET}x` })).status, 401);
  assert.equal((await raw('GET', '/p2p/v1/blobs/nonsense', { authorization: 'Basic Zm9vOmJhcg==' })).status, 401);
  assert.equal((await raw('GET', `/p2p/v1/peers?digest=${digest}`)).status, 401);
});

test('a whole blob, a range, HEAD, a missing blob, a malformed digest, an unsatisfiable range', async () => {
  const whole = await raw('GET', `/p2p/v1/blobs/${digest}`, auth);
  assert.equal(whole.status, 200);
  assert.ok(whole.body.equals(blob));
  const part = await raw('GET', `/p2p/v1/blobs/${digest}`, { ...auth, range: 'bytes=1000-1999' });
  assert.equal(part.status, 206);
  assert.equal(part.headers['content-range'], `bytes 1000-1999/${blob.length}`);
  assert.ok(part.body.equals(blob.subarray(1000, 2000)));
  const tail = await raw('GET', `/p2p/v1/blobs/${digest}`, { ...auth, range: 'bytes=299990-' });
  assert.ok(tail.body.equals(blob.subarray(299990)));
  const head = await raw('HEAD', `/p2p/v1/blobs/${digest}`, auth);
  assert.equal(head.status, 200);
  assert.equal(head.headers['content-length'], String(blob.length));
  assert.equal((await raw('GET', `/p2p/v1/blobs/sha256:${'0'.repeat(64)}`, auth)).status, 404);
  assert.equal((await raw('GET', '/p2p/v1/blobs/sha256:XYZ', auth)).status, 400);
  assert.equal((await raw('GET', '/p2p/v1/blobs/..%2f..%2fetc%2fpasswd', auth)).status, 400);
  assert.equal((await raw('GET', `/p2p/v1/blobs/${digest}`, { ...auth, range: 'bytes=300000-' })).status, 416);
});

test('a partial download (an ingest) is never served', async () => {
  const partial = randomBytes(1000);
  const d = 'sha256:' + createHash('sha256').update(partial).digest('hex');
  const w = await content.writer(d);
  const s = w.stream();
  s.end(partial.subarray(0, 500));
  await new Promise((r) => s.on('finish', r));
  await w.close();
  assert.equal((await raw('GET', `/p2p/v1/blobs/${d}`, auth)).status, 404);
  await content.abortIngest(d);
});

test('the client checks what a peer answers', async () => {
  const body = await client.blob(base, digest, blob.length, 100, 199);
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c as Buffer);
  assert.ok(Buffer.concat(chunks).equals(blob.subarray(100, 200)));
  // The peer's idea of the size differs from the manifest's: refused before any byte.
  await assert.rejects(client.blob(base, digest, blob.length + 1, 0), /announced|Content-Range/);
  await assert.rejects(client.blob(base, digest, blob.length + 1, 10), /Content-Range/);
  await assert.rejects(client.blob(base, `sha256:${'0'.repeat(64)}`, 10, 0), /answered 404/);
  const wrong = new P2PClient({ secret: 'not-the-secret-of-the-fleet' });
  await assert.rejects(wrong.blob(base, digest, blob.length, 0), /answered 401/);
  wrong.close();
});

test('the tracker over HTTP: announce, peers (not the asker), bad announces refused', async () => {
  await client.announce(base, { peer: 'http://10.0.0.1:7070', digests: [digest], replace: true });
  await client.announce(base, { peer: 'http://10.0.0.2:7070', digests: [digest], replace: true });
  assert.deepEqual((await client.holders(base, digest, 'http://10.0.0.1:7070')), { peers: ['http://10.0.0.2:7070'], partial: [] });
  await assert.rejects(client.announce(base, { peer: 'file:///etc', digests: [digest] }), /400/);
  await assert.rejects(client.announce(base, { peer: 'http://x:1', digests: ['sha256:short'] }), /400/);
  await assert.rejects(client.holders(base, 'md5:abc', undefined), /400/);
});

test('the tracker over HTTP: joins as a partial holder, each told of the ones before it', async () => {
  const d = 'sha256:' + '9'.repeat(64);
  assert.deepEqual(await client.join(base, 'http://10.0.0.1:7070', d), { peers: [], partial: [] });
  assert.deepEqual(await client.join(base, 'http://10.0.0.2:7070', d), { peers: [], partial: ['http://10.0.0.1:7070'] });
  assert.deepEqual(await client.holders(base, d, undefined), { peers: [], partial: ['http://10.0.0.1:7070', 'http://10.0.0.2:7070'] });
  await client.announce(base, { peer: 'http://10.0.0.1:7070', withdraw: [d] });
  assert.deepEqual(await client.holders(base, d, undefined), { peers: [], partial: ['http://10.0.0.2:7070'] });
  await assert.rejects(client.join(base, 'ftp://x', d), /400/);
});

/** A download under way, shared: bytes go in through `write`. */
async function sharedIngest(data: Buffer) {
  const d = 'sha256:' + createHash('sha256').update(data).digest('hex');
  const w = await content.writer(d);
  partials.add(d, data.length, content.live(d)!);
  const sink: Writable = w.stream();
  const write = (b: Buffer) => new Promise<void>((resolve, reject) => sink.write(b, (e) => (e ? reject(e) : resolve())));
  return { d, w, sink, write };
}

/** Reads a body, keeping what came before an error. */
function collect(body: Readable): { got: Buffer[]; done: Promise<Error | undefined> } {
  const got: Buffer[] = [];
  body.on('data', (c: Buffer) => got.push(c));
  const done = new Promise<Error | undefined>((resolve) => {
    body.on('end', () => resolve(undefined));
    body.on('error', (e) => resolve(e));
  });
  return { got, done };
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a download under way is served as it grows, never past what is written', async () => {
  const data = randomBytes(200_000);
  const { d, w, sink, write } = await sharedIngest(data);
  await write(data.subarray(0, 50_000));
  const whole = collect(await client.blob(base, d, data.length, 0));
  const tail = collect(await client.blob(base, d, data.length, 120_000));
  await sleep(100);
  assert.equal(Buffer.concat(whole.got).length, 50_000, 'only the written bytes');
  assert.equal(tail.got.length, 0, 'a range past the written bytes waits');
  await write(data.subarray(50_000, 130_000));
  await sleep(100);
  assert.equal(Buffer.concat(whole.got).length, 130_000);
  assert.equal(Buffer.concat(tail.got).length, 10_000);
  await write(data.subarray(130_000));
  sink.end();
  await w.commit({ digest: d, size: data.length });
  assert.equal(await whole.done, undefined);
  assert.equal(await tail.done, undefined);
  assert.ok(Buffer.concat(whole.got).equals(data));
  assert.ok(Buffer.concat(tail.got).equals(data.subarray(120_000)));
  // Now whole: served from the blobs directory.
  assert.equal((await raw('GET', `/p2p/v1/blobs/${d}`, auth)).body.length, data.length);
});

test('a shared download that stops or stalls: the answer is cut where the written bytes end', async () => {
  const stopped = await sharedIngest(randomBytes(100_000));
  await stopped.write(Buffer.alloc(10_000, 1));
  const r1 = collect(await client.blob(base, stopped.d, 100_000, 0));
  await sleep(50);
  await stopped.w.close(); // kept for a resume, but no longer shared
  assert.match(String(await r1.done), /aborted|reset|premature|closed/i);
  assert.equal(Buffer.concat(r1.got).length, 10_000);
  assert.equal((await raw('GET', `/p2p/v1/blobs/${stopped.d}`, auth)).status, 404, 'an ingest with no writer is not served');
  await content.abortIngest(stopped.d);

  const stalled = await sharedIngest(randomBytes(100_000));
  await stalled.write(Buffer.alloc(1000, 2));
  const t0 = Date.now();
  const r2 = collect(await client.blob(base, stalled.d, 100_000, 0));
  assert.ok(await r2.done, 'cut after the wait');
  assert.ok(Date.now() - t0 >= 250, 'after the partial wait, not at once');
  assert.equal(Buffer.concat(r2.got).length, 1000);
  await stalled.w.abort();
});

test('a reader that keeps up with a shared download leaves no timer or listener per write behind', async () => {
  // A long partial wait, so that a timer left behind by a wait that a write ended would still be pending.
  const own = await serve({ host: '127.0.0.1', port: 0 }, SECRET, [blobHandler(content, stats, { partials, partialWaitMs: 60_000 })], 'test');
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  try {
    const data = randomBytes(40_000);
    const { d, w, sink, write } = await sharedIngest(data);
    const before = timers();
    const r = collect(await client.blob(`http://127.0.0.1:${own.port}`, d, data.length, 0));
    for (let i = 0; i < 39; i++) {
      await write(data.subarray(i * 1000, (i + 1) * 1000));
      await sleep(5); // the reader catches up and waits for the next write
    }
    // The answer is still open (a write is missing): one wait at most.
    assert.equal(Buffer.concat(r.got).length, 39_000);
    assert.ok(timers() <= before + 1, `${timers() - before} timers pending after 39 writes`);
    await write(data.subarray(39_000));
    sink.end();
    await w.commit({ digest: d, size: data.length });
    assert.equal(await r.done, undefined);
    assert.ok(Buffer.concat(r.got).equals(data));
  } finally {
    await own.close();
  }
});

test('an ingest that no pull shares is not served', async () => {
  const data = randomBytes(1000);
  const d = 'sha256:' + createHash('sha256').update(data).digest('hex');
  const w = await content.writer(d);
  const sink = w.stream();
  await new Promise<void>((r) => sink.write(data, () => r()));
  assert.ok(content.live(d), 'the writer is open');
  assert.equal((await raw('GET', `/p2p/v1/blobs/${d}`, auth)).status, 404);
  await w.abort();
});

test('Range parsing', () => {
  assert.deepEqual(parseRange('bytes=0-9', 100), { start: 0, end: 9 });
  assert.deepEqual(parseRange('bytes=90-', 100), { start: 90, end: 99 });
  assert.deepEqual(parseRange('bytes=90-1000', 100), { start: 90, end: 99 });
  assert.equal(parseRange('bytes=100-', 100), 'unsatisfiable');
  assert.equal(parseRange('bytes=5-4', 100), 'unsatisfiable');
  assert.equal(parseRange('bytes=0-1,5-6', 100), undefined);
  assert.equal(parseRange(undefined, 100), undefined);
});
