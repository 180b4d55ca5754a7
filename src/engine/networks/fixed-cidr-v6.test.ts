import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkFixedCidrV6Overlap, parseFixedCidrV6 } from './fixed-cidr-v6.ts';
import type { NetworkRecord } from './types.ts';

const net = (name: string, subnet6: string): NetworkRecord => ({
  id: name.padEnd(64, '0'), name, driver: 'bridge', bridge: `br-${name}`, subnet: '10.9.0.0/24', gateway: '10.9.0.1',
  ipRange: '', ipv4: true, ipv6: subnet6 !== '', subnet6, gateway6: '', ipRange6: '', internal: false, labels: {}, options: {}, createdAt: '',
});

test('at start-up a --fixed-cidr-v6 that overlaps a user network\'s IPv6 subnet is refused, naming both', () => {
  const networks = [net('bridge', 'fd00:1::/64'), net('v4only', ''), net('app', 'fd00:1::5:0:0/80')];
  assert.throws(() => checkFixedCidrV6Overlap(parseFixedCidrV6('fd00:1::/64'), networks), (err: Error & { kind?: string }) => {
    assert.equal(err.kind, 'invalid');
    assert.match(err.message, /--fixed-cidr-v6 fd00:1::\/64 overlaps the IPv6 subnet fd00:1::5:0:0\/80 of network "app" \(app000000000\)/);
    return true;
  });
  // The wider side either way round.
  assert.throws(() => checkFixedCidrV6Overlap(parseFixedCidrV6('fd00:1::5:0:0/96'), networks), /of network "app"/);
  // The default bridge's own record (its earlier subnet) and IPv4-only networks are no conflict.
  checkFixedCidrV6Overlap(parseFixedCidrV6('fd00:1::/80'), [net('bridge', 'fd00:1::/64'), net('v4only', '')]);
  checkFixedCidrV6Overlap(parseFixedCidrV6('fd00:2::/64'), networks);
});
