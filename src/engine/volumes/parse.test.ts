import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseBind, parseMountSpec, parseVolumesFrom, planMounts } from './parse.ts';

describe('mount parsing', () => {
  test('-v forms: bind, named volume, anonymous volume, with modes', () => {
    assert.deepEqual(parseBind('/host/dir:/data:ro'), {
      kind: 'bind', source: '/host/dir', destination: '/data', readOnly: true, mode: 'ro', propagation: 'rprivate', nonRecursive: false, createSource: true,
    });
    assert.deepEqual(parseBind('/host/dir/:/data/'), {
      kind: 'bind', source: '/host/dir', destination: '/data', readOnly: false, mode: '', propagation: 'rprivate', nonRecursive: false, createSource: true,
    });
    const shared = parseBind('/h:/c:rshared,Z');
    assert.equal(shared.kind === 'bind' && shared.propagation, 'rshared');
    assert.equal(shared.readOnly, false);
    assert.deepEqual(parseBind('cache:/var/cache:nocopy'), { kind: 'volume', name: 'cache', destination: '/var/cache', readOnly: false, mode: 'nocopy', copy: false, labels: {} });
    assert.deepEqual(parseBind('/data'), { kind: 'volume', destination: '/data', readOnly: false, mode: '', copy: true, labels: {} });
    // Two parts whose second is a mode: an anonymous volume with that mode.
    assert.deepEqual(parseBind('/data:ro'), { kind: 'volume', destination: '/data', readOnly: true, mode: 'ro', copy: true, labels: {} });
  });

  test('-v mistakes are invalid errors with dockerd wording', () => {
    const cases: Array<[string, RegExp]> = [
      ['/h:/c:rw,ro', /invalid mode: rw,ro/],
      ['/h:/c:bogus', /invalid mode: bogus/],
      ['/h:/c:ro:x', /invalid volume specification: '\/h:\/c:ro:x'/],
      ['/h:rel', /mount path must be absolute/],
      ['/h:/', /destination can't be '\/'/],
      ['./here:/c', /includes invalid characters for a local volume name.*use absolute path/],
      ['named:/c:rshared', /propagation \(rshared\) applies to bind mounts only/],
    ];
    for (const [spec, message] of cases) assert.throws(() => parseBind(spec), { kind: 'invalid', message }, spec);
  });

  test('--mount: bind, volume, tmpfs', () => {
    assert.deepEqual(parseMountSpec({ Type: 'bind', Source: '/h', Target: '/c', ReadOnly: true, BindOptions: { Propagation: 'rslave', NonRecursive: true } }), {
      kind: 'bind', source: '/h', destination: '/c', readOnly: true, mode: '', propagation: 'rslave', nonRecursive: true, createSource: false,
    });
    assert.deepEqual(parseMountSpec({ Type: 'volume', Source: 'v1', Target: '/c', VolumeOptions: { NoCopy: true, Labels: { a: 'b' } } }), {
      kind: 'volume', name: 'v1', destination: '/c', readOnly: false, mode: 'z', copy: false, labels: { a: 'b' },
    });
    assert.deepEqual(parseMountSpec({ Type: 'volume', Target: '/anon' }), { kind: 'volume', destination: '/anon', readOnly: false, mode: 'z', copy: true, labels: {} });
    assert.deepEqual(parseMountSpec({ Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 1 << 20, Mode: 0o1777, Options: [['uid', '1000'], ['noexec']] } }), {
      kind: 'tmpfs', destination: '/t', readOnly: false, options: ['size=1048576', 'mode=1777', 'uid=1000', 'noexec'],
    });
  });

  test('--mount mistakes', () => {
    const cases: Array<[object, RegExp]> = [
      [{ Type: 'bind', Target: '/c' }, /field Source must not be empty/],
      [{ Type: 'bind', Source: 'rel', Target: '/c' }, /mount path must be absolute/],
      [{ Type: 'bind', Source: '/h', Target: '' }, /field Target must not be empty/],
      [{ Type: 'bind', Source: '/h', Target: '/c', BindOptions: { Propagation: 'sideways' } }, /invalid propagation mode: sideways/],
      [{ Type: 'volume', Target: '/c', BindOptions: {} }, /field BindOptions must not be specified/],
      [{ Type: 'volume', Target: '/c', VolumeOptions: { DriverConfig: { Name: 'nfs' } } }, /driver nfs is not supported/],
      [{ Type: 'tmpfs', Source: '/h', Target: '/c' }, /field Source must not be specified/],
      [{ Type: 'npipe', Target: '/c' }, /mount type unknown/],
    ];
    for (const [m, message] of cases) assert.throws(() => parseMountSpec(m as never), { kind: 'invalid', message }, JSON.stringify(m));
  });

  test('planMounts: one mount per destination; Config.Volumes fill only free places', () => {
    const plan = planMounts({ '/data': {}, '/logs': {} }, ['/h:/data'], [{ Type: 'tmpfs', Target: '/scratch' }]);
    assert.deepEqual(plan.map((m) => [m.kind, m.destination]), [['bind', '/data'], ['tmpfs', '/scratch'], ['volume', '/logs']]);
    assert.throws(() => planMounts(null, ['/a:/x', '/b:/x/'], null), { kind: 'invalid', message: /Duplicate mount point: \/x/ });
    assert.throws(() => planMounts(null, ['/a:/x'], [{ Type: 'tmpfs', Target: '/x' }]), { kind: 'invalid', message: /Duplicate mount point: \/x/ });
    assert.deepEqual(planMounts(undefined, undefined, undefined), []);
  });
});

