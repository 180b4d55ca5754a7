// unpackPlainTree: a build context unpacked in the archive worker. It must
// refuse what extractInto refuses (extract-tree.test.ts) and hand back the
// sha256 of every file it wrote.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, afterEach, describe, test } from 'node:test';
import { JoeyError } from '../errdefs/index.ts';
import { unpackPlainTree } from './apply.ts';
import { terminateWorkers } from './pool.ts';
import { getXattr } from '../sys/xattr.ts';
import { gzip, makeTar, paxEntry, sandbox, type Sandbox, type TestEntry } from './test-fixtures.ts';

let sb: Sandbox | undefined;
afterEach(async () => {
  await sb?.cleanup();
  sb = undefined;
});
after(() => terminateWorkers());

async function unpack(entries: TestEntry[] | Buffer): Promise<{ s: Sandbox; digests: Awaited<ReturnType<typeof unpackPlainTree>>; before: Record<string, string> }> {
  await sb?.cleanup(); // several in one test: only the last waits for afterEach
  sb = await sandbox();
  const s = sb;
  const before = await s.snapshot();
  const tar = Buffer.isBuffer(entries) ? entries : await makeTar(entries);
  const digests = await unpackPlainTree(Readable.from([tar]), s.layer);
  return { s, digests, before };
}

async function refused(entries: TestEntry[] | Buffer, pattern: RegExp): Promise<void> {
  const p = unpack(entries);
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof JoeyError, `a JoeyError, got ${String(err)}`);
    assert.equal(err.kind, 'invalid', err.message);
    assert.match(err.message, pattern);
    return true;
  });
  const s = sb!;
  assert.equal(await fsp.readFile(join(s.outside, 'sentinel'), 'utf8'), 'keep me');
  assert.deepEqual(await fsp.readdir(s.outside), ['sentinel']);
}

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

describe('unpackPlainTree (a build context)', () => {
  test('writes files, directories and links, and the sha256 of every file', async () => {
    const big = 'x'.repeat(300_000);
    const { s, digests } = await unpack(
      gzip(
        await makeTar([
          { name: '/Dockerfile', type: 'file', data: 'FROM x\n', mode: 0o600 },
          { name: 'src/', type: 'directory', mode: 0o750 },
          { name: 'src/big.bin', type: 'file', data: big },
          { name: 'src/.wh.not-a-whiteout', type: 'file', data: 'plain' },
          { name: 'src/link', type: 'symlink', linkname: '../Dockerfile' },
          { name: 'src/hard', type: 'link', linkname: 'src/big.bin' },
        ]),
      ),
    );
    const at = (p: string): string => join(s.layer, p);
    assert.equal(await fsp.readFile(at('Dockerfile'), 'utf8'), 'FROM x\n');
    assert.equal((await fsp.stat(at('Dockerfile'))).mode & 0o777, 0o600);
    assert.equal((await fsp.stat(at('src'))).mode & 0o777, 0o750);
    assert.equal(await fsp.readFile(at('src/.wh.not-a-whiteout'), 'utf8'), 'plain');
    assert.equal(await fsp.readlink(at('src/link')), '../Dockerfile');
    assert.equal((await fsp.stat(at('src/hard'))).ino, (await fsp.stat(at('src/big.bin'))).ino);
    assert.deepEqual(Object.fromEntries([...digests].map(([k, v]) => [k, v.digest])), {
      Dockerfile: sha('FROM x\n'),
      'src/big.bin': sha(big),
      'src/.wh.not-a-whiteout': sha('plain'),
      'src/hard': sha(big),
    });
    assert.equal(digests.get('src/big.bin')?.size, big.length);
  });

  test('refuses names and links that climb out, devices, symlink parents and broken archives', async () => {
    await refused([{ name: '../escape.txt', type: 'file', data: 'out' }], /outside of the destination/);
    await refused([{ name: 'a/../../x', type: 'file', data: 'out' }], /outside of the destination/);
    await refused([{ name: 'up', type: 'symlink', linkname: '../outside' }], /outside of the destination/);
    await refused([{ name: 'h', type: 'link', linkname: '../outside/sentinel' }], /outside of the destination/);
    await refused([{ name: 'h', type: 'link', linkname: 'missing' }], /not an earlier entry/);
    await refused(
      [
        { name: 'out', type: 'symlink', linkname: '/' },
        { name: 'out/x', type: 'file', data: 'through the link' },
      ],
      /parent "out" is a symlink/,
    );
    await refused([{ name: 'sda', type: 'block-device', devmajor: 8, devminor: 0 }], /device nodes/);
    await refused([{ name: 'null', type: 'character-device', devmajor: 0, devminor: 0 }], /device nodes/);
    await refused(Buffer.alloc(1024, 7), /tar|header|checksum/i);
  });

  test('keeps file capabilities and user.* xattrs of the context (the docker CLI sends them), not others', async () => {
    const cap = Buffer.from('0100000200200000000000000000000000000000', 'hex');
    const tar = await makeTar([
      paxEntry([
        ['path', 'bin/tool'],
        ['SCHILY.xattr.security.capability', cap],
        ['SCHILY.xattr.user.note', 'hi'],
        ['SCHILY.xattr.trusted.overlay.opaque', 'y'],
      ]),
      { name: 'bin/tool', type: 'file', data: 'ELF', mode: 0o755 },
    ]);
    const { s } = await unpack(tar);
    const at = join(s.layer, 'bin/tool');
    assert.deepEqual(await getXattr(at, 'security.capability'), cap);
    assert.deepEqual(await getXattr(at, 'user.note'), Buffer.from('hi'));
    assert.equal(await getXattr(at, 'trusted.overlay.opaque'), undefined);
  });
});
