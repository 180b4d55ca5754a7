import assert from 'node:assert/strict';
import * as fsp from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, test } from 'node:test';
import { JoeyError } from '../errdefs/index.ts';
import { checkSymlinkTarget, entryComponents, extractInto } from './extract-tree.ts';
import { ScopedRoot } from './scoped-root.ts';
import { getXattr } from '../sys/xattr.ts';
import { gzip, makeTar, paxEntry, sandbox, type Sandbox, type TestEntry } from './test-fixtures.ts';

let sb: Sandbox | undefined;
afterEach(async () => {
  await sb?.cleanup();
  sb = undefined;
});

/** A sandbox whose `layer` plays a container's rootfs, with `setup` made in it. */
async function rootfs(setup: (dir: string) => Promise<void> = async () => {}): Promise<{ s: Sandbox; at: (p: string) => string; before: Record<string, string> }> {
  sb = await sandbox();
  const s = sb;
  await setup(s.layer);
  return { s, at: (p) => join(s.layer, p), before: await s.snapshot() };
}

async function extract(dir: string, dest: string, entries: Array<TestEntry | ReturnType<typeof paxEntry>> | Buffer, opts: { noOverwriteDirNonDir?: boolean } = {}): Promise<void> {
  const tar = Buffer.isBuffer(entries) ? entries : await makeTar(entries);
  const root = await ScopedRoot.open(dir);
  try {
    const r = await root.resolve(dest, { followLast: true });
    await r.release();
    await extractInto(root, r.path, Readable.from([tar]), opts);
  } finally {
    await root.close();
  }
}

async function refused(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof JoeyError, `a JoeyError, got ${String(err)}`);
    assert.equal(err.kind, 'invalid', err.message);
    assert.match(err.message, pattern);
    return true;
  });
}

const exists = (p: string): Promise<boolean> => fsp.lstat(p).then(() => true, () => false);

