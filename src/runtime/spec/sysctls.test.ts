import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_NET_SYSCTLS, buildSysctls } from './sysctls.ts';

const PRIVATE = { hostNetwork: false, sharedNetwork: false, hostIpc: false };

describe('sysctls', () => {
  test('namespaced sysctls are allowed', () => {
    const ok = {
      'kernel.msgmax': '65536',
      'kernel.sem': '250 32000 100 128',
      'kernel.shmmax': '68719476736',
      'kernel.shm_rmid_forced': '1',
      'fs.mqueue.msg_max': '100',
      'net.ipv4.ip_forward': '1',
      'net/ipv4/conf/eth0.100/forwarding': '1',
    };
    assert.deepEqual(buildSysctls(ok, PRIVATE), { ...DEFAULT_NET_SYSCTLS, ...ok });
  });

  test('Docker\'s network defaults, which the user may override, only with a network namespace of its own', () => {
    assert.deepEqual(buildSysctls(undefined, PRIVATE), { 'net.ipv4.ip_unprivileged_port_start': '0', 'net.ipv4.ping_group_range': '0 2147483647' });
    assert.equal(buildSysctls({ 'net.ipv4.ip_unprivileged_port_start': '1024' }, PRIVATE)['net.ipv4.ip_unprivileged_port_start'], '1024');
    assert.deepEqual(buildSysctls({}, { ...PRIVATE, hostNetwork: true }), {});
    assert.deepEqual(buildSysctls({}, { ...PRIVATE, sharedNetwork: true }), {});
  });

  test('others are refused, naming the sysctl', () => {
    const cases: Array<[Record<string, string>, typeof PRIVATE, RegExp]> = [
      [{ 'kernel.pid_max': '1' }, PRIVATE, /^sysctl kernel\.pid_max is not allowed/],
      [{ 'vm.swappiness': '1' }, PRIVATE, /^sysctl vm\.swappiness is not allowed/],
      [{ 'fs.file-max': '1' }, PRIVATE, /^sysctl fs\.file-max is not allowed/],
      [{ 'net.ipv4.ip_forward': '1' }, { ...PRIVATE, hostNetwork: true }, /^sysctl net\.ipv4\.ip_forward is not allowed when using the host network$/],
      [{ 'kernel.shmmax': '1' }, { ...PRIVATE, hostIpc: true }, /^sysctl kernel\.shmmax is not allowed when using the host IPC namespace$/],
      [{ 'net.ipv4..x': '1' }, PRIVATE, /invalid sysctl name/],
      [{ 'net/../../kernel/x': '1' }, PRIVATE, /invalid sysctl name/],
      [{ 'net.ipv4 x': '1' }, PRIVATE, /invalid sysctl name/],
      [{ 'net.ipv4.x': '1\n2' }, PRIVATE, /invalid value for sysctl net\.ipv4\.x/],
    ];
    for (const [s, ns, message] of cases) assert.throws(() => buildSysctls(s, ns), { kind: 'invalid', message }, JSON.stringify(s));
  });
});
