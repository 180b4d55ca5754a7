import { test, after } from 'node:test';
import { connect } from 'node:net';
import assert from 'node:assert/strict';
import { createFakeEngine } from './fake-engine.ts';
import { startTestServer } from './test-helpers.ts';
import { setLogLevel, setLogSink } from '../../util/log.ts';

const logLines: Array<Record<string, unknown>> = [];
setLogSink((line) => logLines.push(JSON.parse(line)));
setLogLevel('debug');

const engine = createFakeEngine();
const srv = await startTestServer(engine);
after(() => srv.close());

test('ping: GET and HEAD answer OK with the negotiation headers', async () => {
  for (const method of ['GET', 'HEAD']) {
    const r = await srv.request(method, '/_ping');
    assert.equal(r.status, 200);
    assert.equal(r.body, method === 'GET' ? 'OK' : '');
    assert.equal(r.headers['api-version'], '1.47');
    assert.equal(r.headers['docker-experimental'], 'false');
    assert.equal(r.headers['ostype'], 'linux');
    assert.equal(r.headers['builder-version'], '');
    assert.equal(r.headers['server'], 'joey/0.1.0-test');
    assert.match(r.headers['cache-control'] ?? '', /no-cache/);
    assert.match(r.headers['content-type'] ?? '', /^text\/plain/);
    assert.match(String(r.headers['x-request-id']), /^[0-9a-f]{8}$/);
  }
});

test('versioned and unversioned paths reach the same route', async () => {
  for (const path of ['/version', '/v1.47/version', '/v1.24/version', '/v1.41/version']) {
    const r = await srv.request('GET', path);
    assert.equal(r.status, 200, path);
    assert.equal((r.json() as { ApiVersion: string }).ApiVersion, '1.47');
  }
});

test('a version above the maximum or below the minimum is refused', async () => {
  let r = await srv.request('GET', '/v1.99/version');
  assert.equal(r.status, 400);
  assert.deepEqual(r.json(), { message: 'client version 1.99 is too new. Maximum supported API version is 1.47' });
  assert.equal(r.headers['api-version'], '1.47');
  r = await srv.request('GET', '/v1.12/images/json');
  assert.equal(r.status, 400);
  assert.match((r.json() as { message: string }).message, /^client version 1.12 is too old. Minimum supported API version is 1.24/);
  // Numeric comparison: 1.100 is newer than 1.47 even though "1.100" < "1.47" as text.
  assert.equal((await srv.request('GET', '/v1.100/_ping')).status, 400);
});

test('unknown routes are 404 page not found, also for a known path with another method', async () => {
  for (const [m, p] of [['GET', '/nope'], ['GET', '/v1.47/nope/x'], ['PUT', '/images/json'], ['GET', '/vX/_ping']]) {
    const r = await srv.request(m!, p!);
    assert.equal(r.status, 404, `${m} ${p}`);
    assert.deepEqual(r.json(), { message: 'page not found' });
  }
});

test('image names with registry ports and slashes route on the suffix', async () => {
  engine.calls.length = 0;
  const names = ['127.0.0.1:5000/team/app:v1', 'busybox', 'localhost:5000/a/b/c@sha256:' + '0'.repeat(64), 'json'];
  for (const name of names) {
    const r = await srv.request('GET', `/v1.47/images/${name}/json`);
    assert.equal(r.status, 200, name);
  }
  // docker-py percent-encodes '@'.
  await srv.request('GET', '/images/busybox%40sha256%3Aabc/history');
  assert.deepEqual(
    engine.calls.map((c) => [c.method, c.args[0]]),
    [...names.map((n) => ['images.inspect', n]), ['images.history', 'busybox@sha256:abc']],
  );
});

test('engine errors become {"message"} with the status of their kind', async () => {
  const r = await srv.request('GET', '/images/missing/json');
  assert.equal(r.status, 404);
  assert.deepEqual(r.json(), { message: 'No such image: missing' });
  assert.match(r.headers['content-type'] ?? '', /^application\/json/);
});

