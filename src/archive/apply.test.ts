import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { PassThrough, Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { JoeyError } from '../errdefs/index.ts';
import { run } from '../sys/exec.ts';
import { getXattr } from '../sys/xattr.ts';
import { applyLayer } from './apply.ts';
import { idleWorkers, terminateWorkers } from './pool.ts';
import { gzip, makeTar, paxEntry, rawEntry, sandbox, sha256 } from './test-fixtures.ts';
import type { RawBlocks, Sandbox, TestEntry } from './test-fixtures.ts';

const T2001 = new Date('2001-02-03T04:05:06Z');
const T1999 = new Date('1999-12-31T00:00:00Z');

let sb: Sandbox;
async function fresh(): Promise<Sandbox> {
  await sb?.cleanup();
  sb = await sandbox();
  return sb;
}
after(() => sb?.cleanup());

async function apply(entries: Array<TestEntry | RawBlocks> | Buffer, opts: { gzip?: boolean } = {}) {
  const s = await fresh();
  let tar = Buffer.isBuffer(entries) ? entries : await makeTar(entries);
  if (opts.gzip) tar = gzip(tar);
  const result = await applyLayer(Readable.from([tar]), s.layer);
  return { s, result, at: (p: string) => join(s.layer, p) };
}

/** Applies `input`, expects a data-loss error whose message matches `names`,
 * and checks that nothing outside the layer directory changed. */
async function rejectsHostile(
  input: Array<TestEntry | RawBlocks> | Buffer | ((s: Sandbox) => Array<TestEntry | RawBlocks>),
  names: RegExp[],
  kind = 'data-loss',
): Promise<JoeyError> {
  const s = await fresh();
  const entries = typeof input === 'function' ? input(s) : input;
  const tar = Buffer.isBuffer(entries) ? entries : await makeTar(entries);
  const beforeSnap = await s.snapshot();
  const src = Readable.from([tar]);
  let caught: unknown;
  await applyLayer(src, s.layer).catch((err: unknown) => (caught = err));
  assert.ok(caught instanceof JoeyError, `expected a JoeyError, got ${String(caught)}`);
  assert.equal(caught.kind, kind, caught.message);
  for (const re of names) assert.match(caught.message, re);
  assert.deepEqual(await s.snapshot(), beforeSnap, 'something outside the layer changed');
  assert.ok(src.destroyed, 'input stream destroyed');
  return caught;
}

describe('applyLayer: hostile layers', () => {
  test('absolute path', async () => {
    await rejectsHostile([{ name: '/etc/passwd', data: 'root::0:0::/:/bin/sh\n' }], [/"\/etc\/passwd"/, /absolute/]);
  });

  test('../ escape', async () => {
    await rejectsHostile([{ name: '../x', data: 'x' }], [/"\.\.\/x"/, /escapes/]);
  });

  test('a/../../x escape', async () => {
    await rejectsHostile([{ name: 'a/', type: 'directory' }, { name: 'a/../../x', data: 'x' }], [/"a\/\.\.\/\.\.\/x"/, /escapes/]);
  });

  test('file under a symlink to an absolute path', async () => {
    await rejectsHostile(
      (s) => [
        { name: 'evil', type: 'symlink', linkname: s.outside },
        { name: 'evil/x', data: 'pwned' },
      ],
      [/"evil\/x"/, /parent "evil" is a symlink/],
    );
  });

  test('file under a symlink to ..', async () => {
    await rejectsHostile(
      [
        { name: 'l', type: 'symlink', linkname: '..' },
        { name: 'l/x', data: 'pwned' },
      ],
      [/"l\/x"/, /parent "l" is a symlink/],
    );
  });

  test('directory under a symlink (deeper)', async () => {
    await rejectsHostile(
      [
        { name: 'd/', type: 'directory' },
        { name: 'd/l', type: 'symlink', linkname: '../..' },
        { name: 'd/l/sub/x', data: 'pwned' },
      ],
      [/"d\/l\/sub\/x"/, /parent "d\/l" is a symlink/],
    );
  });

  test('hardlink to /etc/passwd', async () => {
    await rejectsHostile([{ name: 'pw', type: 'link', linkname: '/etc/passwd' }], [/"pw"/, /"\/etc\/passwd"/]);
  });

  test('hardlink to ../outside', async () => {
    await rejectsHostile([{ name: 'o', type: 'link', linkname: '../outside/sentinel' }], [/"o"/, /"\.\.\/outside\/sentinel"/, /escapes/]);
  });

  test('hardlink to a file not in the layer', async () => {
    await rejectsHostile([{ name: 'h', type: 'link', linkname: 'bin/missing' }], [/"h"/, /"bin\/missing"/, /not an earlier entry/]);
  });

  test('hardlink to a directory', async () => {
    await rejectsHostile(
      [
        { name: 'd/', type: 'directory' },
        { name: 'h', type: 'link', linkname: 'd' },
      ],
      [/"h"/, /"d"/, /is a directory/],
    );
  });

  test('hardlink through a symlinked parent', async () => {
    await rejectsHostile(
      [
        { name: 'l', type: 'symlink', linkname: '/etc' },
        { name: 'h', type: 'link', linkname: 'l/passwd' },
      ],
      [/"h"/, /"l\/passwd"/],
    );
  });

  test('character device', async () => {
    await rejectsHostile(
      [{ name: 'dev/sda', type: 'character-device', devmajor: 8, devminor: 0 }],
      [/device node "dev\/sda" is not allowed in a layer/],
    );
  });

  test('block device', async () => {
    await rejectsHostile(
      [{ name: 'dev/sda', type: 'block-device', devmajor: 8, devminor: 0 }],
      [/device node "dev\/sda" is not allowed in a layer/],
    );
  });

  test('whiteout .wh.../../x', async () => {
    await rejectsHostile([{ name: '.wh.../../x', data: '' }], [/"\.wh\.\.\.\/\.\.\/x"/]);
  });

  test('whiteout of ..', async () => {
    await rejectsHostile([{ name: 'a/.wh...', data: '' }], [/"a\/\.wh\.\.\."/]);
  });

  test('opaque marker and whiteout under a symlink', async () => {
    await rejectsHostile(
      (s) => [
        { name: 'l', type: 'symlink', linkname: s.outside },
        { name: 'l/.wh..wh..opq', data: '' },
      ],
      [/"l\/\.wh\.\.wh\.\.opq"/, /parent "l" is a symlink/],
    );
    await rejectsHostile(
      (s) => [
        { name: 'l', type: 'symlink', linkname: s.outside },
        { name: 'l/.wh.sentinel', data: '' },
      ],
      [/"l\/\.wh\.sentinel"/, /parent "l" is a symlink/],
    );
  });

  test('file under a regular file', async () => {
    await rejectsHostile(
      [
        { name: 'f', data: 'x' },
        { name: 'f/x', data: 'y' },
      ],
      [/"f\/x"/, /parent "f" is not a directory/],
    );
  });

  test('truncated gzip', async () => {
    const tar = await makeTar([{ name: 'big', data: Buffer.alloc(200_000, 7) }]);
    const gz = gzip(tar);
    await rejectsHostile(gz.subarray(0, gz.length >> 1), [/gzip/]);
  });

  test('truncated tar', async () => {
    const tar = await makeTar([{ name: 'big', data: Buffer.alloc(4_000_000, 7) }]);
    await rejectsHostile(tar.subarray(0, 2_000_000), [/truncated/, /"big"/]);
  });

  test('corrupt tar header', async () => {
    const tar = await makeTar([
      { name: 'ok', data: 'fine' },
      { name: 'bad', data: 'x' },
    ]);
    tar[1024 + 1] ^= 0x20; // a byte of the second header's name: the checksum no longer matches
    await rejectsHostile(tar, [/corrupt tar header/, /offset 1024/, /checksum/]);
  });

  test('trusted.overlay xattrs are not taken from a layer', async () => {
    const { at } = await apply([
      { name: 'd/', type: 'directory' },
      paxEntry([
        ['path', 'f'],
        ['SCHILY.xattr.trusted.overlay.opaque', 'y'],
        ['SCHILY.xattr.trusted.overlay.redirect', '/etc'],
      ]),
      { name: 'f', data: 'x' },
    ]);
    assert.equal(await getXattr(at('f'), 'trusted.overlay.opaque'), undefined);
    assert.equal(await getXattr(at('f'), 'trusted.overlay.redirect'), undefined);
  });
});

describe('applyLayer: content', () => {
  test('files keep mode, owner and mtime', async () => {
    const { at, result } = await apply([
      { name: 'etc/', type: 'directory', mode: 0o750, uid: 7, gid: 8, mtime: T1999 },
      { name: 'etc/conf', data: 'hello', mode: 0o640, uid: 1000, gid: 1001, mtime: T2001 },
      { name: 'etc/wide', data: 'w', mode: 0o777, mtime: T2001 },
    ]);
    const st = await fsp.stat(at('etc/conf'));
    assert.equal(st.mode & 0o7777, 0o640);
    assert.equal(st.uid, 1000);
    assert.equal(st.gid, 1001);
    assert.equal(st.mtimeMs, T2001.getTime());
    assert.equal(await fsp.readFile(at('etc/conf'), 'utf8'), 'hello');
    assert.equal((await fsp.stat(at('etc/wide'))).mode & 0o7777, 0o777, 'umask does not apply');
    const d = await fsp.stat(at('etc'));
    assert.equal(d.mode & 0o7777, 0o750);
    assert.equal(`${d.uid}:${d.gid}`, '7:8');
    assert.equal(d.mtimeMs, T1999.getTime(), 'directory mtime survives the creation of its children');
    assert.equal(result.size, 6);
  });

  test('setuid and setgid bits survive chown', async () => {
    const { at } = await apply([
      { name: 'bin/su', data: 'ELF', mode: 0o4755, uid: 1000, gid: 1000 },
      { name: 'bin/wall', data: 'ELF', mode: 0o2755, uid: 0, gid: 5 },
      { name: 'tmp/', type: 'directory', mode: 0o1777 },
    ]);
    assert.equal((await fsp.stat(at('bin/su'))).mode & 0o7777, 0o4755);
    assert.equal((await fsp.stat(at('bin/wall'))).mode & 0o7777, 0o2755);
    assert.equal((await fsp.stat(at('tmp'))).mode & 0o7777, 0o1777);
  });

  test('missing parents are created 0755 and root-owned', async () => {
    const { at } = await apply([{ name: 'a/b/c/f', data: 'x', uid: 1000, gid: 1000 }]);
    for (const d of ['a', 'a/b', 'a/b/c']) {
      const st = await fsp.stat(at(d));
      assert.equal(st.mode & 0o7777, 0o755, d);
      assert.equal(`${st.uid}:${st.gid}`, '0:0', d);
    }
  });

  test('files in a setgid directory get the owner the entry says', async () => {
    const { at } = await apply([
      { name: 'shared/', type: 'directory', mode: 0o2775, gid: 50 },
      { name: 'shared/f', data: 'x', mode: 0o644, uid: 0, gid: 0 },
      { name: 'shared/sub/', type: 'directory', mode: 0o755 },
    ]);
    assert.equal((await fsp.stat(at('shared/f'))).gid, 0);
    const sub = await fsp.stat(at('shared/sub'));
    assert.equal(sub.gid, 0);
    assert.equal(sub.mode & 0o7777, 0o755);
  });

  test('symlinks keep their target, owner and mtime and are not followed', async () => {
    const { at } = await apply([
      { name: 'bin/sh', type: 'symlink', linkname: '/bin/busybox', uid: 1000, gid: 1000, mtime: T2001 },
      { name: 'etc/passwd', type: 'symlink', linkname: '/etc/passwd' },
    ]);
    assert.equal(await fsp.readlink(at('bin/sh')), '/bin/busybox');
    const st = await fsp.lstat(at('bin/sh'));
    assert.ok(st.isSymbolicLink());
    assert.equal(st.uid, 1000);
    assert.equal(st.mtimeMs, T2001.getTime());
    assert.equal(await fsp.readlink(at('etc/passwd')), '/etc/passwd');
  });

  test('hardlinks share the inode', async () => {
    const { at } = await apply([
      { name: 'usr/bin/perl', data: 'ELF', mode: 0o755 },
      { name: 'usr/bin/perl5', type: 'link', linkname: './usr/bin/perl', mode: 0o755 },
    ]);
    const a = await fsp.stat(at('usr/bin/perl'));
    const b = await fsp.stat(at('usr/bin/perl5'));
    assert.equal(a.ino, b.ino);
    assert.equal(a.nlink, 2);
  });

  test('fifo', async () => {
    const { at } = await apply([{ name: 'run/ctl', type: 'fifo', mode: 0o620, uid: 3, gid: 4, mtime: T2001 }]);
    const st = await fsp.lstat(at('run/ctl'));
    assert.ok(st.isFIFO());
    assert.equal(st.mode & 0o7777, 0o620);
    assert.equal(`${st.uid}:${st.gid}`, '3:4');
    assert.equal(st.mtimeMs, T2001.getTime());
  });

  test('empty directory mtime', async () => {
    const { at } = await apply([
      { name: 'empty/', type: 'directory', mtime: T1999 },
      { name: 'full/', type: 'directory', mtime: T1999 },
      { name: 'full/a/b', data: 'x' },
    ]);
    assert.equal((await fsp.stat(at('empty'))).mtimeMs, T1999.getTime());
    assert.equal((await fsp.stat(at('full'))).mtimeMs, T1999.getTime());
  });

  test('root entry "./" sets the layer root metadata', async () => {
    const { at, s } = await apply([
      { name: './', type: 'directory', mode: 0o700, mtime: T1999 },
      { name: './f', data: 'x' },
    ]);
    const st = await fsp.stat(s.layer);
    assert.equal(st.mode & 0o7777, 0o700);
    assert.equal(st.mtimeMs, T1999.getTime());
    assert.equal(await fsp.readFile(at('f'), 'utf8'), 'x');
  });

  test('a bare "/" entry is the layer root, not an absolute path', async () => {
    const { at, s } = await apply([
      { name: '/', type: 'directory', mode: 0o755, mtime: T1999 },
      { name: 'f', data: 'x' },
    ]);
    assert.equal((await fsp.stat(s.layer)).mode & 0o7777, 0o755);
    assert.equal(await fsp.readFile(at('f'), 'utf8'), 'x');
  });

  test('whiteout becomes a 0/0 character device', async () => {
    const { at } = await apply([
      { name: 'etc/', type: 'directory', mtime: T1999 },
      { name: 'etc/.wh.motd', data: '' },
      { name: '.wh.gone', data: '' },
      { name: 'deep/er/.wh.x', data: '' },
    ]);
    for (const p of ['etc/motd', 'gone', 'deep/er/x']) {
      const st = await fsp.lstat(at(p));
      assert.ok(st.isCharacterDevice(), p);
      assert.equal(st.rdev, 0, p);
    }
    await assert.rejects(fsp.lstat(at('etc/.wh.motd')), { code: 'ENOENT' });
    assert.equal((await fsp.stat(at('etc'))).mtimeMs, T1999.getTime(), 'whiteouts are made before directory times');
  });

  test('whiteouts with long paths', async () => {
    const dir = `${'d'.repeat(120)}/${'e'.repeat(120)}`;
    const { at } = await apply([{ name: `${dir}/.wh.${'w'.repeat(200)}`, data: '' }]);
    assert.ok((await fsp.lstat(at(`${dir}/${'w'.repeat(200)}`))).isCharacterDevice());
  });

  test('a whiteout replaces an earlier entry and yields to a later one', async () => {
    const { at } = await apply([
      { name: 'a', data: 'x' },
      { name: '.wh.a', data: '' },
      { name: 'd/', type: 'directory' },
      { name: 'd/f', data: 'x' },
      { name: '.wh.d', data: '' },
      { name: '.wh.b', data: '' },
      { name: 'b/c', data: 'back' },
    ]);
    assert.ok((await fsp.lstat(at('a'))).isCharacterDevice());
    assert.ok((await fsp.lstat(at('d'))).isCharacterDevice());
    assert.equal(await fsp.readFile(at('b/c'), 'utf8'), 'back');
  });

  test('a 0/0 character device entry is a whiteout', async () => {
    const { at } = await apply([{ name: 'gone', type: 'character-device', devmajor: 0, devminor: 0 }]);
    assert.ok((await fsp.lstat(at('gone'))).isCharacterDevice());
  });

  test('opaque directory', async () => {
    const { at } = await apply([
      { name: 'var/', type: 'directory' },
      { name: 'var/.wh..wh..opq', data: '' },
      { name: 'new/.wh..wh..opq', data: '' },
      { name: '.wh..wh.plnk/', type: 'directory' },
      { name: '.wh..wh.plnk/123.456', data: 'aufs hardlink store' },
    ]);
    for (const d of ['var', 'new']) {
      const r = await run('getfattr', ['--only-values', '-n', 'trusted.overlay.opaque', at(d)]);
      assert.equal(r.stdout, 'y', d);
    }
    await assert.rejects(fsp.lstat(at('var/.wh..wh..opq')), { code: 'ENOENT' });
    await assert.rejects(fsp.lstat(at('.wh..wh.plnk')), { code: 'ENOENT' });
  });

  test('a later entry replaces an earlier one', async () => {
    const { at } = await apply([
      { name: 'f', data: 'one' },
      { name: 'f', data: 'two', mode: 0o600 },
      { name: 'l', type: 'symlink', linkname: '/nowhere' },
      { name: 'l', data: 'now a file' },
      { name: 'd/', type: 'directory' },
      { name: 'd/child', data: 'gone with d' },
      { name: 'd', data: 'now a file too' },
      { name: 'keep/', type: 'directory', mode: 0o755 },
      { name: 'keep/child', data: 'stays' },
      { name: 'keep/', type: 'directory', mode: 0o700 },
      { name: 'x', data: 'file' },
      { name: 'x/', type: 'directory' },
      { name: 'x/y', data: 'in dir' },
    ]);
    assert.equal(await fsp.readFile(at('f'), 'utf8'), 'two');
    assert.equal((await fsp.stat(at('f'))).mode & 0o777, 0o600);
    assert.equal(await fsp.readFile(at('l'), 'utf8'), 'now a file');
    assert.equal(await fsp.readFile(at('d'), 'utf8'), 'now a file too');
    assert.equal(await fsp.readFile(at('keep/child'), 'utf8'), 'stays');
    assert.equal((await fsp.stat(at('keep'))).mode & 0o777, 0o700);
    assert.equal(await fsp.readFile(at('x/y'), 'utf8'), 'in dir');
  });

  test('a symlink replaced by a directory can be a parent', async () => {
    const { at } = await apply([
      { name: 'lib', type: 'symlink', linkname: 'usr/lib' },
      { name: 'lib/', type: 'directory' },
      { name: 'lib/x', data: 'x' },
    ]);
    assert.equal(await fsp.readFile(at('lib/x'), 'utf8'), 'x');
  });

  test('xattrs: user.* and a binary security.capability are set, others skipped', async () => {
    // cap_setuid (bit 7) gives a 0x80 byte, which a UTF-8 round trip would mangle.
    const cap = Buffer.from('0100000280000000000000000000000000000000', 'hex');
    const { at } = await apply([
      paxEntry([
        ['path', 'bin/ping'],
        ['SCHILY.xattr.security.capability', cap],
        ['SCHILY.xattr.user.note', 'hi'],
        ['SCHILY.xattr.security.selinux', 'system_u:object_r:bin_t:s0'],
      ]),
      { name: 'bin/ping', data: 'ELF', mode: 0o755, uid: 1000 },
      { name: 'bin/ping2', type: 'link', linkname: 'bin/ping', mode: 0o755, uid: 1000 },
    ]);
    assert.deepEqual(await getXattr(at('bin/ping'), 'security.capability'), cap);
    assert.deepEqual(await getXattr(at('bin/ping'), 'user.note'), Buffer.from('hi'));
    assert.equal(await getXattr(at('bin/ping'), 'security.selinux'), undefined);
  });

  test('long names and link names (pax)', async () => {
    const long = `${'d'.repeat(120)}/${'f'.repeat(150)}`;
    const { at } = await apply([
      { name: long, data: 'deep' },
      { name: 'l', type: 'symlink', linkname: '/'.concat('t'.repeat(200)) },
      { name: 'h', type: 'link', linkname: long },
    ]);
    assert.equal(await fsp.readFile(at(long), 'utf8'), 'deep');
    assert.equal(await fsp.readlink(at('l')), '/'.concat('t'.repeat(200)));
    assert.equal((await fsp.stat(at('h'))).ino, (await fsp.stat(at(long))).ino);
  });

  test('large files are streamed intact', async () => {
    const big = Buffer.alloc(5_000_000);
    for (let i = 0; i < big.length; i += 4) big.writeUInt32LE(i, i);
    const { at, result } = await apply([{ name: 'big', data: big, mode: 0o600, mtime: T2001 }], { gzip: true });
    assert.ok((await fsp.readFile(at('big'))).equals(big));
    const st = await fsp.stat(at('big'));
    assert.equal(st.mtimeMs, T2001.getTime());
    assert.equal(st.mode & 0o777, 0o600);
    assert.equal(result.size, big.length);
  });
});

describe('applyLayer: stream', () => {
  let tar: Buffer;
  before(async () => {
    tar = await makeTar([
      { name: 'a/', type: 'directory' },
      { name: 'a/f', data: 'x'.repeat(3000) },
      { name: 'b', data: Buffer.alloc(1_500_000, 1) },
    ]);
    // Writers pad the archive to a record; the padding is part of the diff id.
    tar = Buffer.concat([tar, Buffer.alloc(10240 - (tar.length % 10240))]);
  });

  test('plain tar: diffId is the sha256 of every byte', async () => {
    const { result } = await apply(tar);
    assert.deepEqual(result, { diffId: sha256(tar), size: 1_503_000, compression: 'none' });
  });

  test('gzip: diffId is the sha256 of the uncompressed tar', async () => {
    const { result, at } = await apply(tar, { gzip: true });
    assert.deepEqual(result, { diffId: sha256(tar), size: 1_503_000, compression: 'gzip' });
    assert.equal((await fsp.stat(at('b'))).size, 1_500_000);
  });

  test('bytes after the end-of-archive are hashed, not parsed', async () => {
    const junk = Buffer.concat([tar, Buffer.from('trailing garbage that is no tar header at all'.repeat(20))]);
    const { result } = await apply(junk);
    assert.equal(result.diffId, sha256(junk));
  });

  test('small input chunks', async () => {
    const s = await fresh();
    const gz = gzip(tar);
    const pieces: Buffer[] = [];
    for (let i = 0; i < gz.length; i += 7) pieces.push(gz.subarray(i, i + 7));
    const result = await applyLayer(Readable.from(pieces), s.layer);
    assert.equal(result.diffId, sha256(tar));
  });

  test('an empty stream is an empty layer', async () => {
    const { result } = await apply(Buffer.alloc(0));
    assert.equal(result.diffId, sha256(Buffer.alloc(0)));
  });

  test('progress reports uncompressed bytes', async () => {
    const s = await fresh();
    const seen: number[] = [];
    await applyLayer(Readable.from([gzip(tar)]), s.layer, { onProgress: (n) => seen.push(n) });
    assert.equal(seen.at(-1), tar.length);
  });

  for (const [kind, args] of [['zstd', ['zstd', '-q', '-c']], ['xz', ['xz', '-c']], ['bzip2', ['bzip2', '-c']]] as const) {
    test(`${kind}: unpacked through the ${args[0]} program, diffId of the plain tar`, async () => {
      const packed = execFileSync(args[0], args.slice(1), { input: tar, maxBuffer: 64 << 20 });
      const { result, at } = await apply(packed);
      assert.deepEqual(result, { diffId: sha256(tar), size: 1_503_000, compression: kind });
      assert.equal(await fsp.readFile(at('a/f'), 'utf8'), 'x'.repeat(3000));
    });
  }

  test('a corrupt zstd stream is data loss in zstd\'s words, and the input is let go', async () => {
    const s = await fresh();
    const packed = execFileSync('zstd', ['-q', '-c'], { input: tar });
    packed.fill(0x55, 20, packed.length - 20);
    const src = Readable.from([packed]);
    await assert.rejects(applyLayer(src, s.layer), (err: JoeyError) => {
      assert.equal(err.kind, 'data-loss');
      assert.match(err.message, /corrupt zstd stream: \S/);
      return true;
    });
    assert.ok(src.destroyed);
  });

  test('a truncated xz stream is data loss', async () => {
    const s = await fresh();
    const packed = execFileSync('xz', ['-c'], { input: tar });
    await assert.rejects(applyLayer(Readable.from([packed.subarray(0, packed.length >> 1)]), s.layer), (err: JoeyError) => {
      assert.equal(err.kind, 'data-loss');
      assert.match(err.message, /corrupt xz stream/);
      return true;
    });
  });

  test('a non-empty target is refused', async () => {
    const s = await fresh();
    await fsp.writeFile(join(s.layer, 'x'), '');
    await assert.rejects(applyLayer(Readable.from([tar]), s.layer), { kind: 'invalid' });
  });

  test('an input error mid-stream rejects and destroys the input', async () => {
    const s = await fresh();
    const input = new PassThrough();
    const p = applyLayer(input, s.layer);
    input.write(gzip(tar).subarray(0, 1000));
    setTimeout(() => input.destroy(new Error('connection reset')), 20);
    await assert.rejects(p, /connection reset/);
    assert.ok(input.destroyed);
  });

  test('an input that fails before it is read', async () => {
    const s = await fresh();
    const input = new PassThrough();
    const p = applyLayer(input, s.layer);
    input.destroy(new Error('connection reset'));
    await assert.rejects(p, /connection reset/);
    assert.ok(input.destroyed);
  });

  test('abort rejects with canceled and destroys the input', async () => {
    const s = await fresh();
    const input = new PassThrough();
    const ac = new AbortController();
    const p = applyLayer(input, s.layer, { signal: ac.signal });
    input.write(tar.subarray(0, 2048)); // then nothing more: the apply waits
    setTimeout(() => ac.abort(), 20);
    await assert.rejects(p, { kind: 'canceled' });
    assert.ok(input.destroyed);
  });

  test('an aborted signal rejects at once', async () => {
    const s = await fresh();
    const input = Readable.from([tar]);
    await assert.rejects(applyLayer(input, s.layer, { signal: AbortSignal.abort() }), { kind: 'canceled' });
    assert.ok(input.destroyed);
  });
});

describe('applyLayer: worker threads', () => {
  after(() => terminateWorkers());

  test('workers are reused, one per concurrent layer', async () => {
    await terminateWorkers();
    const tar = await makeTar([{ name: 'a/f', data: 'x' }]);
    for (let i = 0; i < 3; i++) await apply(tar);
    assert.equal(idleWorkers(), 1);
    const boxes = await Promise.all([0, 1, 2].map(() => sandbox()));
    try {
      const tars = await Promise.all([0, 1, 2].map((i) => makeTar([{ name: `f${i}`, data: Buffer.alloc(300_000 + i, i) }])));
      const results = await Promise.all(boxes.map((b, i) => applyLayer(Readable.from([gzip(tars[i]!)]), b.layer)));
      for (const [i, r] of results.entries()) {
        assert.equal(r.diffId, sha256(tars[i]!));
        assert.equal((await fsp.stat(join(boxes[i]!.layer, `f${i}`))).size, 300_000 + i);
      }
      assert.equal(idleWorkers(), 3);
    } finally {
      await Promise.all(boxes.map((b) => b.cleanup()));
    }
  });

  test("the daemon's event loop stays free while a layer is unpacked", async () => {
    const entries: TestEntry[] = [];
    for (let i = 0; i < 3000; i++) entries.push({ name: `d${i % 30}/f${i}`, data: Buffer.alloc(2000, i) });
    const tar = gzip(await makeTar(entries));
    const s = await fresh();
    const elu0 = performance.eventLoopUtilization();
    await applyLayer(Readable.from([tar]), s.layer);
    const elu = performance.eventLoopUtilization(elu0);
    // Unpacked on this thread, the loop would be busy nearly all the time.
    assert.ok(elu.utilization < 0.5, `event loop utilization ${elu.utilization.toFixed(2)}`);
    assert.equal((await fsp.readdir(join(s.layer, 'd7'))).length, 100);
  });

  test('the input is read at most a bounded window ahead of the worker', async () => {
    const size = 48 << 20;
    const header = rawEntry({ name: 'big', typeflag: '0', size }).raw;
    const chunk = Buffer.alloc(64 << 10, 0x5a);
    let produced = 0;
    let seen = 0;
    let ahead = 0;
    let sent = 0;
    const input = new Readable({
      highWaterMark: 64 << 10,
      read() {
        ahead = Math.max(ahead, produced - seen);
        if (sent === 0) {
          sent = 1;
          produced += header.length;
          this.push(header);
        } else if (produced < header.length + size) {
          produced += chunk.length;
          this.push(chunk);
        } else {
          this.push(Buffer.alloc(1024));
          this.push(null);
        }
      },
    });
    const s = await fresh();
    const result = await applyLayer(input, s.layer, { onProgress: (n) => (seen = n) });
    assert.equal(result.size, size);
    assert.equal((await fsp.stat(join(s.layer, 'big'))).size, size);
    assert.ok(ahead <= 10 << 20, `read ${ahead} bytes ahead of the worker`);
  });

  test('a worker that dies fails the apply; the next one gets a new worker', async () => {
    const s = await fresh();
    const input = new PassThrough();
    let started!: () => void;
    const progressed = new Promise<void>((resolve) => (started = resolve));
    const p = applyLayer(input, s.layer, { onProgress: () => started() });
    input.write(await makeTar([{ name: 'a', data: 'x' }]).then((t) => t.subarray(0, 1024)));
    await progressed;
    const outcome = assert.rejects(p, (err: JoeyError) => {
      assert.equal(err.kind, 'internal');
      assert.match(err.message, /layer worker died/);
      return true;
    });
    await terminateWorkers();
    await outcome;
    assert.ok(input.destroyed);
    const { at } = await apply([{ name: 'after', data: 'ok' }]);
    assert.equal(await fsp.readFile(at('after'), 'utf8'), 'ok');
  });

  test('a throwing progress callback fails the apply', async () => {
    const s = await fresh();
    const input = Readable.from([await makeTar([{ name: 'f', data: 'x' }])]);
    const onProgress = () => {
      throw new Error('display gone');
    };
    await assert.rejects(applyLayer(input, s.layer, { onProgress }), /display gone/);
    assert.ok(input.destroyed);
  });

  test('abort in the middle of a big file closes it', async () => {
    const fds = async () => (await fsp.readdir('/proc/self/fd')).length;
    await apply([{ name: 'warm', data: 'x' }]); // a worker is started and idle
    const before = await fds();
    const s = await fresh();
    const tar = await makeTar([{ name: 'big', data: Buffer.alloc(3_000_000, 1) }]);
    const input = new PassThrough();
    const ac = new AbortController();
    let half!: () => void;
    const halfway = new Promise<void>((resolve) => (half = resolve));
    const p = applyLayer(input, s.layer, { signal: ac.signal, onProgress: (n) => n > 1_000_000 && half() });
    input.write(tar.subarray(0, 2_000_000));
    await halfway;
    ac.abort();
    await assert.rejects(p, { kind: 'canceled' });
    assert.ok(input.destroyed);
    assert.equal(await fds(), before, 'file descriptors left open');
  });
});
