// Which local sources ADD unpacks. dockerd extracts a file only when it is a
// tar archive, plain or compressed (gzip, bzip2, xz; joey also zstd): it
// decompresses the start and reads one tar header. Anything else, a gzip of
// a plain file included, is copied as it is.
import type { Readable } from 'node:stream';
import { constants, gunzipSync } from 'node:zlib';
import { decompressor, detectCompression } from '../../archive/decompress.ts';
import { checksums } from '../../archive/tar-reader.ts';
import type { Compression } from '../../archive/types.ts';

/** Enough of a gzip stream to hold the first tar header. */
export const ARCHIVE_HEAD_BYTES = 64 * 1024;
const BLOCK = 512;

/** Whether `head`, the first bytes of a file (up to ARCHIVE_HEAD_BYTES),
 * starts a tar archive that ADD extracts: plain or gzip. For the
 * compressions decompressed by another program (xz, bzip2, zstd: a bzip2
 * block can be 900 kB) this says false; isCompressedTar reads on. */
export function isTarArchive(head: Buffer): boolean {
  const compression: Compression = detectCompression(head);
  if (compression === 'none') return isTarHeader(head);
  if (compression !== 'gzip') return false;
  let plain: Buffer;
  try {
    // The head is a truncated stream: a sync flush yields what it holds.
    plain = gunzipSync(head, { finishFlush: constants.Z_SYNC_FLUSH });
  } catch {
    return false; // not a valid gzip stream after all
  }
  return isTarHeader(plain);
}

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

/** The compression of `head` when it is one that isTarArchive leaves to
 * isCompressedTar, else undefined. */
export function externalCompression(head: Buffer): 'xz' | 'bzip2' | 'zstd' | undefined {
  const c = detectCompression(head);
  return c === 'xz' || c === 'bzip2' || c === 'zstd' ? c : undefined;
}

/** Whether the whole file, `input`, decompresses (xz, bzip2, zstd) to
 * something that starts with a tar header. Reads only as far as the first
 * block of output, then lets the input and the decompressor go. */
export async function isCompressedTar(input: Readable, compression: 'xz' | 'bzip2' | 'zstd'): Promise<boolean> {
  const d = decompressor(compression);
  input.on('error', (err) => d.destroy(err));
  input.pipe(d);
  const parts: Buffer[] = [];
  let got = 0;
  try {
    for await (const chunk of d) {
      parts.push(chunk as Buffer);
      got += (chunk as Buffer).length;
      if (got >= BLOCK) break;
    }
  } catch {
    return false; // not a valid stream after all
  } finally {
    input.unpipe(d);
    input.destroy();
    d.destroy();
  }
  return isTarHeader(Buffer.concat(parts));
}
