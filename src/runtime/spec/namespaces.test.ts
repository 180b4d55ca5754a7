import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { HostConfig } from '../../engine/containers/types.ts';
import { buildNamespaces, type NamespaceInput } from './namespaces.ts';

const plan = (hostConfig: HostConfig, extra: Partial<NamespaceInput> = {}) => buildNamespaces({ hostConfig, config: {}, cgroupV2: false, ...extra });
const types = (hostConfig: HostConfig, extra: Partial<NamespaceInput> = {}) => plan(hostConfig, extra).namespaces.map((n) => (n.path ? `${n.type}=${n.path}` : n.type));

describe('namespaces', () => {
  test('per mode', () => {
    const cases: Array<[string, HostConfig, Partial<NamespaceInput>, string[]]> = [
      ['defaults on cgroup v1', {}, {}, ['mount', 'network', 'uts', 'pid', 'ipc']],
      ['defaults on cgroup v2: private cgroup ns', {}, { cgroupV2: true }, ['mount', 'network', 'uts', 'pid', 'ipc', 'cgroup']],
      ['cgroupns private on v1', { CgroupnsMode: 'private' }, {}, ['mount', 'network', 'uts', 'pid', 'ipc', 'cgroup']],
      ['cgroupns host on v2', { CgroupnsMode: 'host' }, { cgroupV2: true }, ['mount', 'network', 'uts', 'pid', 'ipc']],
      ['network none', { NetworkMode: 'none' }, { netnsPath: '/run/netns/x' }, ['mount', 'network', 'uts', 'pid', 'ipc']],
      ['network host', { NetworkMode: 'host' }, {}, ['mount', 'uts', 'pid', 'ipc']],
      ['bridge with a prepared netns', { NetworkMode: 'bridge' }, { netnsPath: '/run/netns/x' }, ['mount', 'network=/run/netns/x', 'uts', 'pid', 'ipc']],
      ['network container:', { NetworkMode: 'container:abc' }, { netnsPath: '/proc/42/ns/net' }, ['mount', 'network=/proc/42/ns/net', 'uts', 'pid', 'ipc']],
      ['pid host', { PidMode: 'host' }, {}, ['mount', 'network', 'uts', 'ipc']],
      ['pid container:', { PidMode: 'container:abc' }, { pidnsPath: '/proc/42/ns/pid' }, ['mount', 'network', 'uts', 'pid=/proc/42/ns/pid', 'ipc']],
      ['ipc host', { IpcMode: 'host' }, {}, ['mount', 'network', 'uts', 'pid']],
      ['ipc shareable', { IpcMode: 'shareable' }, {}, ['mount', 'network', 'uts', 'pid', 'ipc']],
      ['ipc none', { IpcMode: 'none' }, {}, ['mount', 'network', 'uts', 'pid', 'ipc']],
      ['ipc container:', { IpcMode: 'container:abc' }, { ipcnsPath: '/proc/42/ns/ipc' }, ['mount', 'network', 'uts', 'pid', 'ipc=/proc/42/ns/ipc']],
      ['uts host', { UTSMode: 'host' }, {}, ['mount', 'network', 'pid', 'ipc']],
      ['uts container: (a pod\'s containers)', { UTSMode: 'container:abc' }, { utsnsPath: '/proc/42/ns/uts' }, ['mount', 'network', 'uts=/proc/42/ns/uts', 'pid', 'ipc']],
      ['userns host is the default', { UsernsMode: 'host' }, {}, ['mount', 'network', 'uts', 'pid', 'ipc']],
    ];
    for (const [name, hc, extra, want] of cases) assert.deepEqual(types(hc, extra), want, name);
  });

  test('/dev/shm per IPC mode', () => {
    assert.deepEqual(plan({}).shm, { kind: 'tmpfs' });
    assert.deepEqual(plan({ IpcMode: 'none' }).shm, { kind: 'none' });
    assert.deepEqual(plan({ IpcMode: 'host' }).shm, { kind: 'bind', source: '/dev/shm' });
    assert.deepEqual(plan({ IpcMode: 'shareable' }, { shmPath: '/var/lib/joey/c/shm' }).shm, { kind: 'bind', source: '/var/lib/joey/c/shm' });
    assert.deepEqual(plan({ IpcMode: 'container:abc' }, { ipcnsPath: '/proc/1/ns/ipc', shmPath: '/x/shm' }).shm, { kind: 'bind', source: '/x/shm' });
  });

  test('flags the other steps use', () => {
    assert.deepEqual(
      (({ hostNetwork, sharedNetwork, hostIpc, hostUts }) => ({ hostNetwork, sharedNetwork, hostIpc, hostUts }))(plan({ NetworkMode: 'host', IpcMode: 'host', UTSMode: 'host' })),
      { hostNetwork: true, sharedNetwork: false, hostIpc: true, hostUts: true },
    );
    assert.equal(plan({ NetworkMode: 'container:x' }, { netnsPath: '/p' }).sharedNetwork, true);
  });

  test('bad modes are errors naming them', () => {
    const cases: Array<[HostConfig, Partial<NamespaceInput>, string, RegExp]> = [
      [{ PidMode: 'weird' }, {}, 'invalid', /^invalid PID mode: weird$/],
      [{ IpcMode: 'weird' }, {}, 'invalid', /^invalid IPC mode: weird$/],
      [{ UTSMode: 'private' }, {}, 'invalid', /^invalid UTS mode: private$/],
      [{ CgroupnsMode: 'weird' as 'host' }, {}, 'invalid', /^invalid cgroup namespace mode: weird$/],
      [{ UsernsMode: 'keep-id' }, {}, 'invalid', /UsernsMode "keep-id" is not supported/],
      [{ NetworkMode: 'container:' }, {}, 'invalid', /invalid NetworkMode "container:"/],
      [{ NetworkMode: 'container:abc' }, {}, 'conflict', /cannot join the network namespace of container abc: it is not running/],
      [{ PidMode: 'container:abc' }, {}, 'conflict', /PID namespace of container abc/],
      [{ IpcMode: 'container:abc' }, {}, 'conflict', /IPC namespace of container abc/],
    ];
    for (const [hc, extra, kind, message] of cases) assert.throws(() => plan(hc, extra), { kind, message }, JSON.stringify(hc));
  });
});
