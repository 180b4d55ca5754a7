import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PeerTable } from './tracker.ts';

const D1 = 'sha256:' + '1'.repeat(64);
const D2 = 'sha256:' + '2'.repeat(64);

test('peers holding a blob, without the asker', () => {
  const t = new PeerTable(1000, () => 0);
  t.announce({ peer: 'http://a:1', digests: [D1, D2] });
  t.announce({ peer: 'http://b:1', digests: [D1] });
  assert.deepEqual(t.peers(D1).sort(), ['http://a:1', 'http://b:1']);
  assert.deepEqual(t.peers(D1, 'http://a:1'), ['http://b:1']);
  assert.deepEqual(t.peers(D2, 'http://a:1'), []);
  assert.deepEqual(t.peers('sha256:' + '3'.repeat(64)), []);
});

test('a peer that stops announcing ages out; a re-announce renews', () => {
  let now = 0;
  const t = new PeerTable(1000, () => now);
  t.announce({ peer: 'http://a:1', digests: [D1], replace: true });
  t.announce({ peer: 'http://b:1', digests: [D1], replace: true });
  now = 900;
  t.announce({ peer: 'http://b:1', digests: [D1], replace: true });
  now = 1500;
  assert.deepEqual(t.peers(D1), ['http://b:1']);
  assert.equal(t.sweep(), 0, 'the lookup already dropped a');
  now = 2000;
  assert.equal(t.sweep(), 1);
  assert.deepEqual(t.stats(), { peers: 0, blobs: 0 });
});

test('a full announce withdraws what it no longer lists; withdraw removes single blobs', () => {
  const t = new PeerTable(1000, () => 0);
  t.announce({ peer: 'http://a:1', digests: [D1, D2], replace: true });
  t.announce({ peer: 'http://a:1', digests: [D2], replace: true });
  assert.deepEqual(t.peers(D1), []);
  assert.deepEqual(t.peers(D2), ['http://a:1']);
  t.announce({ peer: 'http://a:1', withdraw: [D2] });
  assert.deepEqual(t.peers(D2), []);
  assert.deepEqual(t.stats(), { peers: 0, blobs: 0 });
});
