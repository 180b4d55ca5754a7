// Compression of a layer, told by its first bytes, and the streams that undo it.
import type { Duplex } from 'node:stream';
import * as zlib from 'node:zlib';
import { externalDecompressor } from '../sys/decompress.ts';
import type { Compression } from './types.ts';

/** Bytes needed to tell the compression apart. */
export const MAGIC_LENGTH = 6;

// Big output chunks mean fewer callbacks per megabyte; the high-water mark
// lets zlib run ahead on the thread pool while files are being written.
const ZLIB_OPTIONS = { chunkSize: 128 * 1024, highWaterMark: 1 << 20 };

const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);

export function detectCompression(head: Buffer): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head.readUInt32BE(0) === 0x28b52ffd) return 'zstd';
  if (head.length >= 6 && head.subarray(0, 6).equals(XZ_MAGIC)) return 'xz';
  if (head.length >= 3 && head.toString('latin1', 0, 3) === 'BZh') return 'bzip2';
  return 'none';
}

type ZstdFactory = (opts?: object) => Duplex;

/** A decompressing stream: gzip in zlib on the libuv thread pool; zstd in
 * zlib where Node has it (22.15 and later), else, like xz and bzip2, in the
 * Debian program of that name between two pipes. */
export function decompressor(compression: Exclude<Compression, 'none'>): Duplex {
  if (compression === 'gzip') return zlib.createGunzip(ZLIB_OPTIONS);
  if (compression === 'zstd') {
    const zstd = (zlib as unknown as { createZstdDecompress?: ZstdFactory }).createZstdDecompress;
    if (typeof zstd === 'function') return zstd(ZLIB_OPTIONS);
  }
  return externalDecompressor(compression);
}

/** True for errors raised by a zlib stream on bad input. */
export function isDecompressError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('Z_') || code.startsWith('ERR_ZSTD') || code === 'ERR_ZLIB_INITIALIZATION_FAILED');
}

/** The first `n` bytes of `input` (fewer if it is shorter), and all of its
 * bytes again, those first, as one iterable: a stream told by its start. */
export async function peekHead(input: AsyncIterable<Buffer>, n: number): Promise<{ head: Buffer; all: AsyncIterable<Buffer> }> {
  const it = input[Symbol.asyncIterator]();
  const parts: Buffer[] = [];
  let len = 0;
  let done = false;
  while (len < n && !done) {
    const r = await it.next();
    if (r.done) done = true;
    else {
      parts.push(r.value);
      len += r.value.length;
    }
  }
  const first = Buffer.concat(parts);
  async function* all(): AsyncGenerator<Buffer> {
    if (first.length > 0) yield first;
    while (!done) {
      const r = await it.next();
      if (r.done) break;
      yield r.value;
    }
  }
  return { head: first.subarray(0, n), all: all() };
}
