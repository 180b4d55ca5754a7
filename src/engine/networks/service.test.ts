import assert from 'node:assert/strict';
import { test } from 'node:test';
import { networkOptions, parseLink } from './service.ts';
import type { NetworkRecord } from './types.ts';

const rec = (over: Partial<NetworkRecord>): NetworkRecord => ({
  id: 'a'.repeat(64), name: 'app', driver: 'bridge', bridge: 'jbr-aaaaaaaaaaa', subnet: '10.1.0.0/24', gateway: '10.1.0.1',
  ipRange: '', ipv4: true, ipv6: false, subnet6: '', gateway6: '', ipRange6: '', internal: false, labels: {}, options: {}, createdAt: '', ...over,
});

test('Options show what was asked at create; the bridge name only on the default bridge (docker-compose reuses such a network)', () => {
  assert.deepEqual(networkOptions(rec({})), {});
  assert.deepEqual(networkOptions(rec({ options: { 'com.docker.network.bridge.name': 'br-x', 'com.docker.network.driver.mtu': '1400' } })), {
    'com.docker.network.bridge.name': 'br-x', 'com.docker.network.driver.mtu': '1400',
  });
  assert.deepEqual(networkOptions(rec({ name: 'bridge', bridge: 'joey0' })), { 'com.docker.network.bridge.name': 'joey0' });
});

test('links as the docker CLI, docker-compose and dockerd write them', () => {
  assert.deepEqual(parseLink('web:webby'), { target: 'web', alias: 'webby' });
  assert.deepEqual(parseLink('web'), { target: 'web', alias: 'web' });
  assert.deepEqual(parseLink('/web:/cli/webby'), { target: 'web', alias: 'webby' });
  assert.equal(parseLink(''), undefined);
});
