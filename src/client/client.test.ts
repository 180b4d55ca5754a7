import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { API_VERSION, ApiClient, ApiError, ConnectionError, compareVersions, encodeQuery, escapePath, kindForStatus } from './client.ts';
import { apiError, json, startFakeApi } from './fake-api.ts';

test('negotiates down to an older daemon and pings only once', async (t) => {
  const api = await startFakeApi({ apiVersion: '1.41', routes: [{ method: 'GET', path: '/images/json', handler: json([]) }] });
  t.after(() => api.close());
  const c = new ApiClient({ host: api.host });
  t.after(() => c.close());
  await c.get('/images/json');
  await c.get('/images/json');
  assert.deepEqual(api.requests.map((r) => r.version), ['1.41', '1.41']);
  assert.equal(api.pings, 1);
  assert.equal(await c.apiVersion(), '1.41');
});

test('keeps its own version for a newer daemon', async (t) => {
  const api = await startFakeApi({ apiVersion: '1.50', routes: [{ method: 'GET', path: '/info', handler: json({}) }] });
  t.after(() => api.close());
  const c = new ApiClient({ host: api.host });
  t.after(() => c.close());
  await c.get('/info');
  assert.equal(api.requests[0]!.version, API_VERSION);
});

test('an error answer becomes an ApiError with the daemon message and kind', async (t) => {
  const api = await startFakeApi({
    routes: [
      { method: 'GET', path: '/images/nope/json', handler: apiError(404, 'No such image: nope') },
      { method: 'DELETE', path: '/images/x', handler: apiError(409, 'conflict: image is in use\n') },
      { method: 'GET', path: '/text', handler: (_r, res) => res.writeHead(500, { 'Content-Type': 'text/plain' }).end('boom') },
      { method: 'GET', path: '/empty', handler: (_r, res) => res.writeHead(503).end() },
    ],
  });
  t.after(() => api.close());
  const c = new ApiClient({ host: api.host });
  t.after(() => c.close());
  await assert.rejects(c.get('/images/nope/json'), (err: unknown) => {
    assert.ok(err instanceof ApiError);
    assert.equal(err.status, 404);
    assert.equal(err.kind, 'not-found');
    assert.equal(err.message, 'No such image: nope');
    return true;
  });
  await assert.rejects(c.delete('/images/x'), { name: 'ApiError', kind: 'conflict', message: 'conflict: image is in use' });
  await assert.rejects(c.get('/text'), { kind: 'internal', message: 'boom' });
  await assert.rejects(c.get('/empty'), { kind: 'unavailable', message: /request returned 503 Service Unavailable/ });
});

test('status codes map back to error kinds', () => {
  assert.deepEqual(
    [400, 401, 403, 404, 409, 500, 501, 503, 418].map(kindForStatus),
    ['invalid', 'unauthorized', 'forbidden', 'not-found', 'conflict', 'internal', 'not-implemented', 'unavailable', 'invalid'],
  );
});

test('a missing socket says the daemon is not running', async () => {
  const c = new ApiClient({ host: 'unix:///nonexistent/joeyd.sock' });
  await assert.rejects(c.get('/info'), (err: unknown) => {
    assert.ok(err instanceof ConnectionError);
    assert.equal(err.kind, 'unavailable');
    assert.equal(err.message, 'Cannot connect to the joey daemon at unix:///nonexistent/joeyd.sock. Is joeyd running?');
    return true;
  });
  c.close();
});

test('streams a Readable request body and returns the raw response', async (t) => {
  const api = await startFakeApi({
    routes: [{ method: 'POST', path: '/images/load', handler: (req, res) => res.writeHead(200).end(`got ${req.body.length} bytes`) }],
  });
  t.after(() => api.close());
  const c = new ApiClient({ host: api.host });
  t.after(() => c.close());
  const body = Readable.from([Buffer.alloc(100_000, 1), Buffer.alloc(5, 2)]);
  const res = await c.stream('POST', '/images/load', { body, query: { quiet: true }, headers: { 'Content-Type': 'application/x-tar' } });
  let text = '';
  for await (const chunk of res) text += chunk;
  assert.equal(text, 'got 100005 bytes');
  const req = api.requests[0]!;
  assert.equal(req.headers['content-type'], 'application/x-tar');
  assert.equal(req.query.get('quiet'), '1');
});

test('object bodies are sent as JSON', async (t) => {
  const api = await startFakeApi({ routes: [{ method: 'POST', path: '/auth', handler: json({ Status: 'Login Succeeded' }) }] });
  t.after(() => api.close());
  const c = new ApiClient({ host: api.host });
  t.after(() => c.close());
  const res = await c.post<{ Status: string }>('/auth', { body: { username: 'u', password: 'p' } });
  assert.equal(res.Status, 'Login Succeeded');
  assert.equal(api.requests[0]!.headers['content-type'], 'application/json');
  assert.deepEqual(JSON.parse(api.requests[0]!.body.toString()), { username: 'u', password: 'p' });
});

test('queries: filters as JSON, lists repeated, booleans as 1/0, undefined left out', () => {
  assert.equal(
    decodeURIComponent(encodeQuery({ all: true, quiet: false, x: undefined, names: ['a', 'b'], filters: { dangling: ['true'] } })),
    '?all=1&quiet=0&names=a&names=b&filters={"dangling":["true"]}',
  );
  assert.equal(encodeQuery({}), '');
});

test('image names keep their slashes, colons and @ in paths', () => {
  assert.equal(escapePath('127.0.0.1:5000/team/app@sha256:abc'), '127.0.0.1:5000/team/app@sha256:abc');
  assert.equal(escapePath('a b?c#d'), 'a%20b%3Fc%23d');
});

test('API versions compare numerically', () => {
  assert.equal(compareVersions('1.9', '1.47'), -1);
  assert.equal(compareVersions('1.47', '1.47'), 0);
  assert.equal(compareVersions('1.50', '1.47'), 1);
});
