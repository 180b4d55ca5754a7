// Mounting natively (the addon) and through mount(8): the same mounts, the
// same errors. The mounting tests need root and the built addon.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { isFilesystemRoot, isMountPoint, mount, mountCall, readMountInfo, unmount } from './mount.ts';
import { MS, nativeSys } from './native.ts';

const skip = (process.getuid?.() !== 0 && 'needs root') || (!nativeSys() && 'the native addon is not built (make build)');

test('mount options split into mount(2) flags and data; the rest is left to mount(8)', () => {
  assert.deepEqual(mountCall('tmpfs', ['nosuid', 'nodev', 'noexec', 'mode=1777', 'size=65536k']), {
    fstype: 'tmpfs',
    flags: MS.NOSUID | MS.NODEV | MS.NOEXEC,
    data: ['mode=1777', 'size=65536k'],
  });
  assert.deepEqual(mountCall('overlay', ['index=off', 'workdir=/w', 'upperdir=/u', 'lowerdir=/a:/b']), { fstype: 'overlay', flags: 0, data: ['index=off', 'workdir=/w', 'upperdir=/u', 'lowerdir=/a:/b'] });
  // a read-only bind is a bind, then a remount
  assert.deepEqual(mountCall('bind', ['rbind', 'ro']), { fstype: null, flags: MS.BIND | MS.REC, data: [], remount: MS.RDONLY | MS.REMOUNT | MS.BIND });
  assert.deepEqual(mountCall('bind', ['rbind', 'rw']), { fstype: null, flags: MS.BIND | MS.REC, data: [] });
  assert.equal(mountCall('tmpfs', ['ro', 'rw'])?.flags, 0, 'the later word wins');
  // mount(8)'s business: other filesystems (helpers), propagation, its own words
  assert.equal(mountCall('nfs', ['addr=10.0.0.1']), undefined);
  assert.equal(mountCall('bind', ['rbind', 'rprivate']), undefined);
  assert.equal(mountCall('tmpfs', ['defaults']), undefined);
  assert.equal(mountCall('bind', ['bind', 'size=1']), undefined);
});

test('native mounts: tmpfs with flags, a read-only bind, overlay; unmount; errors name the path', { skip }, async () => {
  const dir = mkdtempSync(join(os.tmpdir(), 'joey-mount-'));
  try {
    const t = join(dir, 't');
    mkdirSync(t);
    await mount({ type: 'tmpfs', source: 'joeytest', options: ['nosuid', 'nodev', 'mode=700', 'size=1m'] }, t);
    const mi = (await readMountInfo()).find((m) => m.target === t);
    assert.ok(mi, 'the tmpfs is in the mount table');
    assert.equal(mi.fstype, 'tmpfs');
    assert.match(mi.options, /nosuid,nodev/);
    assert.match(mi.superOptions, /size=1024k,mode=700/);
    writeFileSync(join(t, 'f'), 'x');

    const b = join(dir, 'b');
    mkdirSync(b);
    await mount({ type: 'bind', source: t, options: ['rbind', 'ro'] }, b);
    assert.equal(readFileSync(join(b, 'f'), 'utf8'), 'x');
    assert.throws(() => writeFileSync(join(b, 'g'), 'y'), /EROFS/);
    assert.equal(await isMountPoint(b), true);
    await unmount(b);
    assert.equal(await isMountPoint(b), false);

    const [l, u, w, o] = ['l', 'u', 'w', 'o'].map((n) => join(dir, n));
    for (const d of [l, u, w, o]) mkdirSync(d);
    writeFileSync(join(l, 'low'), 'from below');
    await mount({ type: 'overlay', source: 'overlay', options: [`workdir=${w}`, `upperdir=${u}`, `lowerdir=${l}`] }, o);
    assert.equal(await isFilesystemRoot(o), true);
    assert.equal(readFileSync(join(o, 'low'), 'utf8'), 'from below');
    writeFileSync(join(o, 'up'), 'written');
    assert.equal(readFileSync(join(u, 'up'), 'utf8'), 'written');
    await unmount(o);
    assert.equal(await isFilesystemRoot(o), false);

    const spaced = join(dir, 'a b\tc');
    mkdirSync(spaced);
    await mount({ type: 'tmpfs', source: 'joeytest', options: [] }, spaced);
    assert.equal(await isMountPoint(spaced), true, 'a path that mountinfo escapes');
    await unmount(spaced);
    assert.equal(await isMountPoint(spaced), false);

    await unmount(t, { lazy: true });
    await assert.rejects(unmount(t), (e: Error & { kind?: string }) => e.kind === 'not-found' && e.message.includes(t));
    await assert.rejects(mount({ type: 'tmpfs', source: 'x', options: [] }, join(dir, 'missing')), /missing: No such file or directory/);
    await assert.rejects(mount({ type: 'overlay', source: 'overlay', options: [`lowerdir=${join(dir, 'nope')}`] }, o), /mount -t overlay overlay .*\/o: No such file or directory/);
  } finally {
    for (const m of (await readMountInfo()).filter((m) => m.target.startsWith(dir)).reverse()) await unmount(m.target, { lazy: true }).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
});