describe('volume options, subpaths, --volumes-from', () => {
  test('--mount volume-opt is checked as the local driver checks it, and carried with volume-subpath', () => {
    const r = parseMountSpec({ Type: 'volume', Source: 'vol', Target: '/d', VolumeOptions: { DriverConfig: { Name: 'local', Options: { type: 'tmpfs', device: 'tmpfs', o: 'size=5m' } }, Subpath: 'a/b/' } });
    assert.deepEqual(r.kind === 'volume' && [r.driverOpts, r.subpath], [{ type: 'tmpfs', device: 'tmpfs', o: 'size=5m' }, 'a/b']);
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ bogus: '1' }, /invalid option: "bogus"/],
      [{ type: 'tmpfs' }, /missing required option: "device"/],
      [{ device: '/dev/sda' }, /missing required option: "type"/],
      [{ o: 'size=1m' }, /missing required option: "device"/],
      [{ size: '10m', type: 'tmpfs', device: 'tmpfs' }, /size cannot be combined with type or device/],
      [{ size: 'lots' }, /invalid volume size size "lots"/],
      [{ inodes: '100' }, /missing required option: "size"/],
      [{ size: '10m', inodes: '-1' }, /invalid volume size inode count "-1"/],
    ];
    for (const [Options, message] of cases) {
      assert.throws(() => parseMountSpec({ Type: 'volume', Source: 'vol', Target: '/d', VolumeOptions: { DriverConfig: { Options } } }), { kind: 'invalid', message }, JSON.stringify(Options));
    }
    for (const sub of ['/abs', '../up', 'a/../../b']) {
      assert.throws(() => parseMountSpec({ Type: 'volume', Source: 'vol', Target: '/d', VolumeOptions: { Subpath: sub } }), { kind: 'invalid', message: /subpath must be a relative path within the volume/ }, sub);
    }
  });

  test('bind-recursive=readonly needs readonly and a recursive rprivate bind', () => {
    const ok = parseMountSpec({ Type: 'bind', Source: '/h', Target: '/c', ReadOnly: true, BindOptions: { ReadOnlyForceRecursive: true } });
    assert.equal(ok.kind === 'bind' && ok.readOnlyForceRecursive, true);
    assert.throws(() => parseMountSpec({ Type: 'bind', Source: '/h', Target: '/c', BindOptions: { ReadOnlyForceRecursive: true } }), { kind: 'invalid', message: /must be read-only/ });
    assert.throws(() => parseMountSpec({ Type: 'bind', Source: '/h', Target: '/c', ReadOnly: true, BindOptions: { ReadOnlyForceRecursive: true, Propagation: 'rshared' } }), { kind: 'invalid', message: /rprivate/ });
  });

  test('--volumes-from specs', () => {
    assert.deepEqual(parseVolumesFrom('web'), { container: 'web', mode: '' });
    assert.deepEqual(parseVolumesFrom('web:ro'), { container: 'web', mode: 'ro' });
    assert.deepEqual(parseVolumesFrom('web:rw'), { container: 'web', mode: 'rw' });
    assert.throws(() => parseVolumesFrom('web:bogus'), { kind: 'invalid', message: /invalid mode for volumes-from: bogus/ });
    assert.throws(() => parseVolumesFrom(''), { kind: 'invalid' });
  });

  test('planMounts: destinations from --volumes-from keep image VOLUMEs out, binds still go there', () => {
    const plan = planMounts({ '/vol': {}, '/own': {} }, ['/h:/bind'], null, ['/vol', '/bind']);
    assert.deepEqual(plan.map((m) => [m.kind, m.destination]), [['bind', '/bind'], ['volume', '/own']]);
  });
});
