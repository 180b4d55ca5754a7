import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { HostConfig } from '../../engine/containers/types.ts';
import { buildMounts, type MountInput } from './mounts.ts';
import { buildNamespaces } from './namespaces.ts';
import { buildTmpfsMounts, mergeTmpfsOptions } from './tmpfs.ts';

const FILES = { hosts: '/c/hosts', hostname: '/c/hostname', resolvConf: '/c/resolv.conf' };
const mounts = (hc: HostConfig, extra: Partial<MountInput> = {}) =>
  buildMounts({ hostConfig: hc, plan: buildNamespaces({ hostConfig: hc, config: {}, cgroupV2: false }), files: FILES, writableCgroups: false, ...extra });
const at = (ms: ReturnType<typeof mounts>, dest: string) => ms.filter((m) => m.destination === dest);

describe('mounts', () => {
  test('Docker\'s defaults', () => {
    const ms = mounts({});
    assert.deepEqual(ms.map((m) => m.destination), ['/proc', '/dev', '/dev/pts', '/sys', '/sys/fs/cgroup', '/dev/mqueue', '/dev/shm', '/etc/resolv.conf', '/etc/hostname', '/etc/hosts']);
    assert.deepEqual(at(ms, '/dev')[0], { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] });
    assert.deepEqual(at(ms, '/dev/pts')[0]!.options, ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5']);
    assert.deepEqual(at(ms, '/sys')[0], { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] });
    assert.ok(at(ms, '/sys/fs/cgroup')[0]!.options!.includes('ro'));
    assert.deepEqual(at(ms, '/dev/shm')[0], { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=67108864'] });
    assert.deepEqual(at(ms, '/etc/hosts')[0], { destination: '/etc/hosts', type: 'bind', source: '/c/hosts', options: ['rbind', 'rprivate'] });
  });

  test('ShmSize, read-only rootfs, privileged, host network, IPC modes', () => {
    assert.ok(at(mounts({ ShmSize: 1 << 20 }), '/dev/shm')[0]!.options!.includes('size=1048576'));
    assert.throws(() => mounts({ ShmSize: -1 }), { kind: 'invalid', message: /SHM size can not be less than 0/ });
    // dockerd makes the network files read-only with the rootfs.
    assert.deepEqual(at(mounts({ ReadonlyRootfs: true }), '/etc/resolv.conf')[0]!.options, ['rbind', 'rprivate', 'ro']);
    const priv = mounts({ Privileged: true });
    assert.ok(!at(priv, '/sys')[0]!.options!.includes('ro'));
    assert.ok(!at(priv, '/sys/fs/cgroup')[0]!.options!.includes('ro'));
    assert.ok(!at(mounts({}, { writableCgroups: true }), '/sys/fs/cgroup')[0]!.options!.includes('ro'));
    assert.deepEqual(at(mounts({ NetworkMode: 'host' }), '/sys')[0], { destination: '/sys', type: 'bind', source: '/sys', options: ['rbind', 'rprivate', 'nosuid', 'noexec', 'nodev', 'ro'] });
    assert.deepEqual(at(mounts({ IpcMode: 'none' }), '/dev/shm'), []);
    assert.deepEqual(at(mounts({ IpcMode: 'host' }), '/dev/shm')[0], { destination: '/dev/shm', type: 'bind', source: '/dev/shm', options: ['rbind', 'rprivate'] });
    assert.deepEqual(at(mounts({}, { files: {} }), '/etc/hosts'), []);
  });

  test('--tmpfs with Docker\'s defaults and overrides', () => {
    const cases: Array<[string, string[]]> = [
      ['', ['noexec', 'nosuid', 'nodev', 'rprivate']],
      ['rw,size=64m', ['noexec', 'nosuid', 'nodev', 'rprivate', 'rw', 'size=64m']],
      ['exec,mode=1777', ['nosuid', 'nodev', 'rprivate', 'exec', 'mode=1777']],
      ['size=1g,size=2g,ro,rw', ['noexec', 'nosuid', 'nodev', 'rprivate', 'size=2g', 'rw']],
      ['uid=1000,gid=1000,nr_inodes=10k,tmpcopyup', ['noexec', 'nosuid', 'nodev', 'rprivate', 'uid=1000', 'gid=1000', 'nr_inodes=10k', 'tmpcopyup']],
    ];
    for (const [data, want] of cases) {
      assert.deepEqual(buildTmpfsMounts({ '/run': data }), [{ destination: '/run', type: 'tmpfs', source: 'tmpfs', options: want }], data);
    }
    assert.deepEqual(buildTmpfsMounts({ '/run/': '' })[0]!.destination, '/run');
    const bad: Array<[Record<string, string>, RegExp]> = [
      [{ run: '' }, /invalid tmpfs mount point "run": must be an absolute path/],
      [{ '/': '' }, /cannot mount over \//],
      [{ '/run': 'bogus' }, /invalid tmpfs option "bogus" for \/run/],
      [{ '/run': 'size=lots' }, /invalid tmpfs option size=lots for \/run/],
      [{ '/run': 'mode=999' }, /invalid tmpfs option mode=999/],
      [{ '/run': 'Size=1m' }, /invalid tmpfs option "Size=1m"/],
    ];
    for (const [t, message] of bad) assert.throws(() => buildTmpfsMounts(t), { kind: 'invalid', message }, JSON.stringify(t));
    assert.deepEqual(mergeTmpfsOptions(['nosuid', 'suid', 'nosuid'], '/x'), ['nosuid']);
  });

  test('user mounts replace defaults, sort parents first, and may not repeat', () => {
    const extraMounts = [
      { destination: '/data/sub', type: 'bind', source: '/h/sub', options: ['rbind'] },
      { destination: '/data', type: 'bind', source: '/h/data', options: ['rbind'] },
      { destination: '/etc/hosts', type: 'bind', source: '/h/hosts', options: ['rbind'] },
    ];
    const ms = mounts({ Tmpfs: { '/dev/shm': 'size=1g', '/tmp': '' } }, { extraMounts });
    assert.deepEqual(at(ms, '/dev/shm').map((m) => m.source), ['tmpfs']);
    assert.deepEqual(at(ms, '/etc/hosts').map((m) => m.source), ['/h/hosts']);
    const user = ms.slice(ms.findIndex((m) => m.destination === '/tmp'));
    assert.deepEqual(user.map((m) => m.destination), ['/tmp', '/data', '/dev/shm', '/data/sub', '/etc/hosts']);
    // A /dev of one's own takes every default under it.
    const dev = mounts({ Tmpfs: { '/dev': '' } });
    assert.deepEqual(dev.filter((m) => m.destination.startsWith('/dev')).map((m) => m.source), ['tmpfs']);
    assert.throws(() => mounts({ Tmpfs: { '/data': '' } }, { extraMounts }), { kind: 'invalid', message: /^Duplicate mount point: \/data$/ });
    assert.throws(() => mounts({}, { extraMounts: [{ destination: 'rel', type: 'bind', source: '/x' }] }), { kind: 'invalid', message: /invalid mount point "rel"/ });
  });

  test('the init binary is bound read-only', () => {
    const ms = mounts({ Init: true }, { initPath: '/usr/bin/catatonit' });
    assert.deepEqual(ms.at(-1), { destination: '/sbin/docker-init', type: 'bind', source: '/usr/bin/catatonit', options: ['bind', 'ro'] });
    assert.deepEqual(at(mounts({}, { initPath: '/usr/bin/catatonit' }), '/sbin/docker-init'), []);
  });
});
