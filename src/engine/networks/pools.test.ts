import assert from 'node:assert/strict';
import { test } from 'node:test';
import { allocateSubnet, defaultIpv4Pools, formatPrefix, parsePoolFlag, parsePoolSpec, parsePrefix, randomUlaGlobalId, ulaPool, type AddressPool } from './pools.ts';

const pool = (base: string, size: number): AddressPool => ({ ...parsePrefix(base), size });
const alloc = (pools: AddressPool[], taken: string[]): string | undefined => {
  const s = allocateSubnet(pools, taken.map((t) => parsePrefix(t)));
  return s && formatPrefix(s);
};

test('an IPv6 pool hands out its /64s in order, stepping over what is taken', () => {
  const p = [pool('fd00:10::/48', 64)];
  assert.equal(alloc(p, []), 'fd00:10::/64');
  assert.equal(alloc(p, ['fd00:10::/64']), 'fd00:10:0:1::/64');
  // A network with a longer prefix inside the first /64 still takes all of it.
  assert.equal(alloc(p, ['fd00:10::/80']), 'fd00:10:0:1::/64');
  // A wider host route covers several candidates at once.
  assert.equal(alloc(p, ['fd00:10::/62']), 'fd00:10:0:4::/64');
  // Other families and prefixes outside the pool do not matter.
  assert.equal(alloc(p, ['10.0.0.0/8', 'fd00:11::/48', 'fe80::/64']), 'fd00:10::/64');
});

test('a wide pool is walked per taken prefix, not per subnet', () => {
  // 2^56 candidates; the first /40 of it taken.
  assert.equal(alloc([pool('fd00::/8', 64)], ['fd00::/40']), 'fd00:0:100::/64');
});

test('pools are tried in order; an exhausted one gives way to the next, the last to nothing', () => {
  const p = [pool('fd00:20::/63', 64), pool('fd00:30::/64', 64)];
  assert.equal(alloc(p, ['fd00:20::/64']), 'fd00:20:0:1::/64');
  assert.equal(alloc(p, ['fd00:20::/64', 'fd00:20:0:1::/64']), 'fd00:30::/64');
  assert.equal(alloc(p, ['fd00:20::/63', 'fd00:30::/64']), undefined);
  // A taken prefix that covers the whole pool.
  assert.equal(alloc([pool('fd00:20::/63', 64)], ['fd00::/16']), undefined);
});

test('IPv4 pools work the same way, and the built-in ones are Docker\'s', () => {
  assert.equal(alloc([pool('10.10.0.0/16', 24)], ['10.10.0.0/23', '10.10.3.0/24']), '10.10.2.0/24');
  assert.equal(alloc(defaultIpv4Pools(), []), '172.17.0.0/16');
  assert.equal(alloc(defaultIpv4Pools(), ['172.17.0.0/16', '172.18.5.0/24']), '172.19.0.0/16');
  assert.equal(alloc(defaultIpv4Pools(), ['172.16.0.0/12']), '192.168.0.0/20');
  assert.equal(alloc(defaultIpv4Pools(), ['172.16.0.0/12', '192.168.0.0/20', '192.168.16.0/24']), '192.168.32.0/20');
});

test('the ULA pool: fd, a 40-bit global ID, /48 in /64s; the ID random per daemon', () => {
  assert.equal(formatPrefix(ulaPool('0123456789')), 'fd01:2345:6789::/48');
  assert.equal(ulaPool('0123456789').size, 64);
  assert.equal(alloc([ulaPool('abcdef0123')], ['fdab:cdef:123::/64']), 'fdab:cdef:123:1::/64');
  const a = randomUlaGlobalId();
  assert.match(a, /^[0-9a-f]{10}$/);
  assert.notEqual(a, randomUlaGlobalId());
  assert.throws(() => ulaPool('xyz'), /invalid ULA global ID/);
});

test('pool entries are checked, naming the setting', () => {
  const ok = parsePoolSpec({ base: 'fd00:1::/48', size: 64 }, 'default-address-pools');
  assert.equal(ok.family, 6);
  assert.equal(ok.size, 64);
  const refused = (entry: unknown, re: RegExp): void => assert.throws(() => parsePoolSpec(entry, 'default-address-pools'), (e: Error) => /^invalid default-address-pools entry/.test(e.message) && re.test(e.message));
  refused('fd00::/48', /expected \{"base"/);
  refused({ base: 'fd00::/48' }, /"size" must be an integer/);
  refused({ base: 'fd00::/48', size: '64' }, /"size" must be an integer/);
  refused({ base: 'fd00::/48', size: 40 }, /between the base's prefix length \(48\) and 126/);
  refused({ base: 'fd00::/48', size: 127 }, /and 126/);
  refused({ base: '10.0.0.0/8', size: 31 }, /and 30/);
  refused({ base: 'fd00::1/48', size: 64 }, /"base": .*network address is fd00::\/48/);
  refused({ base: 'fd00:zz::/48', size: 64 }, /"base"/);
  refused({ base: 'fd00::', size: 64 }, /"base" must be a CIDR/);
  refused({ base: 'fd00::/48', size: 64, gateway: 'x' }, /unknown key "gateway"/);
});

test('the flag form base=CIDR,size=N', () => {
  assert.deepEqual(parsePoolFlag('base=fd00:2::/48,size=64'), { base: 'fd00:2::/48', size: 64 });
  assert.deepEqual(parsePoolFlag('size=24,base=10.20.0.0/16'), { size: 24, base: '10.20.0.0/16' });
  assert.throws(() => parsePoolFlag('fd00::/48'), /--default-address-pool.*base=CIDR,size=N/);
  assert.throws(() => parsePoolFlag('base=fd00::/48,size=x'), /--default-address-pool.*"size"/);
});
