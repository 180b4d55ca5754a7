import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import { is, JoeyError } from '../errdefs/index.ts';
import { parseReference } from '../reference/parse.ts';
import { FakeRegistry, startBlobStore, type FakeOptions } from './fake-registry.ts';
import { MANIFEST_LIMIT, MEDIA_TYPES } from './manifest.ts';
import { createRegistry, type RegistryInternals, type RemoteRegistry } from './registry.ts';
import type { AuthConfig, Descriptor } from './types.ts';

const cleanups: (() => unknown)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function fake(opts: FakeOptions = {}): Promise<FakeRegistry> {
  const f = await FakeRegistry.start(opts);
  cleanups.push(() => f.close());
  return f;
}

function client(opts: { mirrors?: string[]; insecure?: string[] } = {}, internals: RegistryInternals = {}): RemoteRegistry {
  const r = createRegistry({ insecureRegistries: opts.insecure ?? [], mirrors: opts.mirrors ?? [], timeoutMs: 3000 }, internals);
  cleanups.push(() => r.close());
  return r;
}

interface Image {
  manifest: Descriptor;
  layer: Descriptor;
  layerBytes: Buffer;
  config: Descriptor;
}

/** A one-layer image pushed into the fake under `tag`. */
function addImage(f: FakeRegistry, path: string, tag = 'latest', layerBytes = randomBytes(200_000)): Image {
  const configBytes = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
  const config = f.addBlob(path, configBytes, 'application/vnd.oci.image.config.v1+json');
  const layer = f.addBlob(path, layerBytes, 'application/vnd.oci.image.layer.v1.tar');
  const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config, layers: [layer] }));
  const manifest = f.addManifest(path, body, MEDIA_TYPES.ociManifest, tag);
  return { manifest, layer, layerBytes, config };
}

async function readAll(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

function rejectsWith(kind: JoeyError['kind'], pattern: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof JoeyError, `not a JoeyError: ${String(err)}`);
    assert.equal(err.kind, kind, err.message);
    assert.match(err.message, pattern);
    return true;
  };
}

test('pull: resolve a tag with HEAD, fetch the verified manifest and the blob', async () => {
  const f = await fake();
  const img = addImage(f, 'team/app', 'v1');
  const repo = client().repository(parseReference(`${f.host}/team/app:v1`));
  const desc = await repo.resolve();
  assert.deepEqual(desc, img.manifest);
  assert.equal(f.seen('GET', '/v2/team/app/manifests').length, 0, 'HEAD was enough to resolve');
  const body = await repo.fetchManifest(desc);
  assert.equal(sha256(body), img.manifest.digest);
  const accept = String(f.seen('HEAD')[0]!.headers.accept);
  for (const t of Object.values(MEDIA_TYPES)) assert.ok(accept.includes(t), `Accept has ${t}`);
  assert.deepEqual(await readAll(await repo.fetchBlob(img.layer)), img.layerBytes);
  // by digest too
  const byDigest = client().repository(parseReference(`${f.host}/team/app@${img.manifest.digest}`));
  assert.deepEqual(await byDigest.resolve(), img.manifest);
});

test('pull: without the digest header (or HEAD) the digest is computed from the GET body', async () => {
  for (const head of ['no-digest', 'unsupported'] as const) {
    const f = await fake({ head });
    const img = addImage(f, 'x');
    const repo = client().repository(parseReference(`${f.host}/x`));
    const desc = await repo.resolve();
    assert.deepEqual(desc, img.manifest, head);
    const gets = f.seen('GET', '/v2/x/manifests').length;
    await repo.fetchManifest(desc);
    assert.equal(f.seen('GET', '/v2/x/manifests').length, gets, `${head}: the resolved body is reused, not fetched again`);
  }
});

test('pull: a manifest whose bytes do not match its digest is data loss naming both digests', async () => {
  const f = await fake();
  const img = addImage(f, 'x');
  const tampered = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config: img.config, layers: [] }));
  f.corrupt.set(img.manifest.digest, tampered);
  const repo = client().repository(parseReference(`${f.host}/x`));
  // HEAD gives the right digest; the bytes then fail verification
  const desc = await repo.resolve();
  await assert.rejects(repo.fetchManifest(desc), rejectsWith('data-loss', new RegExp(`expected ${img.manifest.digest}`)));
  await assert.rejects(repo.fetchManifest({ ...desc, size: tampered.length }), rejectsWith('data-loss', new RegExp(`got ${sha256(tampered)}`)));

  // Without HEAD's digest: the GET body disagrees with Docker-Content-Digest
  const g = await fake({ head: 'no-digest' });
  const img2 = addImage(g, 'x');
  g.corrupt.set(img2.manifest.digest, tampered);
  await assert.rejects(
    client().repository(parseReference(`${g.host}/x`)).resolve(),
    rejectsWith('data-loss', new RegExp(`expected ${img2.manifest.digest}, got ${sha256(tampered)}`)),
  );
  // by digest: the bytes must hash to the reference's digest
  const byDigest = client().repository(parseReference(`${g.host}/x@${img2.manifest.digest}`));
  await assert.rejects(byDigest.fetchManifest(await byDigest.resolve()), rejectsWith('data-loss', /digest mismatch/));
  const h = await fake({ head: 'unsupported' });
  const img3 = addImage(h, 'x');
  h.corrupt.set(img3.manifest.digest, tampered);
  await assert.rejects(
    client().repository(parseReference(`${h.host}/x@${img3.manifest.digest}`)).resolve(),
    rejectsWith('data-loss', new RegExp(`digest mismatch: expected ${img3.manifest.digest}`)),
  );
});

