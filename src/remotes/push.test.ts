import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { JoeyError } from '../errdefs/index.ts';
import { parseReference } from '../reference/parse.ts';
import { FakeRegistry, type FakeOptions } from './fake-registry.ts';
import { MEDIA_TYPES } from './manifest.ts';
import { createRegistry, type RegistryInternals, type RemoteRegistry } from './registry.ts';
import type { Descriptor } from './types.ts';

const cleanups: (() => unknown)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function fake(opts: FakeOptions = {}): Promise<FakeRegistry> {
  const f = await FakeRegistry.start(opts);
  cleanups.push(() => f.close());
  return f;
}

function client(opts: { mirrors?: string[] } = {}, internals: RegistryInternals = {}): RemoteRegistry {
  const r = createRegistry({ insecureRegistries: [], mirrors: opts.mirrors ?? [], timeoutMs: 3000 }, internals);
  cleanups.push(() => r.close());
  return r;
}

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

function blob(data: Buffer): Descriptor {
  return { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(data), size: data.length };
}

/** A source that hands its bytes out in small pieces, as a file would. */
function source(data: Buffer): () => Readable {
  return () => Readable.from((function* () {
    for (let i = 0; i < data.length; i += 16_384) yield data.subarray(i, i + 16_384);
  })());
}

function rejectsWith(kind: JoeyError['kind'], pattern: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof JoeyError, `not a JoeyError: ${String(err)}`);
    assert.equal(err.kind, kind, err.message);
    assert.match(err.message, pattern);
    return true;
  };
}

test('push: upload a blob in one streamed PUT, then the manifest', async () => {
  const f = await fake();
  const data = randomBytes(300_000);
  const desc = blob(data);
  const repo = client().repository(parseReference(`${f.host}/team/app:v1`));
  assert.equal(await repo.blobExists(desc), false);
  const progress: number[] = [];
  await repo.pushBlob(desc, source(data), (n) => progress.push(n));
  assert.equal(await repo.blobExists(desc), true);
  assert.deepEqual(f.blobs.get(desc.digest), data);
  assert.equal(progress.at(-1), data.length);
  assert.ok(progress.length > 1, 'progress reported along the way');
  const put = f.seen('PUT', '/v2/team/app/blobs/uploads/')[0]!;
  assert.equal(put.headers['content-length'], String(data.length));
  assert.ok(put.url.includes(`digest=${encodeURIComponent(desc.digest)}`));

  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config: desc, layers: [desc] }));
  const digest = await repo.putManifest('v1', MEDIA_TYPES.ociManifest, manifest);
  assert.equal(digest, sha256(manifest));
  assert.equal(f.seen('PUT', '/v2/team/app/manifests/v1')[0]!.headers['content-type'], MEDIA_TYPES.ociManifest);
  assert.deepEqual(await repo.resolve(), { mediaType: MEDIA_TYPES.ociManifest, digest, size: manifest.length });
  await assert.rejects(repo.putManifest('bad tag', MEDIA_TYPES.ociManifest, manifest), rejectsWith('invalid', /"bad tag"/));
});

test('push: the registry refusing the digest is data loss with its message', async () => {
  const f = await fake();
  const data = randomBytes(1000);
  const repo = client().repository(parseReference(`${f.host}/x`));
  const wrong = { ...blob(data), digest: sha256(Buffer.from('other')) };
  await assert.rejects(repo.pushBlob(wrong, source(data)), rejectsWith('data-loss', /digest invalid: provided digest did not match/));
});

test('cross-repository mount: 201 mounts; 202 is declined, the session canceled, the blob uploaded', async () => {
  const data = randomBytes(5000);
  const desc = blob(data);

  const yes = await fake({ mount: 'mount' });
  yes.addBlob('base/os', data);
  const repo = client().repository(parseReference(`${yes.host}/team/app`));
  assert.equal(await repo.mountBlob(desc, 'base/os'), true);
  const post = new URL(yes.seen('POST', '/v2/team/app/blobs/uploads/')[0]!.url, yes.url);
  assert.equal(post.searchParams.get('mount'), desc.digest);
  assert.equal(post.searchParams.get('from'), 'base/os');
  assert.equal(await repo.blobExists(desc), true);

  const no = await fake({ mount: 'decline' });
  no.addBlob('base/os', data);
  const repo2 = client().repository(parseReference(`${no.host}/team/app`));
  assert.equal(await repo2.mountBlob(desc, 'base/os'), false);
  assert.equal(no.seen('DELETE', '/v2/team/app/blobs/uploads/').length, 1, 'the opened upload is canceled');
  assert.equal(no.uploads.size, 0);
  await repo2.pushBlob(desc, source(data));
  assert.equal(await repo2.blobExists(desc), true);
});

test('push with bearer auth: push scope, and a clear error without credentials', async () => {
  const f = await fake({ auth: { kind: 'bearer', users: { alice: 'pw' }, anonymousPull: true }, mount: 'mount' });
  const data = randomBytes(2000);
  const desc = blob(data);
  const ref = parseReference(`${f.host}/team/app`);
  await assert.rejects(
    client().repository(ref).pushBlob(desc, source(data)),
    rejectsWith('unauthorized', /push access denied for 127\.0\.0\.1:\d+\/team\/app/),
  );
  const repo = client().repository(ref, { username: 'alice', password: 'pw' });
  await repo.pushBlob(desc, source(data));
  assert.equal(await repo.blobExists(desc), true);
  const scopes = f.tokenRequests.map((q) => new URL(q.url, f.url).searchParams.getAll('scope').join(' '));
  assert.ok(scopes.includes('repository:team/app:pull,push'), scopes.join(' | '));
  // a mount asks for pull on the source repository too
  f.addBlob('base/os', randomBytes(10));
  const other = blob(f.blobs.get([...f.repos.get('base/os')!.blobs][0]!)!);
  assert.equal(await repo.mountBlob(other, 'base/os'), true);
  const last = new URL(f.tokenRequests.at(-1)!.url, f.url).searchParams.getAll('scope');
  assert.deepEqual(last.sort(), ['repository:base/os:pull', 'repository:team/app:pull,push']);
});

test('pushes go to the origin, never to a mirror', async () => {
  const origin = await fake();
  const mirror = await fake();
  const data = randomBytes(100);
  const repo = client({ mirrors: [mirror.url] }, { dockerHubHost: origin.host }).repository(parseReference('team/app'));
  await repo.pushBlob(blob(data), source(data));
  await repo.putManifest('latest', MEDIA_TYPES.ociManifest, Buffer.from('{}'));
  assert.equal(mirror.requests.length, 0);
  assert.ok(origin.blobs.has(blob(data).digest));
});
