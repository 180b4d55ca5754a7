import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contains, contains6, formatCidr, formatCidr6, formatIp, formatIp6, last6, overlaps, overlaps6, parseCidr, parseCidr6, parseIp, parseIp6 } from './ipnet.ts';

test('addresses and prefixes round-trip', () => {
  assert.equal(formatIp(parseIp('10.1.2.3')), '10.1.2.3');
  assert.equal(formatIp(parseIp('255.255.255.255')), '255.255.255.255');
  assert.equal(formatCidr(parseCidr('10.1.2.3/16')), '10.1.0.0/16');
  assert.throws(() => parseIp('10.1.2'), /invalid IPv4/);
  assert.throws(() => parseIp('10.1.2.256'), /invalid IPv4/);
  assert.throws(() => parseIp('010.1.2.3'), /invalid IPv4/, 'leading zeros are refused, as Go refuses them');
  assert.throws(() => parseIp('10.1.2.03'), /invalid IPv4/);
  assert.equal(formatIp(parseIp('0.0.0.0')), '0.0.0.0');
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


test('IPv6 addresses parse and print in the canonical form', () => {
  for (const [text, canon] of [
    ['::', '::'],
    ['::1', '::1'],
    ['FD00:0:0:1::5', 'fd00:0:0:1::5'],
    ['fd00:1:2:0:0:0:0:3', 'fd00:1:2::3'],
    ['1:0:0:2:0:0:3:4', '1::2:0:0:3:4'], // the first of two equal runs
    ['1:0:2:3:4:5:6:7', '1:0:2:3:4:5:6:7'], // one zero group stays
    ['::ffff:10.1.2.3', '::ffff:a01:203'],
  ]) assert.equal(formatIp6(parseIp6(text!)), canon, text);
  for (const bad of ['1::2::3', 'g::', '1:2:3:4:5:6:7:8:9', ':1', '1:2:3:4:5:6:7::8', '10.1.2.3', '']) assert.throws(() => parseIp6(bad), /invalid IPv6 address/, bad);
});

test('IPv6 forms that Go\'s net.ParseIP refuses are refused', () => {
  for (const bad of [
    '1.2.3.4::', // an IPv4 part is only the last 32 bits
    '1.2.3.4::1',
    '::1.2.3.4:1',
    'fd00::1.2.3.4:5',
    '1::2::3', // one "::" at most
    '::1::',
    ':::',
    '1:::2',
    '12345::', // a group is at most 4 hex digits
    'fd00::00001',
    '1:2:3:4:5:6:7:8::', // "::" stands for one group at least
    '::1:2:3:4:5:6:7:8',
    '1:2:3:4::5:6:7:8',
    '1:2:3:4:5:6:7:1.2.3.4', // 7 groups and an IPv4 part: 144 bits
    '1:2:3:4:5:6:7',
    '::ffff:1.2.3.256', // bad IPv4 tails
    '::ffff:1.2.3',
    '::ffff:1.2.3.4.5',
    '::ffff:01.2.3.4',
    '::ffff:1.2.3.004',
    '::1.2..3',
    '1:2:',
    ':1:2::',
    '::ffff:1.2.3.4%eth0',
  ]) assert.throws(() => parseIp6(bad), /invalid IPv6 address/, bad);
  for (const [text, canon] of [
    ['::1.2.3.4', '::102:304'],
    ['1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:102:304'],
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
    ['::2:3:4:5:6:7:8', '0:2:3:4:5:6:7:8'],
    ['0001:00::0.0.0.0', '1::'],
  ]) assert.equal(formatIp6(parseIp6(text!)), canon, text);
  assert.throws(() => parseCidr6('1.2.3.4::/64'), /invalid CIDR address/);
});

test('IPv6 prefixes: network address, last address, containment, overlap', () => {
  const a = parseCidr6('fd00:1:2::/64');
  assert.equal(formatCidr6(parseCidr6('fd00:1:2::5/64')), 'fd00:1:2::/64');
  assert.equal(formatIp6(last6(a)), 'fd00:1:2:0:ffff:ffff:ffff:ffff');
  assert.ok(contains6(a, parseIp6('fd00:1:2::99')));
  assert.ok(!contains6(a, parseIp6('fd00:1:3::1')));
  assert.ok(overlaps6(a, parseCidr6('fd00:1:2:0:1::/80')));
  assert.ok(overlaps6(parseCidr6('fd00::/8'), a));
  assert.ok(!overlaps6(a, parseCidr6('fd00:1:3::/64')));
  assert.throws(() => parseCidr6('fd00:1:2::1/64', { strict: true }), /network address is fd00:1:2::\/64/);
  assert.throws(() => parseCidr6('fd00:zz::/64'), /invalid CIDR address: fd00:zz::\/64/);
  assert.throws(() => parseCidr6('fd00::/129'), /invalid CIDR/);
  assert.throws(() => parseCidr6('10.0.0.0/8'), /invalid CIDR/);
});
