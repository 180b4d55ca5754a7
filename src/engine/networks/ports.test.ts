import assert from 'node:assert/strict';
import { test } from 'node:test';
import { allocatePorts, checkIpv6OnlyBindings, parsePortKey, portsView, wantedPorts } from './ports.ts';

test('port keys', () => {
  assert.deepEqual(parsePortKey('80'), { port: 80, protocol: 'tcp' });
  assert.deepEqual(parsePortKey('53/UDP'), { port: 53, protocol: 'udp' });
  assert.throws(() => parsePortKey('0/tcp'), /invalid port/);
  assert.throws(() => parsePortKey('80/icmp'), /invalid port/);
});

test('bindings and -P become wanted ports', () => {
  const w = wantedPorts({ '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }], '53/udp': [{ HostPort: '' }], '90/tcp': [{ HostPort: '9000-9005' }] }, { '80/tcp': {}, '443/tcp': {} }, true);
  assert.deepEqual(w, [
    { containerPort: 80, protocol: 'tcp', hostIP: '127.0.0.1', hostRange: [8080, 8080] },
    { containerPort: 53, protocol: 'udp', hostIP: undefined, hostRange: [0, 0] },
    { containerPort: 90, protocol: 'tcp', hostIP: undefined, hostRange: [9000, 9005] },
    { containerPort: 443, protocol: 'tcp', hostRange: [0, 0] },
  ]);
  assert.throws(() => wantedPorts({ '80/tcp': [{ HostPort: '9-1' }] }, {}, false), /invalid host port/);
});

test('an IPv6-only network refuses a port bound to one host address, which would publish nothing', () => {
  assert.throws(
    () => checkIpv6OnlyBindings({ '80/tcp': [{ HostPort: '8080' }, { HostIp: '127.0.0.1', HostPort: '8081' }] }, 'only6'),
    /cannot publish port 80\/tcp on 127\.0\.0\.1: network only6 is IPv6-only .*no IPv4 address/,
  );
  assert.throws(() => checkIpv6OnlyBindings({ '53/udp': [{ HostIp: 'fd00::5', HostPort: '53' }] }, 'only6'), /cannot publish port 53\/udp on fd00::5: network only6 is IPv6-only .*all the host's IPv6 addresses/);
  // Every host address (0.0.0.0 and :: alike) is the host's IPv6 addresses there.
  checkIpv6OnlyBindings({ '80/tcp': [{ HostPort: '8080' }, { HostIp: '0.0.0.0', HostPort: '8081' }, { HostIp: '::', HostPort: '8082' }], '81/tcp': null }, 'only6');
});

test('allocation skips ports in use and refuses a taken fixed port', async () => {
  const busy = new Set([32768, 9000]);
  const free = async (p: number): Promise<boolean> => !busy.has(p);
  const got = await allocatePorts(wantedPorts({ '90/tcp': [{ HostPort: '9000-9005' }], '80/tcp': [{}], '81/tcp': [{}] }, {}, false), new Set(['tcp/32769']), free);
  assert.deepEqual(got.map((m) => m.hostPort), [9001, 32770, 32771]);
  await assert.rejects(allocatePorts(wantedPorts({ '80/tcp': [{ HostPort: '9000' }] }, {}, false), new Set(), free), /port is already allocated/);
  await assert.rejects(allocatePorts(wantedPorts({ '80/tcp': [{ HostPort: '8080' }] }, {}, false), new Set(['tcp/8080']), free), /port is already allocated/);
});

test('a restart that keeps its ports gets the same ephemeral host ports back while they are free', async () => {
  const free = async (): Promise<boolean> => true;
  const wanted = wantedPorts({ '80/tcp': [{}], '81/tcp': [{}] }, {}, false);
  const prefer = new Map([['tcp/80', 40000], ['tcp/81', 40001]]);
  const got = await allocatePorts(wanted, new Set(), free, 32768, prefer);
  assert.deepEqual(got.map((m) => m.hostPort), [40000, 40001]);
  // One taken meanwhile: it gets the next free port, and no port goes to two.
  const again = await allocatePorts(wanted, new Set(['tcp/40000']), free, 32768, prefer);
  assert.deepEqual(again.map((m) => m.hostPort), [40001, 40002]);
  // A fixed binding is never moved by a preference.
  const fixed = await allocatePorts(wantedPorts({ '80/tcp': [{ HostPort: '8080' }] }, {}, false), new Set(), free, 32768, prefer);
  assert.deepEqual(fixed.map((m) => m.hostPort), [8080]);
});

test('inspect shows exposed ports as null and published ones with their host side', () => {
  assert.deepEqual(portsView([{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }], { '80/tcp': {}, '443/tcp': {} }, { '80/tcp': [{ HostPort: '8080' }] }), {
    '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }],
    '443/tcp': null,
  });
});