describe('ScopedRoot.resolve', () => {
  test('resolves symlinks inside the root, as a chroot would', async () => {
    const { s, at } = await rootfs(async (d) => {
      await fsp.mkdir(join(d, 'etc'));
      await fsp.writeFile(join(d, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh\n');
      await fsp.symlink('/etc', join(d, 'abs'));
      await fsp.symlink('../../../../..', join(d, 'up'));
      await fsp.symlink(s0(d), join(d, 'host'));
      await fsp.symlink('loop', join(d, 'loop'));
    });
    void at;
    const root = await ScopedRoot.open(s.layer);
    try {
      const a = await root.resolve('/abs/passwd');
      assert.equal(a.path, '/etc/passwd');
      assert.ok(a.stat?.isFile());
      await a.release();
      const up = await root.resolve('/up/etc/passwd');
      assert.equal(up.path, '/etc/passwd', '".." stops at the root');
      await up.release();
      // An absolute link to the sandbox's "outside" on the host means a path of the container.
      await assert.rejects(root.resolve('/host/sentinel'), (e: unknown) => e instanceof JoeyError && e.kind === 'not-found', 'the host path is not reached');
      const last = await root.resolve('/abs');
      assert.ok(last.stat?.isSymbolicLink(), 'the last element is not followed unless asked');
      await last.release();
      await assert.rejects(root.resolve('/loop', { followLast: true }), /too many levels of symbolic links/);
      await assert.rejects(root.resolve('/etc/passwd/x'), (e: unknown) => e instanceof JoeyError && e.kind === 'not-found');
      const r = await root.resolve('/');
      assert.equal(r.path, '/');
      assert.equal(r.name, '.');
      await r.release();
    } finally {
      await root.close();
    }
  });
});

function s0(layer: string): string {
  return join(layer, '..', 'outside');
}

describe('extractInto', () => {
  test('extracts files, directories, links with their metadata', async () => {
    const { at } = await rootfs(async (d) => fsp.mkdir(join(d, 'tmp')));
    const mtime = new Date('2001-02-03T04:05:06Z');
    await extract(at('.'), '/tmp', [
      { name: 'dir/', type: 'directory', mode: 0o750, mtime },
      { name: 'dir/a.txt', type: 'file', mode: 0o640, data: 'hello\n', mtime },
      { name: 'dir/link', type: 'symlink', linkname: 'a.txt' },
      { name: 'dir/hard', type: 'link', linkname: 'dir/a.txt' },
      { name: '/abs.txt', type: 'file', data: 'x' },
      { name: 'deep/er/file', type: 'file', data: 'y' },
    ]);
    assert.equal(await fsp.readFile(at('tmp/dir/a.txt'), 'utf8'), 'hello\n');
    const st = await fsp.stat(at('tmp/dir/a.txt'));
    assert.equal(st.mode & 0o7777, 0o640);
    assert.equal(st.mtime.getTime(), mtime.getTime());
    assert.equal(st.nlink, 2, 'the hard link');
    assert.equal((await fsp.stat(at('tmp/dir'))).mode & 0o7777, 0o750);
    assert.equal((await fsp.stat(at('tmp/dir'))).mtime.getTime(), mtime.getTime(), 'directory times set last');
    assert.equal(await fsp.readlink(at('tmp/dir/link')), 'a.txt');
    assert.equal(await fsp.readFile(at('tmp/abs.txt'), 'utf8'), 'x', 'a leading "/" lands in the destination');
    assert.equal(await fsp.readFile(at('tmp/deep/er/file'), 'utf8'), 'y', 'missing parents are made');
  });

  test('a gzip archive is decompressed', async () => {
    const { at } = await rootfs();
    await extract(at('.'), '/', gzip(await makeTar([{ name: 'z', type: 'file', data: 'zipped' }])));
    assert.equal(await fsp.readFile(at('z'), 'utf8'), 'zipped');
  });

  test('refuses names that climb out of the destination', async () => {
    const { s, at, before } = await rootfs(async (d) => fsp.mkdir(join(d, 'tmp')));
    await refused(extract(at('.'), '/tmp', [{ name: '../../outside/x', type: 'file', data: 'bad' }]), /outside of the destination/);
    await refused(extract(at('.'), '/tmp', [{ name: 'a/../../x', type: 'file', data: 'bad' }]), /outside of the destination/);
    assert.deepEqual(await s.snapshot(), before);
    assert.equal(await exists(at('x')), false);
  });

  test("the container's symlinks lead inside its root, never to the host", async () => {
    const { s, at, before } = await rootfs(async (d) => {
      await fsp.symlink(s0(d), join(d, 'host')); // an absolute host path, as the container sees it
      await fsp.mkdir(join(d, s0(d)), { recursive: true });
      await fsp.symlink('../../../../../../', join(d, 'up'));
      await fsp.symlink('/etc/passwd', join(d, 'pw'));
    });
    await extract(at('.'), '/host', [{ name: 'sentinel', type: 'file', data: 'overwritten?' }]);
    await extract(at('.'), '/up', [{ name: 'etc/passwd', type: 'file', data: 'in the container' }]);
    await extract(at('.'), '/', [{ name: 'pw', type: 'file', data: 'replaces the link' }]);
    assert.deepEqual(await s.snapshot(), before, 'nothing outside the rootfs changed (host /etc/passwd included)');
    assert.equal(await fsp.readFile(join(at('.'), s0(at('.')), 'sentinel'), 'utf8'), 'overwritten?', 'written under the rootfs');
    assert.equal(await fsp.readFile(at('etc/passwd'), 'utf8'), 'in the container');
    assert.ok((await fsp.lstat(at('pw'))).isFile(), 'a symlink at the target is replaced, not followed');
  });

  test('a symlink from the archive is followed inside the root only', async () => {
    const { s, at, before } = await rootfs();
    await extract(at('.'), '/', [
      { name: 'a', type: 'symlink', linkname: '/' },
      { name: 'a/etc/shadow', type: 'file', data: 'inside' },
      { name: 'b', type: 'symlink', linkname: s0(at('.')) },
      { name: 'b/sentinel', type: 'file', data: 'inside too' },
    ]);
    assert.deepEqual(await s.snapshot(), before);
    assert.equal(await fsp.readFile(at('etc/shadow'), 'utf8'), 'inside');
    await refused(extract(at('.'), '/', [{ name: 'c', type: 'symlink', linkname: '../../etc' }]), /symlink to "..\/..\/etc" is outside/);
  });

  test('hard links must point inside the destination, and never out of the root', async () => {
    const { s, at, before } = await rootfs(async (d) => {
      await fsp.mkdir(join(d, 'tmp'));
      await fsp.symlink('/etc', join(d, 'tmp/hl'));
    });
    await refused(extract(at('.'), '/tmp', [{ name: 'x', type: 'link', linkname: '../../etc/passwd' }]), /outside of the destination/);
    // Through the container's symlink: the container's /etc/passwd, which does not exist.
    await refused(extract(at('.'), '/tmp', [{ name: 'y', type: 'link', linkname: 'hl/passwd' }]), /does not exist/);
    assert.deepEqual(await s.snapshot(), before, 'the host /etc/passwd got no link');
  });

  test('noOverwriteDirNonDir keeps directories and files from replacing each other', async () => {
    const { at } = await rootfs(async (d) => {
      await fsp.mkdir(join(d, 'd'));
      await fsp.writeFile(join(d, 'f'), 'file');
    });
    await refused(extract(at('.'), '/', [{ name: 'd', type: 'file', data: 'x' }], { noOverwriteDirNonDir: true }), /cannot overwrite directory/);
    await refused(extract(at('.'), '/', [{ name: 'f/', type: 'directory' }], { noOverwriteDirNonDir: true }), /cannot overwrite non-directory/);
    await extract(at('.'), '/', [{ name: 'f/', type: 'directory' }]);
    assert.ok((await fsp.lstat(at('f'))).isDirectory(), 'replaced without the option');
  });

  test('refuses device nodes and broken archives', async () => {
    const { at } = await rootfs();
    await refused(extract(at('.'), '/', [{ name: 'sda', type: 'block-device', devmajor: 8, devminor: 0 }]), /device nodes/);
    await refused(extract(at('.'), '/', Buffer.alloc(1024, 7)), /invalid tar|archive/i);
  });

  test('file capabilities (binary) and user.* attributes are applied after the owner; trusted.* is not', { skip: process.geteuid?.() !== 0 && 'needs root' }, async () => {
    // vfs_cap_data v2 with cap_setuid (bit 7: a 0x80 byte, which a UTF-8 round trip would mangle).
    const cap = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x80, 0x00, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const { at } = await rootfs();
    await extract(sb!.layer, '/', [
      paxEntry([['path', 'tool'], ['SCHILY.xattr.security.capability', cap], ['SCHILY.xattr.user.origin', 'test'], ['SCHILY.xattr.trusted.no', 'x']]),
      { name: 'tool', data: 'elf', uid: 1000, gid: 1000, mode: 0o755 },
      paxEntry([['path', 'dir/'], ['SCHILY.xattr.user.dir', 'yes']]),
      { name: 'dir/', type: 'directory' },
    ]);
    assert.deepEqual(await getXattr(at('tool'), 'security.capability'), cap);
    assert.deepEqual(await getXattr(at('tool'), 'user.origin'), Buffer.from('test'));
    assert.equal(await getXattr(at('tool'), 'trusted.no'), undefined);
    assert.deepEqual(await getXattr(at('dir'), 'user.dir'), Buffer.from('yes'));
    assert.equal((await fsp.stat(at('tool'))).uid, 1000);
  });

  test('entry names and symlink targets are checked lexically', () => {
    assert.deepEqual(entryComponents('./a//b/./c/'), ['a', 'b', 'c']);
    assert.deepEqual(entryComponents('a/b/../c'), ['a', 'c']);
    assert.throws(() => entryComponents('a/../../b'), /outside of the destination/);
    assert.doesNotThrow(() => checkSymlinkTarget(['a', 'b'], '../x'));
    assert.doesNotThrow(() => checkSymlinkTarget(['a'], '/etc/passwd'));
    assert.throws(() => checkSymlinkTarget(['a', 'b'], '../../x'), /outside of the destination/);
  });
});
