import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ipamRange, ipamRange6, isolationChain, pluginChain, readResult, rulesSpec, rulesTag } from './conflist.ts';
import type { NetworkRecord } from './types.ts';

const net: NetworkRecord = { id: 'a'.repeat(64), name: 'app', driver: 'bridge', bridge: 'jbr-aaaaaaaaaaa', subnet: '10.88.0.0/16', gateway: '10.88.0.1', ipRange: '', ipv4: true, ipv6: false, subnet6: '', gateway6: '', ipRange6: '', internal: false, labels: {}, options: {}, createdAt: '' };

test('the chain: bridge with host-local under the data root and no NAT of its own, portmap only with ports', () => {
  const chain = pluginChain(net, { ipamDir: '/data/network/ipam', iptables: true, endpoint: {}, ports: [] });
  assert.deepEqual(chain.map((p) => p.type), ['bridge']);
  const b = chain[0]!;
  assert.equal(b.name, 'joey-jbr-aaaaaaaaaaa');
  assert.equal(b.bridge, 'jbr-aaaaaaaaaaa');
  assert.equal(b.ipMasq, false, 'outbound NAT is the network\'s rule, not a per-container chain');
  assert.deepEqual(b.ipam, { type: 'host-local', dataDir: '/data/network/ipam', ranges: [[{ subnet: '10.88.0.0/16', gateway: '10.88.0.1' }]], routes: [{ dst: '0.0.0.0/0' }] });
  const withPorts = pluginChain(net, { ipamDir: '/d', iptables: true, endpoint: { ipv4: '10.88.0.9', mac: '02:42:0a:58:00:09' }, ports: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp', hostIP: '127.0.0.1' }] });
  assert.deepEqual(withPorts.map((p) => p.type), ['bridge', 'portmap']);
  assert.deepEqual(withPorts[0]!.runtimeConfig, { mac: '02:42:0a:58:00:09', ips: ['10.88.0.9/16'] });
  assert.deepEqual(withPorts[1]!.runtimeConfig, { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp', hostIP: '127.0.0.1' }] });
});

test('internal networks and --iptables=false: no NAT, no default route, no port maps', () => {
  const chain = pluginChain({ ...net, internal: true }, { ipamDir: '/d', iptables: true, endpoint: {}, ports: [] });
  assert.equal(chain[0]!.ipMasq, false);
  assert.deepEqual((chain[0]!.ipam as { routes: unknown }).routes, []);
  const bare = pluginChain(net, { ipamDir: '/d', iptables: false, endpoint: {}, ports: [{ hostPort: 1, containerPort: 1, protocol: 'tcp' }] });
  assert.deepEqual(bare.map((p) => p.type), ['bridge']);
});

test('--ip-range narrows host-local to the range, inside the subnet', () => {
  assert.deepEqual(ipamRange({ ...net, ipRange: '10.88.5.0/24' }), { subnet: '10.88.0.0/16', gateway: '10.88.0.1', rangeStart: '10.88.5.0', rangeEnd: '10.88.5.255' });
  assert.deepEqual(ipamRange({ ...net, subnet: '10.9.0.0/24', gateway: '10.9.0.1', ipRange: '10.9.0.0/25' }), { subnet: '10.9.0.0/24', gateway: '10.9.0.1', rangeStart: '10.9.0.1', rangeEnd: '10.9.0.127' });
});

test('the container side of an ADD result', () => {
  const r = { interfaces: [{ name: 'jbr' }, { name: 'veth1' }, { name: 'eth0', mac: '02:42:00:00:00:09', sandbox: '/ns' }], ips: [{ interface: 2, address: '10.88.0.9/16', gateway: '10.88.0.1' }] };
  assert.deepEqual(readResult(r, 'eth0'), { ip: '10.88.0.9', prefixLen: 16, gateway: '10.88.0.1', mac: '02:42:00:00:00:09' });
});

test('the network\'s rules: chains named per daemon and network', () => {
  const a = rulesTag('/var/lib/joey', net.id);
  assert.match(a, /^[0-9a-f]{10}$/);
  assert.notEqual(rulesTag('/var/lib/joey2', net.id), a);
  assert.notEqual(rulesTag('/var/lib/joey', 'b'.repeat(64)), a);
  assert.deepEqual(rulesSpec('/var/lib/joey', { ...net, internal: true }), { tag: a, bridge: 'jbr-aaaaaaaaaaa', subnet: '10.88.0.0/16', internal: true, isolation: isolationChain('/var/lib/joey') });
  // one isolation chain per daemon, another for another daemon
  assert.match(isolationChain('/var/lib/joey'), /^JOEY-[0-9a-f]{10}-ISO$/);
  assert.notEqual(isolationChain('/var/lib/joey2'), isolationChain('/var/lib/joey'));
});

const dual: NetworkRecord = { ...net, ipv6: true, subnet6: 'fd00:1:2::/64', gateway6: 'fd00:1:2::1' };

test('a dual-stack network: one host-local range set per family, a default route for each, --ip and --ip6 asked together', () => {
  const [b] = pluginChain(dual, { ipamDir: '/d', iptables: true, endpoint: { ipv4: '10.88.0.9', ipv6: 'fd00:1:2::99' }, ports: [] });
  assert.deepEqual(b!.ipam, {
    type: 'host-local',
    dataDir: '/d',
    ranges: [[{ subnet: '10.88.0.0/16', gateway: '10.88.0.1' }], [{ subnet: 'fd00:1:2::/64', gateway: 'fd00:1:2::1' }]],
    routes: [{ dst: '0.0.0.0/0' }, { dst: '::/0' }],
  });
  assert.deepEqual(b!.runtimeConfig, { ips: ['10.88.0.9/16', 'fd00:1:2::99/64'] });
  // internal: no routes at all
  assert.deepEqual((pluginChain({ ...dual, internal: true }, { ipamDir: '/d', iptables: true, endpoint: {}, ports: [] })[0]!.ipam as { routes: unknown }).routes, []);
  // A subnet kept without EnableIPv6 (as dockerd keeps it) is not used, nor an --ip6 there.
  const off = pluginChain({ ...dual, ipv6: false }, { ipamDir: '/d', iptables: true, endpoint: { ipv6: 'fd00:1:2::99' }, ports: [] })[0]!;
  assert.equal((off.ipam as { ranges: unknown[] }).ranges.length, 1);
  assert.equal(off.runtimeConfig, undefined);
  // ip6tables rules only for a dual-stack network
  assert.equal(rulesSpec('/r', dual).subnet6, 'fd00:1:2::/64');
  assert.equal(rulesSpec('/r', { ...dual, ipv6: false }).subnet6, undefined);
});

test('an IPv6 --ip-range narrows host-local, never to the subnet-router address', () => {
  assert.deepEqual(ipamRange6({ ...dual, ipRange6: 'fd00:1:2::/80' }), { subnet: 'fd00:1:2::/64', gateway: 'fd00:1:2::1', rangeStart: 'fd00:1:2::1', rangeEnd: 'fd00:1:2::ffff:ffff:ffff' });
  assert.deepEqual(ipamRange6({ ...dual, ipRange6: 'fd00:1:2:0:5::/80' }), { subnet: 'fd00:1:2::/64', gateway: 'fd00:1:2::1', rangeStart: 'fd00:1:2:0:5::', rangeEnd: 'fd00:1:2:0:5:ffff:ffff:ffff' });
});

test('the container side of a dual-stack ADD result', () => {
  const r = {
    interfaces: [{ name: 'jbr' }, { name: 'veth1' }, { name: 'eth0', mac: '02:42:00:00:00:09', sandbox: '/ns' }],
    ips: [
      { interface: 2, address: '10.88.0.9/16', gateway: '10.88.0.1' },
      { interface: 2, address: 'fd00:1:2:0:0:0:0:2/64', gateway: 'fd00:1:2::1' },
    ],
  };
  assert.deepEqual(readResult(r, 'eth0'), { ip: '10.88.0.9', prefixLen: 16, gateway: '10.88.0.1', mac: '02:42:00:00:00:09', ip6: 'fd00:1:2::2', prefixLen6: 64, gateway6: 'fd00:1:2::1' });
});

test('an IPv6-only network: host-local with the IPv6 range alone, the IPv6 default route, rules in ip6tables only', () => {
  const v6only: NetworkRecord = { ...net, subnet: '', gateway: '', ipv4: false, ipv6: true, subnet6: 'fd6b:1::/64', gateway6: 'fd6b:1::1' };
  const [b] = pluginChain(v6only, { ipamDir: '/d', iptables: true, endpoint: { ipv6: 'fd6b:1::9' }, ports: [] });
  assert.deepEqual(b!.ipam, { type: 'host-local', dataDir: '/d', ranges: [[{ subnet: 'fd6b:1::/64', gateway: 'fd6b:1::1' }]], routes: [{ dst: '::/0' }] });
  assert.deepEqual(b!.runtimeConfig, { ips: ['fd6b:1::9/64'] });
  const spec = rulesSpec('/data', v6only);
  assert.equal(spec.subnet, '');
  assert.equal(spec.subnet6, 'fd6b:1::/64');
  const r = { interfaces: [{ name: 'jbr' }, { name: 'eth0', mac: '02:42:00:00:00:09', sandbox: '/ns' }], ips: [{ interface: 1, address: 'fd6b:1:0:0::9/64', gateway: 'fd6b:1::1' }] };
  assert.deepEqual(readResult(r, 'eth0'), { ip: '', prefixLen: 0, gateway: '', mac: '02:42:00:00:00:09', ip6: 'fd6b:1::9', prefixLen6: 64, gateway6: 'fd6b:1::1' });
});
