// Compression of a layer, told by its first bytes, and the streams that undo it.
import type { Duplex } from 'node:stream';
import * as zlib from 'node:zlib';
import { notImplemented } from '../errdefs/index.ts';
import type { Compression } from './types.ts';

/** Bytes needed to tell the compression apart. */
export const MAGIC_LENGTH = 6;

// Big output chunks mean fewer callbacks per megabyte; the high-water mark
// lets zlib run ahead on the thread pool while files are being written.
const ZLIB_OPTIONS = { chunkSize: 128 * 1024, highWaterMark: 1 << 20 };

export function detectCompression(head: Buffer): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head.readUInt32BE(0) === 0x28b52ffd) return 'zstd';
  if (head.length >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) {
    throw notImplemented('xz-compressed layers are not supported');
  }
  if (head.length >= 3 && head.toString('latin1', 0, 3) === 'BZh') {
    throw notImplemented('bzip2-compressed layers are not supported');
  }
  return 'none';
}

type ZstdFactory = (opts?: object) => Duplex;

/** A decompressing stream; zlib runs on the libuv thread pool. */
export function decompressor(compression: Exclude<Compression, 'none'>): Duplex {
  if (compression === 'gzip') return zlib.createGunzip(ZLIB_OPTIONS);
  // node:zlib gained zstd in Node 22.15; look it up at run time.
  const zstd = (zlib as unknown as { createZstdDecompress?: ZstdFactory }).createZstdDecompress;
  if (typeof zstd !== 'function') {
    throw notImplemented(`zstd-compressed layers are not supported on Node ${process.versions.node} (node:zlib has no zstd)`);
  }
  return zstd(ZLIB_OPTIONS);
}

/** True for errors raised by a zlib stream on bad input. */
export function isDecompressError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('Z_') || code.startsWith('ERR_ZSTD') || code === 'ERR_ZLIB_INITIALIZATION_FAILED');
}
