import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { notFound, unauthorized } from '../../errdefs/index.ts';
import type { PullOptions } from '../../images/types.ts';
import { createFakeEngine, FAKE_DIGEST, FAKE_IMAGE_ID, type FakeEngine } from './fake-engine.ts';
import { familiarName, pullReference } from './images.ts';
import { startTestServer, type TestServer } from './test-helpers.ts';
import { setLogSink } from '../../util/log.ts';

setLogSink(() => {});

const servers: TestServer[] = [];
after(() => Promise.all(servers.map((s) => s.close())));
async function serve(engine: FakeEngine): Promise<TestServer> {
  const s = await startTestServer(engine);
  servers.push(s);
  return s;
}

const auth64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');

test('pullReference joins fromImage and tag (or digest)', () => {
  assert.equal(pullReference('busybox', 'latest'), 'busybox:latest');
  assert.equal(pullReference('busybox', undefined), 'busybox');
  assert.equal(pullReference('busybox:1.36', undefined), 'busybox:1.36');
  assert.equal(pullReference('127.0.0.1:5000/team/app', 'v1'), '127.0.0.1:5000/team/app:v1');
  assert.equal(pullReference('127.0.0.1:5000/team/app:old', 'v1'), '127.0.0.1:5000/team/app:v1');
  assert.equal(pullReference('docker.io/library/busybox', 'sha256:' + 'a'.repeat(64)), 'docker.io/library/busybox@sha256:' + 'a'.repeat(64));
  assert.equal(familiarName('docker.io/library/busybox:latest'), 'busybox:latest');
  assert.equal(familiarName('docker.io/team/app:v1'), 'team/app:v1');
  assert.equal(familiarName('127.0.0.1:5000/app:v1'), '127.0.0.1:5000/app:v1');
});

test('pull streams Docker JSON progress, then Digest and Status', async () => {
  const engine = createFakeEngine();
  const srv = await serve(engine);
  const r = await srv.request('POST', '/v1.47/images/create?fromImage=busybox&tag=latest&platform=linux%2Famd64', {
    headers: { 'X-Registry-Auth': auth64({ username: 'u', password: 'p', serveraddress: 'docker.io' }) },
  });
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'application/json');
  const lines = r.lines() as Array<Record<string, unknown>>;
  assert.deepEqual(lines[0], { status: 'Pulling from library/busybox', id: 'latest' });
  assert.deepEqual(lines[1], { status: 'Pulling fs layer', progressDetail: {}, id: 'a1b2c3d4e5f6' });
  assert.equal(lines[2]!.status, 'Downloading');
  assert.deepEqual(lines[2]!.progressDetail, { current: 1_048_576, total: 2_152_262 });
  assert.deepEqual(lines.slice(-3), [
    { status: 'Pull complete', progressDetail: {}, id: 'a1b2c3d4e5f6' },
    { status: `Digest: ${FAKE_DIGEST}` },
    { status: 'Status: Downloaded newer image for busybox:latest' },
  ]);
  const call = engine.calls.find((c) => c.method === 'images.pull')!;
  assert.equal(call.args[0], 'busybox:latest');
  const opts = call.args[1] as PullOptions;
  assert.equal(opts.platform, 'linux/amd64');
  assert.deepEqual(opts.auth, { username: 'u', password: 'p', serveraddress: 'docker.io' });
});

test('pull by digest; up to date; engine-sent closing lines are not repeated', async () => {
  const engine = createFakeEngine({
    images: {
      async pull(ref, opts) {
        opts?.onProgress?.({ kind: 'message', text: `Digest: ${FAKE_DIGEST}` });
        return { id: FAKE_IMAGE_ID, digest: FAKE_DIGEST, name: `docker.io/library/${ref.replace(/^docker\.io\/library\//, '')}`, downloaded: false };
      },
    },
  });
  const srv = await serve(engine);
  const r = await srv.request('POST', `/images/create?fromImage=docker.io%2Flibrary%2Fbusybox&tag=${FAKE_DIGEST}`);
  assert.deepEqual(r.lines(), [{ status: `Digest: ${FAKE_DIGEST}` }, { status: `Status: Image is up to date for busybox@${FAKE_DIGEST}` }]);
});

test('a pull failing before any output gets its HTTP status', async () => {
  const engine = createFakeEngine({
    images: {
      async pull() {
        throw notFound('manifest for busybox:nope not found: manifest unknown');
      },
    },
  });
  const srv = await serve(engine);
  const r = await srv.request('POST', '/images/create?fromImage=busybox&tag=nope');
  assert.equal(r.status, 404);
  assert.deepEqual(r.json(), { message: 'manifest for busybox:nope not found: manifest unknown' });
});

