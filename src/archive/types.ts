// Layer tarballs: applying one (hostile input) to an empty directory in the
// overlay on-disk format.
import type { Readable } from 'node:stream';

export type Compression = 'none' | 'gzip' | 'zstd' | 'xz' | 'bzip2';

export interface ApplyOptions {
  /** Abort the apply (the partial directory is left for the caller to remove). */
  signal?: AbortSignal;
  /** Called as uncompressed bytes flow, for progress. */
  onProgress?: (uncompressedBytes: number) => void;
}

export interface ApplyResult {
  /** sha256 of the uncompressed tar stream, "sha256:<hex>" (the layer's diff id). */
  diffId: string;
  /** Sum of the sizes of the regular files written. */
  size: number;
  compression: Compression;
}

/**
 * Unpacks a layer (plain tar, or gzip; compression detected from magic bytes)
 * into `dir`, which must exist and be empty, in the overlay format: a whiteout
 * `.wh.NAME` becomes a 0/0 character device NAME, an opaque marker
 * `.wh..wh..opq` sets `trusted.overlay.opaque=y` on its directory.
 *
 * Hostile input fails with a `data-loss` JoeyError whose message names the
 * entry: absolute paths, `..` escapes, an entry whose parent is a symlink,
 * hardlinks whose target is outside the layer or not yet extracted, device
 * nodes. Nothing outside `dir` is ever created, changed or followed.
 *
 * The work happens in a worker thread; once the promise settles, the worker
 * no longer touches `dir`.
 */
export type ApplyLayer = (input: Readable, dir: string, opts?: ApplyOptions) => Promise<ApplyResult>;
