import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RCODE_NXDOMAIN, TYPE_AAAA, buildAnswer, buildQuery, parseAnswer, parseQuery } from './dns-packet.ts';

test('a query round-trips through parse and answer', () => {
  const q = buildQuery(0x1234, 'web.example.');
  const parsed = parseQuery(q)!;
  assert.deepEqual({ id: parsed.id, name: parsed.name, type: parsed.type, klass: parsed.klass }, { id: 0x1234, name: 'web.example', type: 1, klass: 1 });
  const ans = parseAnswer(buildAnswer(q, parsed, ['10.1.0.2', '10.1.0.3']));
  assert.deepEqual(ans, { id: 0x1234, rcode: 0, addrs: ['10.1.0.2', '10.1.0.3'] });
});

test('errors and empty answers', () => {
  const q = buildQuery(7, 'nope', TYPE_AAAA);
  const parsed = parseQuery(q)!;
  assert.equal(parsed.type, TYPE_AAAA);
  assert.deepEqual(parseAnswer(buildAnswer(q, parsed, [], { rcode: RCODE_NXDOMAIN })), { id: 7, rcode: RCODE_NXDOMAIN, addrs: [] });
});

test('garbage and responses are not queries', () => {
  assert.equal(parseQuery(Buffer.from([1, 2, 3])), undefined);
  const q = buildQuery(1, 'a');
  q.writeUInt16BE(0x8000, 2);
  assert.equal(parseQuery(q), undefined);
  const truncated = buildQuery(1, 'abcdef').subarray(0, 15);
  assert.equal(parseQuery(truncated), undefined);
});

test('AAAA answers carry 16-byte addresses', () => {
  const q = buildQuery(9, 'web', TYPE_AAAA);
  const ans = buildAnswer(q, parseQuery(q)!, ['fd00:1:2::5', 'fd00:1:2::a:0:7']);
  assert.deepEqual(parseAnswer(ans), { id: 9, rcode: 0, addrs: ['fd00:1:2::5', 'fd00:1:2::a:0:7'] });
  assert.equal(ans.readUInt16BE(q.length + 2), TYPE_AAAA);
  assert.equal(ans.readUInt16BE(q.length + 10), 16);
});
