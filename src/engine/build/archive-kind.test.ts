import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import tarStream from 'tar-stream';
import { ARCHIVE_HEAD_BYTES, isTarArchive } from './archive-kind.ts';

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
});
