import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { is } from '../../errdefs/index.ts';
import { listen } from '../../daemon/listen.ts';
import { parseHost } from '../../daemon/config.ts';
import { setLogSink } from '../../util/log.ts';
import { DetachWatch, muxFrame, parseDetachKeys } from './hijack.ts';
import { createFakeEngine } from './fake-engine.ts';
import { C1_ID } from './fake-containers.ts';
import { createApiHandler } from './server.ts';
import { demux, rawRequest } from './test-helpers.ts';

setLogSink(() => {});

test('a multiplexed frame is stream byte, three zeros, big-endian length, payload', () => {
  assert.deepEqual([...muxFrame(1, Buffer.from('hi\n'))], [1, 0, 0, 0, 0, 0, 0, 3, 0x68, 0x69, 0x0a]);
  assert.deepEqual([...muxFrame(2, Buffer.alloc(0))], [2, 0, 0, 0, 0, 0, 0, 0]);
  const big = muxFrame(1, Buffer.alloc(0x10203));
  assert.deepEqual([...big.subarray(0, 8)], [1, 0, 0, 0, 0x00, 0x01, 0x02, 0x03]);
  assert.equal(big.length, 8 + 0x10203);
});

test('detach keys: Docker names, single characters, the default, and refusals', () => {
  assert.deepEqual([...parseDetachKeys(undefined)], [0x10, 0x11]);
  assert.deepEqual([...parseDetachKeys('')], [0x10, 0x11]);
  assert.deepEqual([...parseDetachKeys('ctrl-a,x')], [0x01, 0x78]);
  assert.deepEqual([...parseDetachKeys('ctrl-@,ctrl-[,ctrl-\\,ctrl-_,ctrl-Z')], [0, 27, 28, 31, 26]);
  for (const bad of ['ctrl-foo', 'ab', 'ctrl-p,,ctrl-q', 'ctrl-1', 'é']) {
    assert.throws(
      () => parseDetachKeys(bad),
      (err: unknown) => is(err, 'invalid') && (err as Error).message.startsWith(`Invalid detach keys (${bad}) provided`),
      bad,
    );
  }
});

test('DetachWatch holds back a possible sequence, releases it on a mismatch, detaches on a match', () => {
  const w = new DetachWatch(parseDetachKeys('ctrl-p,ctrl-q'));
  const feed = (s: string): [string, boolean] => {
    const r = w.feed(Buffer.from(s, 'latin1'));
    return [r.pass.toString('latin1'), r.detached];
  };
  assert.deepEqual(feed('hello'), ['hello', false]);
  assert.deepEqual(feed('ab\x10'), ['ab', false]); // held
  assert.deepEqual(feed('c'), ['\x10c', false]); // released
  assert.deepEqual(feed('\x10\x10'), ['\x10', false]); // the second may start it afresh
  assert.deepEqual(feed('\x11tail'), ['', true]);
  const w2 = new DetachWatch(parseDetachKeys('ctrl-a,x'));
  assert.equal(w2.feed(Buffer.from('z\x01')).pass.toString(), 'z');
  assert.equal(w2.flush().toString(), '\x01'); // stdin ended mid-sequence: pass it on
  assert.deepEqual(w2.feed(Buffer.from('\x01x')).detached, true);
});

test('the daemon listener hands upgrade requests to the handler', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'joey-hijack-'));
  const engine = createFakeEngine();
  const handler = createApiHandler(engine);
  const l = await listen(parseHost(`unix://${join(dir, 'd.sock')}`), handler);
  try {
    const r = await rawRequest(join(dir, 'd.sock'), 'POST', '/v1.47/containers/c1/attach?stream=0&logs=1&stdout=1&stderr=1');
    assert.equal(r.status, 101);
    await r.ended;
    assert.deepEqual(demux(r.received), [
      [1, 'hello from c1\n'],
      [2, 'warning from c1\n'],
    ]);
    r.socket.destroy();
  } finally {
    handler.shutdown();
    await l.close(100);
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(engine.fakeContainers.find(C1_ID).status, 'running');
});
