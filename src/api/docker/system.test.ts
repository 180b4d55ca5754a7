import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { unauthorized } from '../../errdefs/index.ts';
import type { AuthConfig } from '../../remotes/types.ts';
import { parseDiskUsageTypes } from '../../engine/disk-usage.ts';
import { createFakeEngine } from './fake-engine.ts';
import { startTestServer } from './test-helpers.ts';
import { setLogSink } from '../../util/log.ts';

setLogSink(() => {});

const dfTypes: Array<string[] | undefined> = [];
const engine = createFakeEngine({
  system: {
    async diskUsage(opts) {
      dfTypes.push(opts?.types);
      parseDiskUsageTypes(opts?.types);
      return { LayersSize: 10, Images: [], Containers: null, Volumes: null, BuildCache: [] };
    },
  },
  images: {
    async login(auth: AuthConfig) {
      if (auth.password !== 'secret') throw unauthorized('login attempt to http://127.0.0.1:5000/v2/ failed with status: 401 Unauthorized');
      return { Status: 'Login Succeeded' };
    },
  },
});
const srv = await startTestServer(engine);
after(() => srv.close());

test('version states the API range; info passes the engine through', async () => {
  const v = (await srv.request('GET', '/v1.47/version')).json() as Record<string, unknown>;
  assert.equal(v.Version, '0.1.0-test');
  assert.equal(v.ApiVersion, '1.47');
  assert.equal(v.MinAPIVersion, '1.24');
  const info = (await srv.request('GET', '/info')).json() as Record<string, unknown>;
  assert.equal(info.ServerVersion, '0.1.0-test');
});

test('system/df: type (repeatable) from API 1.42 on, everything for older clients, 400 for an unknown type', async () => {
  let r = await srv.request('GET', '/v1.47/system/df?type=image&type=build-cache');
  assert.equal(r.status, 200);
  assert.deepEqual(r.json(), { LayersSize: 10, Images: [], Containers: null, Volumes: null, BuildCache: [] });
  r = await srv.request('GET', '/system/df');
  assert.equal(r.status, 200);
  r = await srv.request('GET', '/v1.41/system/df?type=bogus');
  assert.equal(r.status, 200, 'before 1.42 type is not a parameter');
  r = await srv.request('GET', '/v1.47/system/df?type=volume&type=bogus');
  assert.equal(r.status, 400);
  assert.match((r.json() as { message: string }).message, /^unknown object type: bogus/);
  assert.deepEqual(dfTypes, [['image', 'build-cache'], undefined, undefined, ['volume', 'bogus']]);
});

test('auth: credentials to the engine, its verdict back', async () => {
  let r = await srv.request('POST', '/auth', { body: JSON.stringify({ username: 'joe', password: 'secret', serveraddress: '127.0.0.1:5000' }) });
  assert.equal(r.status, 200);
  assert.deepEqual(r.json(), { Status: 'Login Succeeded', IdentityToken: '' });
  r = await srv.request('POST', '/auth', { body: JSON.stringify({ username: 'joe', password: 'wrong' }) });
  assert.equal(r.status, 401);
  assert.match((r.json() as { message: string }).message, /401 Unauthorized/);
  r = await srv.request('POST', '/auth', { body: '{"username":' });
  assert.equal(r.status, 400);
  assert.match((r.json() as { message: string }).message, /^invalid JSON: /);
});

test('events with until in the past: replay, then the stream ends', async () => {
  const now = Math.floor(Date.now() / 1000);
  engine.events.emit({ Action: 'pull', time: now - 10 } as never);
  engine.events.emit({ Action: 'tag', time: now - 5 } as never);
  const filters = encodeURIComponent(JSON.stringify({ type: { image: true } }));
  const r = await srv.request('GET', `/events?since=${now - 60}&until=${now - 1}.000000000&filters=${filters}`);
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'application/json');
  assert.deepEqual((r.lines() as Array<{ Action: string }>).map((e) => e.Action), ['pull', 'tag']);
  const sub = engine.calls.filter((c) => c.method === 'events.subscribe').at(-1)!;
  assert.deepEqual(sub.args[0], { filters: { type: ['image'] }, since: now - 60, until: now - 1 });
});

test('events follow live: headers at once, one JSON object per line, unsubscribe on disconnect', async () => {
  const got: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const req = request({ socketPath: srv.socket, path: '/v1.47/events' }, (res) => {
      assert.equal(res.statusCode, 200);
      let buf = '';
      res.on('data', (c: Buffer) => {
        buf += c.toString();
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          got.push(JSON.parse(buf.slice(0, i)).Action);
          buf = buf.slice(i + 1);
        }
        if (got.includes('delete')) {
          req.destroy();
          resolve();
        }
      });
      // Events only start after the headers arrived.
      engine.events.emit({ Action: 'untag' } as never);
      engine.events.emit({ Action: 'delete' } as never);
    });
    req.on('error', reject);
    req.end();
  });
  assert.deepEqual(got.slice(-2), ['untag', 'delete']);
});

test('events: bad since or filters are 400', async () => {
  assert.equal((await srv.request('GET', '/events?since=yesterday')).status, 400);
  assert.equal((await srv.request('GET', '/events?filters=%7Bx')).status, 400);
});

test('daemon shutdown ends an event stream cleanly', async () => {
  const s2 = await startTestServer(createFakeEngine());
  const pending = s2.request('GET', '/events');
  await new Promise((r) => setTimeout(r, 50));
  s2.handler.shutdown();
  const r = await pending;
  assert.equal(r.status, 200);
  assert.equal(r.body, '');
  await s2.close();
});