test('pull: manifests over 4 MiB are refused', async () => {
  const f = await fake({ head: 'no-digest' });
  const big = Buffer.alloc(MANIFEST_LIMIT + 1, 0x20);
  const desc = f.addManifest('x', big, MEDIA_TYPES.ociManifest, 'big');
  const repo = client().repository(parseReference(`${f.host}/x:big`));
  await assert.rejects(repo.resolve(), rejectsWith('invalid', /at most 4194304 bytes/));
  await assert.rejects(repo.fetchManifest(desc), rejectsWith('invalid', /at most 4194304 bytes/));
});

test('pull: registry errors become typed errors with the registry message', async () => {
  const f = await fake();
  addImage(f, 'x');
  const r = client();
  await assert.rejects(
    r.repository(parseReference(`${f.host}/x:nope`)).resolve(),
    rejectsWith('not-found', new RegExp(`manifest for ${f.host}/x:nope not found: manifest unknown: manifest unknown`)),
  );
  await assert.rejects(
    r.repository(parseReference(`${f.host}/nothing`)).resolve(),
    rejectsWith('not-found', /not found: name unknown: repository name not known to registry/),
  );
  const missing = { mediaType: 'application/octet-stream', digest: sha256(Buffer.from('missing')), size: 7 };
  await assert.rejects(r.repository(parseReference(`${f.host}/x`)).fetchBlob(missing), rejectsWith('not-found', /blob sha256:.* not found: blob unknown/));

  // a closed port: unavailable, naming the host
  const closed = http.createServer();
  await new Promise<void>((res) => closed.listen(0, '127.0.0.1', res));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((res) => closed.close(res));
  await assert.rejects(
    r.repository(parseReference(`127.0.0.1:${port}/x`)).resolve(),
    rejectsWith('unavailable', new RegExp(`127\\.0\\.0\\.1:${port}.*ECONNREFUSED`)),
  );
});

test('fetchBlob resumes from an offset with 206, or skips bytes itself on 200', async () => {
  for (const honorRange of [true, false]) {
    const f = await fake({ honorRange });
    const img = addImage(f, 'x');
    const repo = client().repository(parseReference(`${f.host}/x`));
    const got = await readAll(await repo.fetchBlob(img.layer, { offset: 12_345 }));
    assert.deepEqual(got, img.layerBytes.subarray(12_345), `honorRange=${honorRange}`);
    assert.equal(f.seen('GET', '/v2/x/blobs')[0]!.headers.range, 'bytes=12345-');
    // nothing left to fetch: no request at all
    assert.equal((await readAll(await repo.fetchBlob(img.layer, { offset: img.layer.size }))).length, 0);
    await assert.rejects(repo.fetchBlob(img.layer, { offset: img.layer.size + 1 }), rejectsWith('invalid', /past the end/));
  }
});

test('a connection dropped mid-blob errors the stream; the caller resumes with an offset', async () => {
  const f = await fake();
  const img = addImage(f, 'x', 'latest', randomBytes(1 << 20));
  f.dropAfter.set(img.layer.digest, 300_000);
  const repo = client().repository(parseReference(`${f.host}/x`));
  const stream = await repo.fetchBlob(img.layer);
  const chunks: Buffer[] = [];
  await assert.rejects(
    (async () => {
      for await (const c of stream) chunks.push(c as Buffer);
    })(),
  );
  const first = Buffer.concat(chunks);
  assert.ok(first.length >= 1 && first.length < img.layer.size, `got ${first.length} bytes before the drop`);
  const rest = await readAll(await repo.fetchBlob(img.layer, { offset: first.length }));
  assert.equal(sha256(Buffer.concat([first, rest])), img.layer.digest);
});