test('a pull failing mid-stream ends with an errorDetail line', async () => {
  const engine = createFakeEngine({
    images: {
      async pull(_ref, opts) {
        opts?.onProgress?.({ kind: 'message', text: 'latest: Pulling from library/busybox' });
        opts?.onProgress?.({ kind: 'layer', id: 'a1b2c3d4e5f6', phase: 'waiting' });
        throw unauthorized('pull access denied');
      },
    },
  });
  const srv = await serve(engine);
  const r = await srv.request('POST', '/images/create?fromImage=busybox&tag=latest');
  assert.equal(r.status, 200);
  const lines = r.lines();
  assert.equal(lines.length, 3);
  assert.deepEqual(lines[2], { errorDetail: { message: 'pull access denied' }, error: 'pull access denied' });
});

test('create: malformed X-Registry-Auth is 400; fromSrc URL is 501; nothing is 400', async () => {
  const srv = await serve(createFakeEngine());
  let r = await srv.request('POST', '/images/create?fromImage=busybox&tag=latest', { headers: { 'X-Registry-Auth': '%%%' } });
  assert.equal(r.status, 400);
  assert.match((r.json() as { message: string }).message, /X-Registry-Auth/);
  r = await srv.request('POST', '/images/create?fromSrc=http%3A%2F%2Fexample.com%2Fr.tar');
  assert.equal(r.status, 501);
  assert.match((r.json() as { message: string }).message, /not supported/);
  r = await srv.request('POST', '/images/create');
  assert.equal(r.status, 400);
});

test('import from the request body', async () => {
  const engine = createFakeEngine();
  const srv = await serve(engine);
  const r = await srv.request('POST', '/images/create?fromSrc=-&repo=me%2Froot&tag=v1&message=hi&changes=CMD%20%5B%22sh%22%5D&changes=ENV%20A%3D1', {
    body: Buffer.alloc(2048),
  });
  assert.equal(r.status, 200);
  assert.deepEqual(r.lines(), [{ status: FAKE_IMAGE_ID }]);
  const call = engine.calls.find((c) => c.method === 'images.import')!;
  assert.deepEqual({ ...(call.args[1] as object) }, { repo: 'me/root', tag: 'v1', message: 'hi', changes: ['CMD ["sh"]', 'ENV A=1'], platform: undefined });
});

test('list passes decoded filters and flags', async () => {
  const engine = createFakeEngine();
  const srv = await serve(engine);
  const filters = encodeURIComponent(JSON.stringify({ dangling: { true: true }, label: ['a=b'] }));
  const r = await srv.request('GET', `/images/json?all=1&digests=true&filters=${filters}`);
  assert.equal(r.status, 200);
  assert.equal((r.json() as unknown[]).length, 1);
  assert.deepEqual(engine.calls.at(-1)!.args[0], { all: true, filters: { dangling: ['true'], label: ['a=b'] }, digests: true });
  assert.equal((await srv.request('GET', '/images/json?all=perhaps')).status, 400);
});

test('tag answers 201, remove an array, prune the report', async () => {
  const engine = createFakeEngine();
  const srv = await serve(engine);
  let r = await srv.request('POST', '/images/busybox:latest/tag?repo=127.0.0.1%3A5000%2Fteam%2Fapp&tag=v1');
  assert.equal(r.status, 201);
  assert.equal(r.body, '');
  assert.deepEqual(engine.calls.at(-1)!.args, ['busybox:latest', '127.0.0.1:5000/team/app', 'v1']);
  assert.equal((await srv.request('POST', '/images/busybox/tag')).status, 400);

  r = await srv.request('DELETE', '/v1.47/images/127.0.0.1:5000/team/app:v1?force=1&noprune=0');
  assert.equal(r.status, 200);
  assert.deepEqual(r.json(), [{ Untagged: '127.0.0.1:5000/team/app:v1' }, { Deleted: FAKE_IMAGE_ID }]);
  assert.deepEqual(engine.calls.at(-1)!.args, ['127.0.0.1:5000/team/app:v1', { force: true, noprune: false }]);

  r = await srv.request('POST', '/images/prune?filters=' + encodeURIComponent('{"dangling":["false"]}'));
  assert.deepEqual(r.json(), { ImagesDeleted: [], SpaceReclaimed: 0 });
  assert.deepEqual(engine.calls.at(-1)!.args, [{ dangling: ['false'] }]);
});

test('save streams a tar for one or several names', async () => {
  const engine = createFakeEngine();
  const srv = await serve(engine);
  let r = await srv.request('GET', '/images/127.0.0.1:5000/team/app:v1/get');
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'application/x-tar');
  assert.equal(r.body, 'tar of 127.0.0.1:5000/team/app:v1');
  r = await srv.request('GET', '/images/get?names=busybox&names=alpine%3A3');
  assert.equal(r.body, 'tar of busybox,alpine:3');
  assert.equal((await srv.request('GET', '/images/get')).status, 400);
});

