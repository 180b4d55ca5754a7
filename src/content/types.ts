// The content store: immutable blobs addressed by digest, plus resumable
// ingests (partial downloads) addressed by a caller-chosen ref.
import type { FileHandle } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';

export interface BlobInfo {
  digest: string; // "sha256:<64 hex>"
  size: number;
  createdAt: Date;
}

export interface IngestInfo {
  ref: string;
  offset: number; // bytes written so far
  updatedAt: Date;
}

/** An open ingest. Data written through `stream()` is appended to the partial
 * file and hashed; `commit` verifies and moves it into the store atomically. */
export interface ContentWriter extends LiveIngest {
  readonly ref: string;
  /** Bytes already present when the writer was opened (a resumed ingest). */
  readonly offset: number;
  /** The sink for new bytes; they are appended after `offset`. */
  stream(): Writable;
  /** Verifies size and digest of everything written and makes the blob
   * visible. Throws a `data-loss` JoeyError on mismatch (and discards the ingest). */
  commit(expected: { digest: string; size?: number }): Promise<BlobInfo>;
  /** Closes the file and keeps the partial data for a later resume. */
  close(): Promise<void>;
  /** Closes and deletes the partial data. */
  abort(): Promise<void>;
}

export type IngestOutcome = 'committed' | 'closed' | 'aborted';

/** An open writer as others may watch it, to pass a blob on while it is
 * still arriving (p2p). The bytes are not verified yet: whoever reads them
 * must check the digest of the whole. */
export interface LiveIngest {
  readonly ref: string;
  /** Bytes on disk, contiguous from the start: nothing past it may be read. */
  readonly written: number;
  /** How the writer ended; undefined while it is open. */
  readonly outcome: IngestOutcome | undefined;
  readonly ended: Promise<IngestOutcome>;
  /** Resolves at the next write or when the writer ends, whichever comes first. */
  changed(): Promise<void>;
  /** A read-only handle on this writer's data file (it stays readable after
   * a commit renames it). `not-found` once the writer has ended. */
  openRead(): Promise<FileHandle>;
}

export interface ContentStore {
  info(digest: string): Promise<BlobInfo | undefined>;
  /** Streams a blob, optionally from a byte offset. Throws `not-found`. */
  reader(digest: string, opts?: { start?: number }): Readable;
  readBytes(digest: string, maxBytes?: number): Promise<Buffer>;
  /** Path of a committed blob on disk (for zero-copy readers such as save). */
  path(digest: string): string;
  /** Opens or resumes the ingest `ref`. Only one writer per ref at a time:
   * a second concurrent open throws `conflict`. */
  writer(ref: string): Promise<ContentWriter>;
  /** Writes a small blob in one go (manifests, configs). Idempotent. */
  writeBytes(data: Buffer, expectedDigest?: string): Promise<BlobInfo>;
  delete(digest: string): Promise<void>;
  walk(): AsyncIterable<BlobInfo>;
  ingests(): Promise<IngestInfo[]>;
  abortIngest(ref: string): Promise<void>;
  /** The writer open on `ref` in this process, to watch; undefined when there is none. */
  live(ref: string): LiveIngest | undefined;
}
