import assert from 'node:assert/strict';
import { test } from 'node:test';
import { networkId, networkSettings } from './network-settings.ts';
import { initialState, type ContainerRecord } from './record.ts';

function rec(mode: string | undefined, running: boolean): ContainerRecord {
  const state = { ...initialState(), ...(running ? { Status: 'running' as const, Running: true, Pid: 4242 } : {}) };
  return { id: 'c'.repeat(64), name: 'n', imageId: 'i', imageRef: 'r', createdAt: '', config: {}, hostConfig: { NetworkMode: mode }, state, runtime: 'runc', restartCount: 0, monitorPid: null, monitorStart: null, manuallyStopped: false };
}

test('Networks is keyed by the network the mode attaches to, as Docker shows it', () => {
  const keys = (mode: string | undefined): string[] => Object.keys((networkSettings(rec(mode, true)).Networks as object));
  assert.deepEqual(keys('none'), ['none']);
  assert.deepEqual(keys('host'), ['host']);
  assert.deepEqual(keys('default'), ['bridge']);
  assert.deepEqual(keys(undefined), ['bridge']);
  assert.deepEqual(keys('container:other'), []);
});

test('a running container has a sandbox and an endpoint; a stopped one keeps only the network id', () => {
  const up = networkSettings(rec('none', true));
  assert.equal(up.SandboxKey, '/proc/4242/ns/net');
  assert.match(up.SandboxID as string, /^[0-9a-f]{64}$/);
  const ep = (up.Networks as Record<string, Record<string, unknown>>).none!;
  assert.equal(ep.NetworkID, networkId('none'));
  assert.match(ep.EndpointID as string, /^[0-9a-f]{64}$/);
  assert.deepEqual([ep.IPAddress, ep.Gateway, ep.MacAddress, up.IPAddress], ['', '', '', '']);
  const down = networkSettings(rec('none', false));
  assert.deepEqual([down.SandboxID, down.SandboxKey], ['', '']);
  assert.equal((down.Networks as Record<string, Record<string, unknown>>).none!.EndpointID, '');
});
