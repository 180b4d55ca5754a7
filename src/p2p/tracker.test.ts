import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PeerTable, REPLACE_GRACE_MS } from './tracker.ts';

const D1 = 'sha256:' + '1'.repeat(64);
const D2 = 'sha256:' + '2'.repeat(64);

test('peers holding a blob, without the asker', () => {
  const t = new PeerTable(1000, () => 0);
  t.announce({ peer: 'http://a:1', digests: [D1, D2] });
  t.announce({ peer: 'http://b:1', digests: [D1] });
  assert.deepEqual(t.holders(D1).peers.sort(), ['http://a:1', 'http://b:1']);
  assert.deepEqual(t.holders(D1, 'http://a:1').peers, ['http://b:1']);
  assert.deepEqual(t.holders(D2, 'http://a:1').peers, []);
  assert.deepEqual(t.holders('sha256:' + '3'.repeat(64)).peers, []);
});

test('a peer that stops announcing ages out; a re-announce renews', () => {
  let now = 0;
  const t = new PeerTable(1000, () => now);
  t.announce({ peer: 'http://a:1', digests: [D1], replace: true });
  t.announce({ peer: 'http://b:1', digests: [D1], replace: true });
  now = 900;
  t.announce({ peer: 'http://b:1', digests: [D1], replace: true });
  now = 1500;
  assert.deepEqual(t.holders(D1).peers, ['http://b:1']);
  assert.equal(t.sweep(), 0, 'the lookup already dropped a');
  now = 2000;
  assert.equal(t.sweep(), 1);
  assert.deepEqual(t.stats(), { peers: 0, blobs: 0 });
});

test('a full announce withdraws what it no longer lists; withdraw removes single blobs', () => {
  const t = new PeerTable(1000, () => 0);
  t.announce({ peer: 'http://a:1', digests: [D1, D2], replace: true });
  t.announce({ peer: 'http://a:1', digests: [D2], replace: true });
  assert.deepEqual(t.holders(D1).peers, []);
  assert.deepEqual(t.holders(D2).peers, ['http://a:1']);
  t.announce({ peer: 'http://a:1', withdraw: [D2] });
  assert.deepEqual(t.holders(D2).peers, []);
  assert.deepEqual(t.stats(), { peers: 0, blobs: 0 });
});

test('joining: the first joiner is told of nobody, each later one of those before it, in join order', () => {
  const t = new PeerTable(1000, () => 0);
  assert.deepEqual(t.join('http://a:1', D1), { peers: [], partial: [] });
  assert.deepEqual(t.join('http://b:1', D1), { peers: [], partial: ['http://a:1'] });
  assert.deepEqual(t.join('http://c:1', D1), { peers: [], partial: ['http://a:1', 'http://b:1'] });
  // Joining again (a resumed download) keeps the place: no cycle b → c → b.
  assert.deepEqual(t.join('http://b:1', D1), { peers: [], partial: ['http://a:1'] });
  assert.deepEqual(t.holders(D1), { peers: [], partial: ['http://a:1', 'http://b:1', 'http://c:1'] });
  // A complete holder is named to every joiner, and stays complete if it joins.
  t.announce({ peer: 'http://z:1', digests: [D1] });
  assert.deepEqual(t.join('http://d:1', D1), { peers: ['http://z:1'], partial: ['http://a:1', 'http://b:1', 'http://c:1'] });
  assert.deepEqual(t.join('http://z:1', D1).partial, ['http://a:1', 'http://b:1', 'http://c:1', 'http://d:1']);
  assert.deepEqual(t.holders(D1).peers, ['http://z:1']);
});

test('partial entries: full announces keep or drop them, a finished download turns complete, withdraw and TTL remove them', () => {
  let now = 0;
  const t = new PeerTable(100_000, () => now);
  t.join('http://a:1', D1);
  t.join('http://b:1', D1);
  t.announce({ peer: 'http://a:1', digests: [D2], partial: [D1], replace: true });
  assert.deepEqual(t.holders(D1), { peers: [], partial: ['http://a:1', 'http://b:1'] });
  t.announce({ peer: 'http://a:1', digests: [D1, D2], partial: [], replace: true });
  assert.deepEqual(t.holders(D1), { peers: ['http://a:1'], partial: ['http://b:1'] });
  // Removed and being pulled again: partial, at the end of the line.
  t.announce({ peer: 'http://a:1', digests: [D2], partial: [D1], replace: true });
  assert.deepEqual(t.holders(D1), { peers: [], partial: ['http://b:1', 'http://a:1'] });
  t.announce({ peer: 'http://b:1', withdraw: [D1] });
  assert.deepEqual(t.holders(D1).partial, ['http://a:1']);
  // A full list without it, past the time a join may overtake one.
  now = REPLACE_GRACE_MS;
  t.announce({ peer: 'http://a:1', digests: [D2], replace: true });
  assert.deepEqual(t.holders(D1), { peers: [], partial: [] });
  t.join('http://c:1', D1);
  now = REPLACE_GRACE_MS + 100_000;
  assert.deepEqual(t.holders(D1), { peers: [], partial: [] }, 'a dead joiner ages out');
});

test('a full announce that a join or a withdrawal overtook: the join stays, the withdrawn download does not come back', () => {
  let now = 0;
  const t = new PeerTable(100_000, () => now);
  // A's list as it set out names nothing partial; its join for D1 lands first.
  t.join('http://a:1', D1);
  now = 50;
  t.announce({ peer: 'http://a:1', digests: [D2], partial: [], replace: true });
  assert.deepEqual(t.holders(D1).partial, ['http://a:1'], 'the fresh join was dropped by an older list');
  // Later full lists without it drop it, as before.
  now = 50 + REPLACE_GRACE_MS;
  t.announce({ peer: 'http://a:1', digests: [D2], partial: [], replace: true });
  assert.deepEqual(t.holders(D1).partial, []);

  // B withdraws a stopped download; its list from before still names it.
  t.join('http://b:1', D1);
  t.announce({ peer: 'http://b:1', withdraw: [D1] });
  now += 20;
  t.announce({ peer: 'http://b:1', digests: [], partial: [D1], replace: true });
  assert.deepEqual(t.holders(D1).partial, [], 'a list from before the withdrawal brought the download back');
  // A new pull of it joins again at once.
  t.join('http://b:1', D1);
  assert.deepEqual(t.holders(D1).partial, ['http://b:1']);
});
