import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import tarStream from 'tar-stream';
import { execFileSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { ARCHIVE_MAGIC_BYTES, isTarFile } from './archive-kind.ts';

function tarOf(files: Record<string, Buffer | string>): Promise<Buffer> {
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    pack.on('data', (c: Buffer) => chunks.push(c));
    pack.on('end', () => resolve(Buffer.concat(chunks)));
    pack.on('error', reject);
  });
  for (const [name, content] of Object.entries(files)) pack.entry({ name, mode: 0o644 }, Buffer.from(content));
  pack.finalize();
  return done;
}

/** What ADD asks of a file: its magic, then a stream of it. */
const isTar = (b: Buffer): Promise<boolean> => isTarFile(Readable.from([b]), b.subarray(0, ARCHIVE_MAGIC_BYTES));

describe('which files ADD unpacks', () => {
  test('a gzip of a plain file is not an archive: ADD copies it as it is', async () => {
    assert.equal(await isTar(gzipSync('just some text, not a tar\n')), false);
    assert.equal(await isTar(gzipSync(Buffer.alloc(4096, 'x'))), false);
    assert.equal(await isTar(gzipSync(randomBytes(100_000))), false, 'random data behind the gzip magic');
  });

  test('a tar, plain or gzip, is an archive', async () => {
    const tar = await tarOf({ 'a.txt': 'a\n', 'big.bin': randomBytes(300_000) });
    assert.equal(await isTar(tar), true);
    assert.equal(await isTar(gzipSync(tar)), true);
  });

  test('other files are not archives', async () => {
    assert.equal(await isTar(Buffer.from('hello\n')), false);
    assert.equal(await isTar(Buffer.alloc(1024)), false, 'zero blocks: an empty archive has no entry');
    assert.equal(await isTar(gzipSync(Buffer.alloc(1024))), false);
    assert.equal(await isTar(Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x01, 0x02, 0x03])), false, 'a broken gzip stream');
    assert.equal(await isTar(Buffer.alloc(0)), false);
  });

  test('a block whose checksum does not add up is not a tar header', async () => {
    const tar = Buffer.from(await tarOf({ 'a.txt': 'a\n' }));
    tar[0] = tar[0]! ^ 0xff;
    assert.equal(await isTar(tar), false);
  });

  test('xz, bzip2 and zstd: a compressed tar is an archive, a compressed plain file or a broken stream is not', async () => {
    // Bigger than a bzip2 block, so the stream must be read on past its head.
    const tar = await tarOf({ 'a.txt': 'a\n', 'big.bin': randomBytes(1_200_000) });
    for (const [tool, args] of [['xz', ['-c']], ['bzip2', ['-c']], ['zstd', ['-q', '-c']]] as const) {
      const packed = execFileSync(tool, args, { input: tar, maxBuffer: 64 << 20 });
      assert.equal(await isTar(packed), true, `${tool} of a tar`);
      const text = execFileSync(tool, args, { input: Buffer.alloc(4096, 'x') });
      assert.equal(await isTar(text), false, `${tool} of a plain file`);
      assert.equal(await isTar(packed.subarray(0, 40)), false, `${tool}: a broken stream`);
    }
  });
});