test('a connection reset on a manifest HEAD is retried once', async () => {
  const f = await fake();
  const img = addImage(f, 'x');
  const r = client();
  // warm up so the scheme is known; the reset then hits a reused connection
  await r.repository(parseReference(`${f.host}/x`)).resolve();
  f.resets.set('HEAD /v2/x/manifests/latest', 1);
  assert.deepEqual(await r.repository(parseReference(`${f.host}/x`)).resolve(), img.manifest);
  f.resets.set('HEAD /v2/x/manifests/latest', 2);
  await assert.rejects(r.repository(parseReference(`${f.host}/x`)).resolve(), rejectsWith('unavailable', /socket hang up|ECONNRESET/));
});

test('bearer tokens: anonymous pulls, one token reused, renewed after expires_in', async () => {
  const f = await fake({ auth: { kind: 'bearer', anonymousPull: true, expiresIn: 120 } });
  const img = addImage(f, 'x');
  let now = Date.now();
  const repo = client({}, { now: () => now }).repository(parseReference(`${f.host}/x`));
  const desc = await repo.resolve();
  await repo.fetchManifest(desc);
  await readAll(await repo.fetchBlob(img.layer));
  await readAll(await repo.fetchBlob(img.config));
  assert.equal(f.tokenRequests.length, 1, 'one token for the whole pull');
  const t = new URL(f.tokenRequests[0]!.url, f.url);
  assert.equal(t.searchParams.get('service'), 'fake-registry');
  assert.deepEqual(t.searchParams.getAll('scope'), ['repository:x:pull']);
  assert.equal(f.tokenRequests[0]!.headers.authorization, undefined, 'anonymous');
  now += 121_000;
  await readAll(await repo.fetchBlob(img.config));
  assert.equal(f.tokenRequests.length, 2, 'expired token renewed');
  // after the first 401 the host is known: later requests are authorized up front
  assert.equal(f.requests.filter((r) => !r.headers.authorization).length, 1);
});

test('bearer tokens: private repositories need credentials, by password, identity token or registry token', async () => {
  const f = await fake({ auth: { kind: 'bearer', users: { alice: 's3cret' } } });
  const img = addImage(f, 'team/private');
  const ref = parseReference(`${f.host}/team/private`);
  const r = client();

  await assert.rejects(
    r.repository(ref).resolve(),
    rejectsWith(
      'unauthorized',
      new RegExp(`pull access denied for ${f.host}/team/private, repository does not exist or may require 'docker login': unauthorized: requested access to the resource is denied`),
    ),
  );
  await assert.rejects(r.repository(ref, { username: 'alice', password: 'wrong' }).resolve(), rejectsWith('unauthorized', /incorrect username or password/));

  const auth: AuthConfig = { auth: Buffer.from('alice:s3cret').toString('base64') };
  assert.deepEqual(await r.repository(ref, auth).resolve(), img.manifest);
  const tokenReq = f.tokenRequests.at(-1)!;
  assert.equal(tokenReq.headers.authorization, `Basic ${Buffer.from('alice:s3cret').toString('base64')}`);
  assert.equal(new URL(tokenReq.url, f.url).searchParams.get('account'), 'alice');

  // identity token: the OAuth2 POST with a refresh token
  const identity = (await r.login(f.host, { username: 'alice', password: 's3cret' })).identityToken;
  assert.ok(identity);
  const before = f.tokenRequests.length;
  const fresh = client();
  assert.deepEqual(await fresh.repository(ref, { identitytoken: identity }).resolve(), img.manifest);
  const post = f.tokenRequests.slice(before).find((q) => q.method === 'POST');
  assert.ok(post, 'identity token used in a POST to the realm');

  // registry token: sent as the bearer token, no token round trip
  const tokenRes = await fetch(`${f.url}/token?service=fake-registry&scope=repository:team/private:pull`, {
    headers: { authorization: `Basic ${Buffer.from('alice:s3cret').toString('base64')}` },
  });
  const { token } = (await tokenRes.json()) as { token: string };
  const n = f.tokenRequests.length;
  assert.deepEqual(await client().repository(ref, { registrytoken: token }).resolve(), img.manifest);
  assert.equal(f.tokenRequests.length, n);
});

test('basic auth registries', async () => {
  const f = await fake({ auth: { kind: 'basic', users: { bob: 'pw' } } });
  const img = addImage(f, 'x');
  const ref = parseReference(`${f.host}/x`);
  const r = client();
  await assert.rejects(r.repository(ref).resolve(), rejectsWith('unauthorized', /pull access denied for 127\.0\.0\.1:\d+\/x.*authentication required/));
  await assert.rejects(client().repository(ref, { username: 'bob', password: 'nope' }).resolve(), rejectsWith('unauthorized', /pull access denied/));
  const repo = r.repository(ref, { username: 'bob', password: 'pw' });
  assert.deepEqual(await repo.resolve(), img.manifest);
  assert.deepEqual(await readAll(await repo.fetchBlob(img.layer)), img.layerBytes);
});

