import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import tarStream from 'tar-stream';
import { execFileSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { ARCHIVE_HEAD_BYTES, externalCompression, isCompressedTar, isTarArchive } from './archive-kind.ts';

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

const head = (b: Buffer): Buffer => b.subarray(0, ARCHIVE_HEAD_BYTES);

describe('which files ADD unpacks', () => {
  test('a gzip of a plain file is not an archive: ADD copies it as it is', () => {
    assert.equal(isTarArchive(gzipSync('just some text, not a tar\n')), false);
    assert.equal(isTarArchive(gzipSync(Buffer.alloc(4096, 'x'))), false);
    assert.equal(isTarArchive(gzipSync(randomBytes(100_000))), false, 'random data behind the gzip magic');
  });

  test('a tar, plain or gzip, is an archive, even when only its start is read', async () => {
    const tar = await tarOf({ 'a.txt': 'a\n', 'big.bin': randomBytes(300_000) });
    assert.equal(isTarArchive(head(tar)), true);
    const gz = gzipSync(tar);
    assert.ok(gz.length > ARCHIVE_HEAD_BYTES, 'the head is a truncated gzip stream');
    assert.equal(isTarArchive(head(gz)), true);
  });

  test('other files are not archives', () => {
    assert.equal(isTarArchive(Buffer.from('hello\n')), false);
    assert.equal(isTarArchive(Buffer.alloc(1024)), false, 'zero blocks: an empty archive has no entry');
    assert.equal(isTarArchive(gzipSync(Buffer.alloc(1024))), false);
    assert.equal(isTarArchive(Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x01, 0x02, 0x03])), false, 'a broken gzip stream');
    assert.equal(isTarArchive(Buffer.alloc(0)), false);
  });

  test('a block whose checksum does not add up is not a tar header', async () => {
    const tar = Buffer.from(await tarOf({ 'a.txt': 'a\n' }));
    tar[0] = tar[0]! ^ 0xff;
    assert.equal(isTarArchive(tar), false);
  });

  test('xz, bzip2 and zstd: a compressed tar is an archive, a compressed plain file or a broken stream is not', async () => {
    // Bigger than a bzip2 block's worth of head, so the whole stream must be read on.
    const tar = await tarOf({ 'a.txt': 'a\n', 'big.bin': randomBytes(1_200_000) });
    for (const [tool, args] of [['xz', ['-c']], ['bzip2', ['-c']], ['zstd', ['-q', '-c']]] as const) {
      const packed = execFileSync(tool, args, { input: tar, maxBuffer: 64 << 20 });
      const kind = externalCompression(packed);
      assert.equal(kind, tool);
      assert.equal(isTarArchive(head(packed)), false, `${tool}: the head alone does not say`);
      assert.equal(await isCompressedTar(Readable.from([packed]), kind!), true, `${tool} of a tar`);
      const text = execFileSync(tool, args, { input: Buffer.alloc(4096, 'x') });
      assert.equal(await isCompressedTar(Readable.from([text]), kind!), false, `${tool} of a plain file`);
      assert.equal(await isCompressedTar(Readable.from([packed.subarray(0, 40)]), kind!), false, `${tool}: a broken stream`);
    }
  });
});
