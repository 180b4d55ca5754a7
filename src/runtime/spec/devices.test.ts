import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { DEFAULT_DEVICE_RULES, buildDevices, customDevice, parseDeviceCgroupRule } from './devices.ts';
import { splitDev } from './host.ts';
import type { OciDevice } from './types.ts';

const makedev = (major: number, minor: number): bigint =>
  (BigInt(major & 0xfffff000) << 32n) | (BigInt(major & 0xfff) << 8n) | (BigInt(minor & 0xffffff00) << 12n) | BigInt(minor & 0xff);

describe('devices', () => {
  const dir = mkdtempSync(join(tmpdir(), 'joey-spec-dev-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('dev_t splits into major and minor', () => {
    for (const [ma, mi] of [[1, 3], [136, 0], [259, 300000], [4096, 5], [8, 255], [8, 256]] as const) {
      assert.deepEqual(splitDev(makedev(ma, mi)), { major: ma, minor: mi }, `${ma}:${mi}`);
    }
  });

  test('the default cgroup list denies everything but the standard nodes', async () => {
    const { devices, rules } = await buildDevices({}, () => assert.fail('host devices are only for --privileged'));
    assert.deepEqual(devices, []);
    assert.deepEqual(rules[0], { allow: false, access: 'rwm' });
    const allowed = rules.filter((r) => r.allow).map((r) => `${r.type} ${r.major ?? '*'}:${r.minor ?? '*'} ${r.access}`);
    assert.deepEqual(allowed, ['c 1:3 rwm', 'c 1:5 rwm', 'c 1:7 rwm', 'c 1:8 rwm', 'c 1:9 rwm', 'c 5:0 rwm', 'c 5:1 rwm', 'c 5:2 rwm', 'c 136:* rwm']);
    assert.equal(rules.length, DEFAULT_DEVICE_RULES.length);
  });

  test('--device stats the host node', async () => {
    const same = await customDevice({ PathOnHost: '/dev/null', PathInContainer: '', CgroupPermissions: '' });
    assert.deepEqual(same.devices.map(({ path, type, major, minor }) => ({ path, type, major, minor })), [{ path: '/dev/null', type: 'c', major: 1, minor: 3 }]);
    assert.deepEqual(same.rules, [{ allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }]);
    const renamed = await customDevice({ PathOnHost: '/dev/zero', PathInContainer: '/dev/myzero', CgroupPermissions: 'r' });
    assert.equal(renamed.devices[0]!.path, '/dev/myzero');
    assert.equal(renamed.rules[0]!.access, 'r');
    // A link to a node is followed, as Docker does for /dev/disk/by-id/…
    symlinkSync('/dev/null', join(dir, 'null-link'));
    const linked = await customDevice({ PathOnHost: join(dir, 'null-link'), PathInContainer: '/dev/n', CgroupPermissions: 'rw' });
    assert.deepEqual([linked.devices[0]!.major, linked.devices[0]!.minor], [1, 3]);
  });

  test('--device errors name the device', async () => {
    writeFileSync(join(dir, 'plain'), '');
    const cases: Array<[Parameters<typeof customDevice>[0], RegExp]> = [
      [{ PathOnHost: '/dev/does-not-exist', PathInContainer: '', CgroupPermissions: 'rwm' }, /error gathering device information while adding custom device "\/dev\/does-not-exist": no such file or directory/],
      [{ PathOnHost: join(dir, 'plain'), PathInContainer: '', CgroupPermissions: 'rwm' }, /"[^"]*plain": not a device node/],
      [{ PathOnHost: '/dev/null', PathInContainer: '', CgroupPermissions: 'rwx' }, /invalid device permissions "rwx" for \/dev\/null/],
      [{ PathOnHost: '/dev/null', PathInContainer: '', CgroupPermissions: 'rr' }, /invalid device permissions "rr"/],
      [{ PathOnHost: 'dev/null', PathInContainer: '', CgroupPermissions: 'rwm' }, /PathOnHost must be an absolute path/],
      [{ PathOnHost: '/dev/null', PathInContainer: 'null', CgroupPermissions: 'rwm' }, /PathInContainer "null" must be an absolute path/],
    ];
    for (const [m, message] of cases) await assert.rejects(customDevice(m), { kind: 'invalid', message }, JSON.stringify(m));
  });

  test('a directory adds the devices under it, without following links inside', async () => {
    const d = mkdtempSync(join(dir, 'devdir-'));
    symlinkSync('/dev/null', join(d, 'link'));
    symlinkSync(d, join(d, 'loop'));
    assert.deepEqual(await customDevice({ PathOnHost: d, PathInContainer: '/dev/x', CgroupPermissions: 'rwm' }), { devices: [], rules: [] });
  });

  test('device cgroup rules', () => {
    const cases: Array<[string, object]> = [
      ['c 1:3 mr', { allow: true, type: 'c', major: 1, minor: 3, access: 'mr' }],
      ['b 7:* rwm', { allow: true, type: 'b', major: 7, access: 'rwm' }],
      ['a *:* rwm', { allow: true, type: 'a', access: 'rwm' }],
      ['c *:42 w', { allow: true, type: 'c', minor: 42, access: 'w' }],
    ];
    for (const [rule, want] of cases) assert.deepEqual(parseDeviceCgroupRule(rule), want, rule);
    for (const bad of ['c 1:3', 'x 1:3 rwm', 'c 1-3 rwm', 'c 1:3 rwx', 'c 1:3 rrw', '']) {
      assert.throws(() => parseDeviceCgroupRule(bad), { kind: 'invalid', message: /invalid device cgroup rule/ }, bad);
    }
  });

  test('custom devices and rules follow the defaults', async () => {
    const { devices, rules } = await buildDevices({ Devices: [{ PathOnHost: '/dev/null', PathInContainer: '/dev/n2', CgroupPermissions: 'rw' }], DeviceCgroupRules: ['c 10:200 rwm'] }, () => []);
    assert.deepEqual(devices.map((d) => d.path), ['/dev/n2']);
    assert.deepEqual(rules.slice(-2), [{ allow: true, type: 'c', major: 1, minor: 3, access: 'rw' }, { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' }]);
  });

  test('privileged: every host device, all allowed', async () => {
    const host: OciDevice[] = [{ path: '/dev/sda', type: 'b', major: 8, minor: 0 }, { path: '/dev/null', type: 'c', major: 1, minor: 3 }];
    const { devices, rules } = await buildDevices({ Privileged: true, DeviceCgroupRules: ['c 1:1 r'] }, () => host);
    assert.deepEqual(devices, host);
    assert.deepEqual(rules, [{ allow: true, access: 'rwm' }]);
  });
});
