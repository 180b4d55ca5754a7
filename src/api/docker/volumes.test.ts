import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { conflict } from '../../errdefs/index.ts';
import { createFakeEngine } from './fake-engine.ts';
import { startTestServer } from './test-helpers.ts';
import { setLogSink } from '../../util/log.ts';

setLogSink(() => {});

const engine = createFakeEngine();
const pruned: Array<{ filters?: unknown; all?: boolean }> = [];
Object.assign(engine.volumes, {
  async prune(opts: { filters?: unknown; all?: boolean }) {
    pruned.push(opts);
    return { VolumesDeleted: [], SpaceReclaimed: 0 };
  },
  async remove(name: string) {
    throw conflict(`remove ${name}: volume is in use - [abc]`);
  },
});
const srv = await startTestServer(engine);
after(() => srv.close());

test('create answers 201 with the volume; a bad body is 400', async () => {
  const r = await srv.request('POST', '/v1.47/volumes/create', { body: JSON.stringify({ Name: 'data', DriverOpts: { type: 'tmpfs', device: 'tmpfs' } }) });
  assert.equal(r.status, 201);
  assert.deepEqual((r.json() as { Name: string; Options: unknown }).Options, { type: 'tmpfs', device: 'tmpfs' });
  assert.equal((await srv.request('POST', '/volumes/create', { body: JSON.stringify({ Name: 5 }) })).status, 400);
});

test('prune takes every unused volume before API 1.42, anonymous ones only since', async () => {
  await srv.request('POST', '/v1.41/volumes/prune');
  await srv.request('POST', '/v1.47/volumes/prune?filters=' + encodeURIComponent('{"all":["true"]}'));
  assert.deepEqual(pruned.map((p) => p.all), [true, false]);
  assert.deepEqual(pruned[1]!.filters, { all: ['true'] });
});

test('a volume in use: 409 with dockerd\'s message', async () => {
  const r = await srv.request('DELETE', '/volumes/data');
  assert.equal(r.status, 409);
  assert.equal((r.json() as { message: string }).message, 'remove data: volume is in use - [abc]');
});