test('malformed filters JSON is a 400 naming the problem', async () => {
  const r = await srv.request('GET', '/images/json?filters=' + encodeURIComponent('{"dangling":['));
  assert.equal(r.status, 400);
  assert.match((r.json() as { message: string }).message, /^invalid filter: invalid JSON/);
});

test('a bad percent escape in a path is a 400', async () => {
  const r = await srv.request('GET', '/images/%E0%A4%A/json');
  assert.equal(r.status, 400);
});

test('each request is logged once with id, status and duration; /_ping at debug', async () => {
  logLines.length = 0;
  const r = await srv.request('GET', '/images/json');
  await srv.request('GET', '/_ping');
  await new Promise((res) => setImmediate(res));
  const reqLines = logLines.filter((l) => l.msg === 'request');
  assert.equal(reqLines.length, 2);
  const [img, ping] = reqLines;
  assert.equal(img!.level, 'info');
  assert.equal(img!.req, r.headers['x-request-id']);
  assert.equal(img!.method, 'GET');
  assert.equal(img!.path, '/images/json');
  assert.equal(img!.status, 200);
  assert.equal(typeof img!.ms, 'number');
  assert.equal(ping!.level, 'debug');
});

test('GET /metrics: request counters, engine metrics and process metrics', async () => {
  await srv.request('GET', '/v1.47/images/busybox/json');
  const r = await srv.request('GET', '/metrics');
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
  assert.match(r.body, /^# TYPE joey_http_requests_total counter$/m);
  assert.match(r.body, /^joey_http_requests_total\{method="GET",route="\/images\/\{name\}\/json",code="200"\} \d+$/m);
  assert.match(r.body, /^joey_http_request_duration_seconds_bucket\{method="GET",route="\/images\/\{name\}\/json",le="\+Inf"\} \d+$/m);
  assert.match(r.body, /^joey_images 1$/m);
  for (const name of ['process_resident_memory_bytes', 'process_cpu_seconds_total', 'process_start_time_seconds', 'nodejs_heap_used_bytes']) {
    assert.match(r.body, new RegExp(`^# TYPE ${name} `, 'm'));
    assert.match(r.body, new RegExp(`^${name} [0-9.e+]+$`, 'm'));
  }
});

test('a PUT refused before its body is read still answers with the error, not a broken pipe', async () => {
  // A raw client that goes on writing its tar after the refusal, as the
  // docker CLI does; a server that closed on the unread body would reset it.
  const chunk = Buffer.alloc(256 * 1024, 1);
  const count = 16;
  const sock = connect(srv.socket);
  let reply = '';
  sock.setEncoding('utf8');
  sock.on('data', (d: string) => (reply += d));
  const writeErr = await new Promise<Error | null>((resolve) => {
    sock.on('error', resolve);
    sock.write(
      `PUT /v1.47/containers/nope/archive?path=/x HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-tar\r\nContent-Length: ${chunk.length * count}\r\n\r\n`,
    );
    let sent = 0;
    const next = (): void => {
      if (sent === count) return void setTimeout(() => resolve(null), 50);
      sent++;
      sock.write(chunk, (err) => (err ? resolve(err) : setTimeout(next, 5)));
    };
    setTimeout(next, 20);
  });
  sock.destroy();
  assert.equal(writeErr, null, `the body could not be written: ${writeErr?.message}`);
  assert.match(reply, /^HTTP\/1\.1 404 /);
  assert.match(reply, /No such container: nope/);
});

test('after shutdown, requests get 503', async () => {
  const s2 = await startTestServer(createFakeEngine());
  s2.handler.shutdown();
  const r = await s2.request('GET', '/info');
  assert.equal(r.status, 503);
  assert.deepEqual(r.json(), { message: 'daemon is shutting down' });
  await s2.close();
});
