// The in-process xattr calls (the native addon) against the real
// filesystem, and their agreement with the getfattr/setfattr path they
// replace. Skipped where the addon was not built (`make build` builds it).
import assert from 'node:assert/strict';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { run } from './exec.ts';
import { getXattr, inProcessXattrs, listXattrs, parseGetfattrAll, readXattrsIn, setXattrsBatch, setXattrsOnFds } from './xattr.ts';

const skip = !inProcessXattrs() ? 'no native addon (make build)' : undefined;
const user = (n: string): boolean => n.startsWith('user.');

test('read and set in-process: by path without following the last symlink, by descriptor, and as getfattr sees them', { skip }, async () => {
  const dir = mkdtempSync(join(os.tmpdir(), 'joey-xattr-'));
  try {
    const file = join(dir, 'f');
    writeFileSync(file, 'x');
    mkdirSync(join(dir, 'd'));
    symlinkSync('f', join(dir, 'link'));
    // Binary values (a capability is one) and an empty one, through the path.
    await setXattrsBatch([{ path: file, attrs: { 'user.bin': Buffer.from([0, 0xff, 1]), 'user.empty': Buffer.alloc(0) } }]);
    assert.deepEqual(readXattrsIn(file, user), { 'user.bin': Buffer.from([0, 0xff, 1]), 'user.empty': Buffer.alloc(0) });
    assert.deepEqual(readXattrsIn(file, (n) => n === 'user.bin'), { 'user.bin': Buffer.from([0, 0xff, 1]) }, 'only the names kept');
    // The symlink itself has none: its target's are not read through it.
    assert.equal(readXattrsIn(join(dir, 'link'), user), undefined);
    // Through a descriptor, as COPY and cp set them.
    const fd = openSync(join(dir, 'd'), 'r');
    try {
      await setXattrsOnFds([{ fd, attrs: { 'user.dir': Buffer.from('yes') } }]);
      assert.deepEqual(readXattrsIn(fd, user), { 'user.dir': Buffer.from('yes') });
    } finally {
      closeSync(fd);
    }
    // getfattr agrees with what was set in-process, and with the walk.
    assert.deepEqual(await getXattr(file, 'user.bin'), Buffer.from([0, 0xff, 1]));
    writeFileSync(join(dir, 'd', 'inner'), '');
    await setXattrsBatch([{ path: join(dir, 'd', 'inner'), attrs: { 'user.deep': Buffer.from('1') } }]);
    // A symlink to a directory is not walked into.
    symlinkSync('d', join(dir, 'dlink'));
    const walked = await listXattrs(dir, '^user\\.');
    assert.deepEqual(walked, new Map([
      ['f', { 'user.bin': Buffer.from([0, 0xff, 1]), 'user.empty': Buffer.alloc(0) }],
      ['d', { 'user.dir': Buffer.from('yes') }],
      ['d/inner', { 'user.deep': Buffer.from('1') }],
    ]));
    const r = await run('getfattr', ['-R', '-P', '-h', '-d', '--absolute-names', '-m', '^user\\.', '-e', 'hex', '--', dir]);
    assert.deepEqual(parseGetfattrAll(r.stdout, dir), walked, 'getfattr -R sees the same');
    // A vanished entry has none; a refused attribute names itself.
    assert.equal(readXattrsIn(join(dir, 'gone'), user), undefined);
    await assert.rejects(setXattrsBatch([{ path: file, attrs: { 'bogus.ns': Buffer.from('1') } }]), /bogus\.ns/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
