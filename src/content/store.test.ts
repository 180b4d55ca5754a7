import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { is } from '../errdefs/index.ts';
import { openContentStore } from './store.ts';
import type { ContentStore, ContentWriter } from './types.ts';

function digestOf(b: Buffer): string {
  return 'sha256:' + createHash('sha256').update(b).digest('hex');
}

async function collect(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

async function write(w: ContentWriter, data: Buffer): Promise<void> {
  const s = w.stream();
  s.end(data);
  await finished(s);
}

async function tempStore(t: { after: (fn: () => void) => void }): Promise<{ store: ContentStore; root: string }> {
  const root = mkdtempSync(join(tmpdir(), 'joey-content-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  return { store: await openContentStore(root), root };
}

const payload = Buffer.from('a layer, or a manifest: bytes that hash to a digest\n'.repeat(1000));
const digest = digestOf(payload);

test('write, commit and read a blob', async (t) => {
  const { store, root } = await tempStore(t);
  const w = await store.writer('layer-1');
  assert.equal(w.offset, 0);
  await write(w, payload.subarray(0, 100));
  await write(w, payload.subarray(100)); // a second sink continues the same ingest
  const info = await w.commit({ digest, size: payload.length });
  assert.equal(info.digest, digest);
  assert.equal(info.size, payload.length);

  assert.deepEqual(await collect(store.reader(digest)), payload);
  assert.deepEqual(await collect(store.reader(digest, { start: 10 })), payload.subarray(10));
  assert.deepEqual(await store.readBytes(digest), payload);
  assert.equal((await store.info(digest))?.size, payload.length);
  const p = store.path(digest);
  assert.equal(p, join(root, 'blobs', 'sha256', digest.slice(7)));
  assert.equal(statSync(p).mode & 0o777, 0o444);
  assert.deepEqual(await readdir(join(root, 'ingest')), [], 'the ingest is gone after commit');
  assert.deepEqual(await store.ingests(), []);
});

test('an interrupted ingest resumes from its offset', async (t) => {
  const { store } = await tempStore(t);
  const first = await store.writer('resume-me');
  await write(first, payload.subarray(0, 1234));
  await first.close();

  const [ingest] = await store.ingests();
  assert.equal(ingest?.ref, 'resume-me');
  assert.equal(ingest?.offset, 1234);
  assert.ok(ingest!.updatedAt instanceof Date);

  const again = await store.writer('resume-me');
  assert.equal(again.offset, 1234);
  assert.equal(again.written, 1234);
  const fh = await again.openRead();
  try {
    const { buffer, bytesRead } = await fh.read(Buffer.alloc(4096), 0, 4096, 0);
    assert.deepEqual(buffer.subarray(0, bytesRead), payload.subarray(0, 1234), 'the resumed bytes are read from the start');
  } finally {
    await fh.close();
  }
  await write(again, payload.subarray(1234));
  await again.commit({ digest, size: payload.length });
  assert.deepEqual(await store.readBytes(digest), payload);
});

test('a digest or size mismatch is data loss and discards the ingest', async (t) => {
  const { store } = await tempStore(t);
  const w = await store.writer('bad');
  await write(w, Buffer.from('not what was promised'));
  const wrong = 'sha256:' + '0'.repeat(64);
  await assert.rejects(
    w.commit({ digest: wrong }),
    (err) => is(err, 'data-loss') && (err as Error).message.startsWith(`digest mismatch for bad: expected ${wrong}, got sha256:`),
  );
  assert.deepEqual(await store.ingests(), []);
  assert.equal(await store.info(wrong), undefined);

  const w2 = await store.writer('short');
  await write(w2, payload.subarray(0, 10));
  await assert.rejects(w2.commit({ digest, size: payload.length }), (err) => is(err, 'data-loss') && /size mismatch for short/.test((err as Error).message));
  assert.deepEqual(await store.ingests(), []);
});

test('only one writer per ref at a time', async (t) => {
  const { store } = await tempStore(t);
  const [a, b] = await Promise.allSettled([store.writer('same'), store.writer('same')]);
  assert.equal(a.status, 'fulfilled');
  assert.ok(b.status === 'rejected' && is(b.reason, 'conflict'));
  await assert.rejects(store.abortIngest('same'), (err) => is(err, 'conflict'));
  await (a as PromiseFulfilledResult<ContentWriter>).value.close();
  const c = await store.writer('same'); // free again after close
  await c.abort();
  assert.deepEqual(await store.ingests(), []);
});

test('committing a blob that already exists succeeds and drops the ingest', async (t) => {
  const { store } = await tempStore(t);
  await store.writeBytes(payload);
  const w = await store.writer('dup');
  await write(w, payload);
  const info = await w.commit({ digest });
  assert.equal(info.size, payload.length);
  assert.deepEqual(await store.ingests(), []);
});

test('delete, walk and missing blobs', async (t) => {
  const { store } = await tempStore(t);
  const one = await store.writeBytes(Buffer.from('one'));
  const two = await store.writeBytes(Buffer.from('two'));
  const seen: string[] = [];
  for await (const b of store.walk()) seen.push(b.digest);
  assert.deepEqual(seen.sort(), [one.digest, two.digest].sort());

  await store.delete(one.digest);
  assert.equal(await store.info(one.digest), undefined);
  await assert.rejects(store.delete(one.digest), (err) => is(err, 'not-found'));
  assert.throws(() => store.reader(one.digest), (err) => is(err, 'not-found'));
  await assert.rejects(store.readBytes(one.digest), (err) => is(err, 'not-found'));
});

test('writeBytes is idempotent and checks the expected digest', async (t) => {
  const { store } = await tempStore(t);
  const data = Buffer.from('{"schemaVersion":2}');
  const [a, b] = await Promise.all([store.writeBytes(data), store.writeBytes(data, digestOf(data))]);
  assert.equal(a.digest, digestOf(data));
  assert.equal(b.digest, a.digest);
  const c = await store.writeBytes(data);
  assert.equal(c.size, data.length);
  await assert.rejects(store.writeBytes(Buffer.from('other'), a.digest), (err) => is(err, 'data-loss'));
  assert.deepEqual(await store.ingests(), []);
});

test('digests are validated strictly and readBytes has a ceiling', async (t) => {
  const { store } = await tempStore(t);
  for (const bad of ['sha256:' + 'A'.repeat(64), 'sha512:' + 'a'.repeat(64), 'sha256:abc', '../../etc/passwd']) {
    await assert.rejects(store.info(bad), (err) => is(err, 'invalid'), bad);
    assert.throws(() => store.path(bad), (err) => is(err, 'invalid'), bad);
  }
  const info = await store.writeBytes(payload);
  await assert.rejects(store.readBytes(info.digest, 100), (err) => is(err, 'invalid') && /more than the 100/.test((err as Error).message));
});

test('a half-created ingest directory (no ref) is dropped when the store opens', async (t) => {
  const { store, root } = await tempStore(t);
  const w = await store.writer('kept');
  await write(w, Buffer.from('partial'));
  await w.close();
  mkdirSync(join(root, 'ingest', 'f'.repeat(64)));
  const reopened = await openContentStore(root);
  assert.deepEqual(
    (await reopened.ingests()).map((i) => [i.ref, i.offset]),
    [['kept', 7]],
  );
  assert.deepEqual((await readdir(join(root, 'ingest'))).length, 1);
});

test('a writer can be watched: what is on disk, the next write, how it ended, a reader of its file', async (t) => {
  const { store } = await tempStore(t);
  assert.equal(store.live(digest), undefined);
  const w = await store.writer(digest);
  const live = store.live(digest)!;
  assert.equal(live.written, 0);
  const next = live.changed();
  const sink = w.stream();
  await new Promise<void>((r) => sink.write(payload.subarray(0, 1000), () => r()));
  await next;
  assert.equal(live.written, 1000);
  const h = await live.openRead();
  await new Promise<void>((r) => sink.end(payload.subarray(1000), () => r()));
  await finished(sink);
  await w.commit({ digest, size: payload.length });
  assert.equal(await live.ended, 'committed');
  assert.equal(store.live(digest), undefined);
  // The handle outlives the rename into the blobs directory.
  const { bytesRead, buffer } = await h.read(Buffer.alloc(payload.length), 0, payload.length, 0);
  await h.close();
  assert.ok(buffer.subarray(0, bytesRead).equals(payload));
  await assert.rejects(live.openRead(), (e) => is(e, 'not-found'));

  const other = digestOf(Buffer.from('other'));
  const w2 = await store.writer(other);
  const l2 = store.live(other)!;
  await w2.close();
  assert.equal(await l2.ended, 'closed');
  const w3 = await store.writer(other);
  assert.notEqual(store.live(other), l2, 'a new writer is a new watch');
  await w3.abort();
  assert.equal(l2.outcome, 'closed');
});