test('load streams progress then "Loaded image" lines; quiet drops progress', async () => {
  const engine = createFakeEngine({
    images: {
      async load(input, opts) {
        for await (const _ of input) void _;
        opts?.onProgress?.({ kind: 'layer', id: 'a1b2c3d4e5f6', phase: 'loading', current: 1024, total: 2048 });
        return ['busybox:latest', FAKE_IMAGE_ID];
      },
    },
  });
  const srv = await serve(engine);
  let r = await srv.request('POST', '/images/load', { body: Buffer.alloc(10_000) });
  assert.equal(r.headers['content-type'], 'application/json');
  const lines = r.lines() as Array<Record<string, unknown>>;
  assert.equal(lines[0]!.status, 'Loading layer');
  assert.deepEqual(lines.slice(1), [{ stream: 'Loaded image: busybox:latest\n' }, { stream: `Loaded image ID: ${FAKE_IMAGE_ID}\n` }]);
  r = await srv.request('POST', '/images/load?quiet=1', { body: Buffer.alloc(10) });
  assert.deepEqual(r.lines(), [{ stream: 'Loaded image: busybox:latest\n' }, { stream: `Loaded image ID: ${FAKE_IMAGE_ID}\n` }]);
});

test('push streams progress, the digest line and the aux result', async () => {
  const engine = createFakeEngine();
  const srv = await serve(engine);
  const r = await srv.request('POST', '/v1.47/images/127.0.0.1:5000/team/app/push?tag=v1', {
    headers: { 'X-Registry-Auth': auth64({ username: 'u', password: 'p' }) },
  });
  assert.equal(r.status, 200);
  const lines = r.lines() as Array<Record<string, unknown>>;
  assert.deepEqual(lines[0], { status: 'The push refers to repository [127.0.0.1:5000/team/app]' });
  assert.deepEqual(lines[1], { status: 'Preparing', progressDetail: {}, id: 'a1b2c3d4e5f6' });
  assert.equal(lines[2]!.status, 'Pushing');
  assert.deepEqual(lines.slice(-3), [
    { status: 'Pushed', progressDetail: {}, id: 'a1b2c3d4e5f6' },
    { status: `v1: digest: ${FAKE_DIGEST} size: 527` },
    { progressDetail: {}, aux: { Tag: 'v1', Digest: FAKE_DIGEST, Size: 527 } },
  ]);
  const call = engine.calls.find((c) => c.method === 'images.push')!;
  assert.equal(call.args[0], '127.0.0.1:5000/team/app');
  assert.equal((call.args[1] as { tag: string }).tag, 'v1');
  assert.deepEqual((call.args[1] as { auth: object }).auth, { username: 'u', password: 'p' });
});

test('a push failing mid-stream ends with an errorDetail line', async () => {
  const engine = createFakeEngine({
    images: {
      async push(_ref, opts) {
        opts?.onProgress?.({ kind: 'layer', id: 'a1b2c3d4e5f6', phase: 'waiting' });
        throw unauthorized('authentication required');
      },
    },
  });
  const srv = await serve(engine);
  const r = await srv.request('POST', '/images/app/push?tag=latest', { headers: { 'X-Registry-Auth': 'e30=' } });
  assert.deepEqual(r.lines().at(-1), { errorDetail: { message: 'authentication required' }, error: 'authentication required' });
});

test('daemon shutdown cancels a pull in flight and says why', async () => {
  let started!: () => void;
  const running = new Promise<void>((res) => (started = res));
  const engine = createFakeEngine({
    images: {
      pull(_ref, opts) {
        opts?.onProgress?.({ kind: 'message', text: 'latest: Pulling from library/busybox' });
        started();
        return new Promise((_res, rej) => opts!.signal!.addEventListener('abort', () => rej(Object.assign(new Error('aborted'), { name: 'AbortError' }))));
      },
    },
  });
  const srv = await serve(engine);
  const pending = srv.request('POST', '/images/create?fromImage=busybox&tag=latest');
  await running;
  srv.handler.shutdown();
  const r = await pending;
  assert.deepEqual(r.lines().at(-1), { errorDetail: { message: 'daemon is shutting down' }, error: 'daemon is shutting down' });
});

test('a client that goes away aborts the pull', async () => {
  let aborted!: () => void;
  const wasAborted = new Promise<void>((res) => (aborted = res));
  const engine = createFakeEngine({
    images: {
      pull(_ref, opts) {
        opts?.onProgress?.({ kind: 'message', text: 'latest: Pulling from library/busybox' });
        return new Promise((_res, rej) =>
          opts!.signal!.addEventListener('abort', () => {
            aborted();
            rej(new Error('aborted'));
          }),
        );
      },
    },
  });
  const srv = await serve(engine);
  const { request } = await import('node:http');
  const req = request({ socketPath: srv.socket, method: 'POST', path: '/images/create?fromImage=busybox&tag=latest' }, (res) => {
    res.once('data', () => req.destroy());
  });
  req.on('error', () => {});
  req.end();
  await wasAborted;
});
