import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contains, formatCidr, formatIp, overlaps, parseCidr, parseIp, pickSubnet } from './ipnet.ts';

test('addresses and prefixes round-trip', () => {
  assert.equal(formatIp(parseIp('10.1.2.3')), '10.1.2.3');
  assert.equal(formatIp(parseIp('255.255.255.255')), '255.255.255.255');
  assert.equal(formatCidr(parseCidr('10.1.2.3/16')), '10.1.0.0/16');
  assert.throws(() => parseIp('10.1.2'), /invalid IPv4/);
  assert.throws(() => parseIp('10.1.2.256'), /invalid IPv4/);
  assert.throws(() => parseCidr('10.1.0.0/33'), /invalid CIDR/);
  assert.throws(() => parseCidr('10.1.2.3/16', { strict: true }), /network address is 10.1.0.0\/16/);
});

test('containment and overlap', () => {
  const a = parseCidr('10.1.0.0/16');
  assert.ok(contains(a, parseIp('10.1.255.1')));
  assert.ok(!contains(a, parseIp('10.2.0.1')));
  assert.ok(overlaps(a, parseCidr('10.1.5.0/24')));
  assert.ok(overlaps(parseCidr('10.0.0.0/8'), a));
  assert.ok(!overlaps(a, parseCidr('10.2.0.0/16')));
});

test('a free subnet avoids what the host and other networks use', () => {
  const taken = [parseCidr('172.17.0.0/16'), parseCidr('172.18.5.0/24'), parseCidr('0.0.0.0/32')];
  assert.equal(formatCidr(pickSubnet(taken)!), '172.19.0.0/16');
});
