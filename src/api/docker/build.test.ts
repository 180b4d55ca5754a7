// POST /build: query decoding and Docker's message stream, over a fake engine.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { BuildStepError } from '../../engine/build/types.ts';
import { invalid } from '../../errdefs/index.ts';
import { setLogSink } from '../../util/log.ts';
import { decodeRegistryConfig } from './build.ts';
import { createFakeEngine, FAKE_IMAGE_ID } from './fake-engine.ts';
import { startTestServer, type TestServer } from './test-helpers.ts';

setLogSink(() => {});
const servers: TestServer[] = [];
after(() => Promise.all(servers.map((s) => s.close())));

test('decodes the query and streams steps, the aux ID and the result', async () => {
  const engine = createFakeEngine();
  const srv = await startTestServer(engine);
  servers.push(srv);
  const q = 't=a:1&t=b&dockerfile=sub%2FDf&buildargs=%7B%22X%22%3A%221%22%7D&labels=%7B%22l%22%3A%22v%22%7D&target=t&nocache=1&rm=0&forcerm=1&networkmode=none';
  const r = await srv.request('POST', `/v1.47/build?${q}`, { body: Buffer.alloc(1024) });
  assert.equal(r.status, 200);
  assert.deepEqual(r.lines(), [{ stream: 'Step 1/1 : FROM busybox\n' }, { aux: { ID: FAKE_IMAGE_ID } }]);
  const opts = engine.calls.find((c) => c.method === 'build.build')!.args[1] as Record<string, unknown>;
  assert.deepEqual(
    { tags: opts.tags, dockerfile: opts.dockerfile, buildArgs: opts.buildArgs, labels: opts.labels, target: opts.target, noCache: opts.noCache, rm: opts.rm, forceRm: opts.forceRm, networkMode: opts.networkMode },
    { tags: ['a:1', 'b'], dockerfile: 'sub/Df', buildArgs: { X: '1' }, labels: { l: 'v' }, target: 't', noCache: true, rm: false, forceRm: true, networkMode: 'none' },
  );
});

test('an error before any output is a status; after, an errorDetail line with the exit code', async () => {
  let fail: unknown = invalid('dockerfile parse error on line 2: unknown instruction: FOO');
  const engine = createFakeEngine({
    build: {
      build: async (input, opts) => {
        for await (const c of input) void c;
        if (fail instanceof BuildStepError) opts?.onOutput?.('Step 1/2 : RUN exit 3\n');
        throw fail;
      },
    },
  });
  const srv = await startTestServer(engine);
  servers.push(srv);
  const before = await srv.request('POST', '/build', { body: Buffer.alloc(512) });
  assert.equal(before.status, 400);
  assert.match(before.body, /unknown instruction: FOO/);
  fail = new BuildStepError("The command '/bin/sh -c exit 3' returned a non-zero code: 3", 3);
  const during = await srv.request('POST', '/build', { body: Buffer.alloc(512) });
  assert.equal(during.status, 200);
  assert.deepEqual(during.lines().at(-1), {
    errorDetail: { code: 3, message: "The command '/bin/sh -c exit 3' returned a non-zero code: 3" },
    error: "The command '/bin/sh -c exit 3' returned a non-zero code: 3",
  });
});

test('q=1 sends only the aux message and the id', async () => {
  const srv = await startTestServer(createFakeEngine());
  servers.push(srv);
  const r = await srv.request('POST', '/build?q=1', { body: Buffer.alloc(512) });
  assert.deepEqual(r.lines(), [{ aux: { ID: FAKE_IMAGE_ID } }, { stream: `${FAKE_IMAGE_ID}\n` }]);
  const bad = await srv.request('POST', '/build?buildargs=%7Bnope', { body: Buffer.alloc(512) });
  assert.equal(bad.status, 400);
  assert.match(bad.body, /buildargs: invalid JSON/);
});

test('X-Registry-Config reaches the build, and a base image\'s pull progress is relayed as pull messages', async () => {
  const engine = createFakeEngine({
    build: {
      build: async (input, opts) => {
        for await (const c of input) void c;
        opts?.onOutput?.('Step 1/1 : FROM 127.0.0.1:5000/busybox\n');
        opts?.onProgress?.({ kind: 'message', text: 'latest: Pulling from busybox' });
        opts?.onProgress?.({ kind: 'layer', id: '8d43e3beeacc', phase: 'downloading', current: 500, total: 1000 });
        opts?.onImageId?.(FAKE_IMAGE_ID);
        return { id: FAKE_IMAGE_ID, tags: [] };
      },
    },
  });
  const srv = await startTestServer(engine);
  servers.push(srv);
  const header = Buffer.from(JSON.stringify({ '127.0.0.1:5000': { username: 'u', password: 'p', email: 'x' } })).toString('base64url');
  const r = await srv.request('POST', '/build', { body: Buffer.alloc(512), headers: { 'X-Registry-Config': header } });
  assert.equal(r.status, 200);
  const lines = r.lines() as Array<Record<string, unknown>>;
  assert.deepEqual(lines[1], { status: 'Pulling from busybox', id: 'latest' });
  assert.equal(lines[2]!.status, 'Downloading');
  assert.equal(lines[2]!.id, '8d43e3beeacc');
  const opts = engine.calls.find((c) => c.method === 'build.build')!.args[1] as Record<string, unknown>;
  assert.deepEqual(opts.authConfigs, { '127.0.0.1:5000': { username: 'u', password: 'p' } });
  const bad = await srv.request('POST', '/build', { body: Buffer.alloc(512), headers: { 'X-Registry-Config': 'not base64!' } });
  assert.equal(bad.status, 400);
});

test('decodeRegistryConfig: standard or URL-safe base64 of a map of AuthConfigs', () => {
  const b = (v: unknown, enc: BufferEncoding = 'base64') => Buffer.from(JSON.stringify(v)).toString(enc);
  assert.equal(decodeRegistryConfig(undefined), undefined);
  assert.deepEqual(decodeRegistryConfig(b({})), {});
  assert.deepEqual(decodeRegistryConfig(b({ 'https://index.docker.io/v1/': { Username: 'a', Password: 'b' } })), { 'https://index.docker.io/v1/': { username: 'a', password: 'b' } });
  assert.throws(() => decodeRegistryConfig(b([1])), /expected a JSON object/);
  assert.throws(() => decodeRegistryConfig(Buffer.from('{nope').toString('base64')), /invalid JSON/);
});

test('POST /build/prune passes all, filters and keep-storage, and answers the report', async () => {
  const engine = createFakeEngine();
  const srv = await startTestServer(engine);
  servers.push(srv);
  const f = encodeURIComponent(JSON.stringify({ until: { '24h': true } }));
  const r = await srv.request('POST', `/v1.41/build/prune?all=1&filters=${f}&keep-storage=1000`);
  assert.equal(r.status, 200);
  assert.deepEqual(r.json(), { CachesDeleted: null, SpaceReclaimed: 0 });
  assert.deepEqual(engine.calls.find((c) => c.method === 'build.prune')!.args[0], { all: true, filters: { until: ['24h'] }, keepStorage: 1000 });
  const bad = await srv.request('POST', '/build/prune?keep-storage=abc');
  assert.equal(bad.status, 400);
  assert.match(bad.body, /keep-storage is in bytes and expects an integer, got abc/);
});
