// Which local sources ADD unpacks. dockerd extracts a file only when it is a
// tar archive, plain or compressed (gzip, bzip2, xz; joey also zstd): it
// decompresses the start and reads one tar header. Anything else, a gzip of
// a plain file included, is copied as it is.
import type { Readable } from 'node:stream';
import { decompressor, detectCompression } from '../../archive/decompress.ts';
import { checksums } from '../../archive/tar-reader.ts';

/** Enough of a file to tell its compression by the magic number. */
export const ARCHIVE_MAGIC_BYTES = 16;
const BLOCK = 512;

/** A tar header block with a valid checksum, as Go's archive/tar checks the
 * first one (an all-zero block is the end of an empty archive: not one). */
export function isTarHeader(buf: Buffer): boolean {
  if (buf.length < BLOCK) return false;
  const block = buf.subarray(0, BLOCK);
  if (block.every((b) => b === 0)) return false;
  const field = block.toString('latin1', 148, 156).replace(/[\0 ]+$/, '').replace(/^[\0 ]+/, '');
  if (!/^[0-7]+$/.test(field)) return false;
  const want = parseInt(field, 8);
  const [unsigned, signed] = checksums(block);
  return want === unsigned || want === signed;
}

/** Whether the file `input`, whose first bytes are `magic`, is a tar archive,
 * plain or compressed: it is decompressed only until the first block comes
 * out (a bzip2 block can be 900 kB of input), then the input and the
 * decompressor are let go. A broken stream is not an archive. */
export async function isTarFile(input: Readable, magic: Buffer): Promise<boolean> {
  const compression = detectCompression(magic);
  const d = compression === 'none' ? undefined : decompressor(compression);
  const out: AsyncIterable<Buffer> = d ?? input;
  if (d) {
    input.on('error', (err) => d.destroy(err));
    input.pipe(d);
  }
  const parts: Buffer[] = [];
  let got = 0;
  try {
    for await (const chunk of out) {
      parts.push(chunk);
      got += chunk.length;
      if (got >= BLOCK) break;
    }
  } catch {
    return false;
  } finally {
    if (d) {
      input.unpipe(d);
      d.destroy();
    }
    input.destroy();
  }
  return isTarHeader(Buffer.concat(parts));
}