test('a blob redirect to another host does not carry the Authorization header', async () => {
  const f = await fake({ auth: { kind: 'bearer', users: { alice: 'pw' } } });
  const img = addImage(f, 'x');
  const cdn = await startBlobStore(f.blobs);
  cleanups.push(() => cdn.close());
  f.opts.blobRedirect = cdn.url;
  const repo = client().repository(parseReference(`${f.host}/x`), { username: 'alice', password: 'pw' });
  await repo.resolve();
  assert.deepEqual(await readAll(await repo.fetchBlob(img.layer, { offset: 10 })), img.layerBytes.subarray(10));
  assert.ok(f.seen('GET', '/v2/x/blobs')[0]!.headers.authorization?.startsWith('Bearer '));
  assert.equal(cdn.requests.length, 1);
  assert.equal(cdn.requests[0]!.headers.authorization, undefined);
  assert.equal(cdn.requests[0]!.headers.range, 'bytes=10-');
});

test('mirrors: tried in order for docker.io, each failure moving on, the origin last', async () => {
  const origin = await fake({ auth: { kind: 'bearer', anonymousPull: true, users: { alice: 'hub-password' } } });
  const img = addImage(origin, 'library/busybox');
  const empty = await fake(); // answers 404 for everything
  const dead = http.createServer();
  await new Promise<void>((res) => dead.listen(0, '127.0.0.1', res));
  const deadUrl = `http://127.0.0.1:${(dead.address() as AddressInfo).port}`;
  await new Promise((res) => dead.close(res));

  const r = client({ mirrors: [deadUrl, empty.url] }, { dockerHubHost: origin.host });
  const repo = r.repository(parseReference('busybox'), { username: 'alice', password: 'hub-password' });
  assert.deepEqual(await repo.resolve(), img.manifest);
  assert.equal(empty.seen('HEAD', '/v2/library/busybox/manifests/latest').length, 1);
  await repo.fetchManifest(img.manifest);
  await readAll(await repo.fetchBlob(img.layer));
  // the origin resolved, so later fetches start there
  assert.equal(empty.seen('GET', '/v2/library/busybox/blobs').length, 0);
  for (const q of empty.requests) assert.equal(q.headers.authorization, undefined, 'mirrors never see the credentials');

  // a mirror that has the image serves it; the origin sees nothing
  const full = await fake();
  const img2 = addImage(full, 'library/busybox');
  const before = origin.requests.length;
  const viaMirror = client({ mirrors: [full.url] }, { dockerHubHost: origin.host }).repository(parseReference('busybox'));
  const d = await viaMirror.resolve();
  await viaMirror.fetchManifest(d);
  assert.deepEqual(await readAll(await viaMirror.fetchBlob(img2.layer)), img2.layerBytes);
  assert.equal(origin.requests.length, before);

  // a mirror serving bad bytes: the origin's copy is used instead
  const liar = await fake();
  addImage(liar, 'library/busybox');
  const real = origin.repos.get('library/busybox')!.manifests.get(img.manifest.digest)!.body;
  liar.addManifest('library/busybox', real, MEDIA_TYPES.ociManifest, 'latest');
  const flipped = Buffer.from(real);
  flipped[flipped.length - 2] ^= 1;
  liar.corrupt.set(img.manifest.digest, flipped);
  const guarded = client({ mirrors: [liar.url] }, { dockerHubHost: origin.host }).repository(parseReference('busybox'));
  const gd = await guarded.resolve();
  assert.equal(sha256(await guarded.fetchManifest(gd)), img.manifest.digest);

  // other registries never use the mirrors
  const other = await fake();
  addImage(other, 'y');
  const n = empty.requests.length;
  await client({ mirrors: [empty.url] }).repository(parseReference(`${other.host}/y`)).resolve();
  assert.equal(empty.requests.length, n);
});

test('a canceled fetch stops with a canceled error', async () => {
  const f = await fake();
  const img = addImage(f, 'x', 'latest', randomBytes(4 << 20));
  const repo = client().repository(parseReference(`${f.host}/x`));
  const ac = new AbortController();
  const stream = await repo.fetchBlob(img.layer, { signal: ac.signal });
  ac.abort();
  await assert.rejects(readAll(stream), (err: unknown) => (err as Error).name === 'AbortError' || is(err, 'canceled'));
  const ac2 = new AbortController();
  ac2.abort();
  await assert.rejects(repo.fetchBlob(img.layer, { signal: ac2.signal }), (err: unknown) => is(err, 'canceled'));
});
