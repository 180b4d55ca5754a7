// The content store on disk:
//   <root>/blobs/sha256/<hex>            committed blobs, mode 0444
//   <root>/ingest/<sha256(ref)>/ref      the ingest's ref, written first
//   <root>/ingest/<sha256(ref)>/data     the partial bytes
// A blob becomes visible only by an atomic rename of a verified, fsynced file,
// so a crash leaves either no blob or a whole one. The one-writer-per-ref rule
// is kept in memory: one daemon owns a data root.
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { createReadStream, openSync, constants as fsc } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { conflict, dataLoss, failedPrecondition, internal, invalid, JoeyError, messageOf, notFound } from '../errdefs/index.ts';
import type { BlobInfo, ContentStore, ContentWriter, IngestInfo, IngestOutcome, LiveIngest } from './types.ts';

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;
/** Manifests and configs are small; anything bigger is read as a stream. */
export const DEFAULT_READ_BYTES_LIMIT = 8 << 20;
const MAX_REF_LENGTH = 1024;

export function validateDigest(digest: string): string {
  if (typeof digest !== 'string' || !DIGEST_RE.test(digest)) {
    throw invalid(`invalid digest ${JSON.stringify(digest)}: want sha256: and 64 lowercase hex digits`);
  }
  return digest.slice('sha256:'.length);
}

function validateRef(ref: string): void {
  if (typeof ref !== 'string' || ref === '' || ref.length > MAX_REF_LENGTH || ref.includes('\0')) {
    throw invalid(`invalid ingest ref ${JSON.stringify(ref)}`);
  }
}

function isErrno(err: unknown, code: string): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === code;
}

async function fsyncDir(dir: string): Promise<void> {
  const h = await open(dir, fsc.O_RDONLY | fsc.O_DIRECTORY);
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

/** Writes every byte of `bufs` (a regular file may take a short write). */
async function writeAll(h: FileHandle, bufs: Buffer[]): Promise<void> {
  let rest = bufs.filter((b) => b.length > 0);
  while (rest.length > 0) {
    const { bytesWritten } = await h.writev(rest);
    let n = bytesWritten;
    while (rest.length > 0 && n >= rest[0]!.length) {
      n -= rest[0]!.length;
      rest = rest.slice(1);
    }
    if (n > 0) rest = [rest[0]!.subarray(n), ...rest.slice(1)];
  }
}

async function hashFile(path: string, hash: Hash, end?: number): Promise<number> {
  if (end === 0) return 0;
  let n = 0;
  for await (const chunk of createReadStream(path, end === undefined ? {} : { start: 0, end: end - 1 })) {
    hash.update(chunk as Buffer);
    n += (chunk as Buffer).length;
  }
  return n;
}

export async function openContentStore(root: string): Promise<ContentStore> {
  const store = new FileContentStore(root);
  await store.init();
  return store;
}

class FileContentStore implements ContentStore {
  readonly blobDir: string;
  readonly ingestDir: string;
  /** Refs with an open writer in this process. */
  readonly active = new Set<string>();
  /** The open writers, for `live`. */
  readonly writers = new Map<string, IngestWriter>();

  constructor(readonly root: string) {
    this.blobDir = join(root, 'blobs', 'sha256');
    this.ingestDir = join(root, 'ingest');
  }

  async init(): Promise<void> {
    await mkdir(this.blobDir, { recursive: true });
    await mkdir(this.ingestDir, { recursive: true });
    // A crash between creating an ingest directory and writing its ref leaves
    // a directory nobody can name; it holds no data yet, so drop it.
    for (const name of await readdir(this.ingestDir)) {
      const dir = join(this.ingestDir, name);
      const ref = await readFile(join(dir, 'ref'), 'utf8').catch(() => undefined);
      if (ref === undefined || ingestName(ref) !== name) await rm(dir, { recursive: true, force: true });
    }
  }

  path(digest: string): string {
    return join(this.blobDir, validateDigest(digest));
  }

  async info(digest: string): Promise<BlobInfo | undefined> {
    const p = this.path(digest);
    try {
      const st = await stat(p);
      return { digest, size: st.size, createdAt: st.mtime };
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return undefined;
      throw internal(`stat blob ${digest}: ${messageOf(err)}`, err);
    }
  }

  /** Opens the blob synchronously, so a missing blob throws `not-found` (and a
   * bad digest or start `invalid`) right here rather than as a stream error;
   * read errors after that arrive as stream errors. */
  reader(digest: string, opts: { start?: number } = {}): Readable {
    const p = this.path(digest);
    const start = opts.start ?? 0;
    if (!Number.isSafeInteger(start) || start < 0) throw invalid(`invalid start offset ${start} for blob ${digest}`);
    let fd: number;
    try {
      fd = openSync(p, 'r');
    } catch (err) {
      if (isErrno(err, 'ENOENT')) throw notFound(`blob ${digest} not found`, err);
      throw internal(`open blob ${digest}: ${messageOf(err)}`, err);
    }
    return createReadStream(p, { fd, start, autoClose: true });
  }

  async readBytes(digest: string, maxBytes = DEFAULT_READ_BYTES_LIMIT): Promise<Buffer> {
    const p = this.path(digest);
    let h: FileHandle;
    try {
      h = await open(p, 'r');
    } catch (err) {
      if (isErrno(err, 'ENOENT')) throw notFound(`blob ${digest} not found`, err);
      throw internal(`open blob ${digest}: ${messageOf(err)}`, err);
    }
    try {
      const { size } = await h.stat();
      if (size > maxBytes) throw invalid(`blob ${digest} is ${size} bytes, more than the ${maxBytes} allowed here`);
      return await h.readFile();
    } finally {
      await h.close();
    }
  }

  async writer(ref: string): Promise<ContentWriter> {
    validateRef(ref);
    // Claimed before the first await, so two concurrent opens cannot both pass.
    if (this.active.has(ref)) throw conflict(`ingest ${ref} already has an open writer`);
    this.active.add(ref);
    try {
      const dir = join(this.ingestDir, ingestName(ref));
      await mkdir(dir, { recursive: true });
      const refPath = join(dir, 'ref');
      const known = await readFile(refPath, 'utf8').catch(() => undefined);
      if (known !== ref) await writeFile(refPath, ref);
      const dataPath = join(dir, 'data');
      const handle = await open(dataPath, 'a', 0o644);
      try {
        // Nothing about the partial is persisted but its bytes: re-hash them.
        const { size } = await handle.stat();
        const hash = createHash('sha256');
        const hashed = await hashFile(dataPath, hash, size);
        if (hashed !== size) throw internal(`ingest ${ref} changed while it was being opened`);
        const { ino } = await handle.stat();
        const w = new IngestWriter(this, ref, dir, handle, hash, size, ino);
        this.writers.set(ref, w);
        return w;
      } catch (err) {
        await handle.close();
        throw err;
      }
    } catch (err) {
      this.active.delete(ref);
      throw err;
    }
  }

  async writeBytes(data: Buffer, expectedDigest?: string): Promise<BlobInfo> {
    const digest = 'sha256:' + createHash('sha256').update(data).digest('hex');
    if (expectedDigest !== undefined) {
      validateDigest(expectedDigest);
      if (digest !== expectedDigest) throw dataLoss(`digest mismatch for ${expectedDigest}: expected ${expectedDigest}, got ${digest}`);
    }
    const existing = await this.info(digest);
    if (existing) return existing;
    // A private ref: two callers writing the same small blob must not conflict.
    const w = await this.writer(`bytes-${digest}-${randomBytes(8).toString('hex')}`);
    try {
      const sink = w.stream();
      sink.end(data);
      await finished(sink);
      return await w.commit({ digest, size: data.length });
    } catch (err) {
      await w.abort().catch(() => {});
      throw err;
    }
  }

  async delete(digest: string): Promise<void> {
    const p = this.path(digest);
    try {
      await unlink(p);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) throw notFound(`blob ${digest} not found`, err);
      throw internal(`delete blob ${digest}: ${messageOf(err)}`, err);
    }
  }

  async *walk(): AsyncIterable<BlobInfo> {
    for (const name of await readdir(this.blobDir)) {
      if (!/^[a-f0-9]{64}$/.test(name)) continue;
      const info = await this.info('sha256:' + name);
      if (info) yield info; // else deleted while walking
    }
  }

  async ingests(): Promise<IngestInfo[]> {
    const out: IngestInfo[] = [];
    for (const name of await readdir(this.ingestDir)) {
      const dir = join(this.ingestDir, name);
      const ref = await readFile(join(dir, 'ref'), 'utf8').catch(() => undefined);
      if (ref === undefined) continue; // being created, or gone
      const st = await stat(join(dir, 'data')).catch(() => undefined);
      if (st) {
        out.push({ ref, offset: st.size, updatedAt: st.mtime });
      } else {
        const dst = await stat(dir).catch(() => undefined);
        if (dst) out.push({ ref, offset: 0, updatedAt: dst.mtime });
      }
    }
    return out;
  }

  live(ref: string): LiveIngest | undefined {
    return this.writers.get(ref);
  }

  /** Deletes the partial data of `ref`; nothing to do when there is none. */
  async abortIngest(ref: string): Promise<void> {
    validateRef(ref);
    if (this.active.has(ref)) throw conflict(`ingest ${ref} has an open writer`);
    await rm(join(this.ingestDir, ingestName(ref)), { recursive: true, force: true });
  }
}

function ingestName(ref: string): string {
  return createHash('sha256').update(ref).digest('hex');
}

class IngestWriter implements ContentWriter, LiveIngest {
  /** Bytes in the data file, all of them hashed. */
  private size: number;
  /** A failed write may have left bytes on disk that the hash has not seen. */
  private suspect = false;
  private done = false;
  outcome: IngestOutcome | undefined;
  readonly ended: Promise<IngestOutcome>;
  #settle!: (o: IngestOutcome) => void;
  #waiters: Array<() => void> = [];

  constructor(
    private readonly store: FileContentStore,
    readonly ref: string,
    private readonly dir: string,
    private readonly handle: FileHandle,
    private readonly hash: Hash,
    readonly offset: number,
    /** The data file's inode: a reader must open this file, not a later writer's. */
    private readonly ino: number,
  ) {
    this.size = offset;
    this.ended = new Promise((resolve) => (this.#settle = resolve));
  }

  get written(): number {
    return this.size;
  }

  changed(): Promise<void> {
    if (this.outcome) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  async openRead(): Promise<FileHandle> {
    const gone = () => notFound(`ingest ${this.ref} has no open writer`);
    if (this.outcome) throw gone();
    let h: FileHandle;
    try {
      h = await open(this.dataPath, 'r');
    } catch (err) {
      if (isErrno(err, 'ENOENT')) throw gone();
      throw internal(`open ingest ${this.ref}: ${messageOf(err)}`, err);
    }
    const st = await h.stat().catch(() => undefined);
    if (!st || st.ino !== this.ino || this.outcome) {
      await h.close();
      throw gone();
    }
    return h;
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  /** Called once the writer is done; tells the watchers how. */
  #end(outcome: IngestOutcome): void {
    if (this.outcome) return;
    this.outcome = outcome;
    if (this.store.writers.get(this.ref) === this) this.store.writers.delete(this.ref);
    this.#settle(outcome);
    this.#wake();
  }

  private get dataPath(): string {
    return join(this.dir, 'data');
  }

  private check(): void {
    if (this.done) throw failedPrecondition(`ingest ${this.ref} writer is closed`);
  }

  /** Each call returns a new sink on the same file (a retried download may
   * call it again); finish or destroy one before writing to the next, and
   * wait for it to finish before `commit`. */
  stream(): Writable {
    this.check();
    const append = async (bufs: Buffer[]) => {
      if (this.done) throw failedPrecondition(`ingest ${this.ref} writer is closed`);
      try {
        await writeAll(this.handle, bufs);
      } catch (err) {
        this.suspect = true;
        throw internal(`writing ingest ${this.ref}: ${messageOf(err)}`, err);
      }
      for (const b of bufs) {
        this.hash.update(b);
        this.size += b.length;
      }
      this.#wake();
    };
    return new Writable({
      highWaterMark: 1 << 20,
      write(chunk: Buffer, _enc, cb) {
        append([chunk]).then(() => cb(), cb);
      },
      writev(chunks, cb) {
        append(chunks.map((c) => c.chunk as Buffer)).then(() => cb(), cb);
      },
    });
  }

  async commit(expected: { digest: string; size?: number }): Promise<BlobInfo> {
    this.check();
    const hex = validateDigest(expected.digest);
    this.done = true;
    try {
      await this.handle.sync();
      let size = this.size;
      let actual: string;
      if (this.suspect) {
        const h = createHash('sha256');
        size = await hashFile(this.dataPath, h);
        actual = 'sha256:' + h.digest('hex');
      } else {
        actual = 'sha256:' + this.hash.digest('hex');
      }
      if (expected.size !== undefined && size !== expected.size) {
        throw dataLoss(`size mismatch for ${this.ref}: expected ${expected.size} bytes, got ${size}`);
      }
      if (actual !== expected.digest) {
        throw dataLoss(`digest mismatch for ${this.ref}: expected ${expected.digest}, got ${actual}`);
      }
      const target = join(this.store.blobDir, hex);
      const existing = await this.store.info(expected.digest);
      if (existing) {
        await this.discard('committed');
        return existing;
      }
      await this.handle.chmod(0o444);
      await this.handle.close();
      await rename(this.dataPath, target);
      await fsyncDir(this.store.blobDir);
      await rm(this.dir, { recursive: true, force: true });
      this.store.active.delete(this.ref);
      this.#end('committed');
      const st = await stat(target);
      return { digest: expected.digest, size: st.size, createdAt: st.mtime };
    } catch (err) {
      // A mismatch means the bytes are wrong: resuming them would only fail again.
      if (err instanceof JoeyError && err.kind === 'data-loss') await this.discard().catch(() => {});
      else await this.release().catch(() => {});
      throw err;
    }
  }

  async close(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.release();
  }

  /** After a commit or close this does nothing: the ref may belong to a new
   * writer by then (use the store's abortIngest). */
  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.discard();
  }

  private async release(): Promise<void> {
    try {
      await this.handle.close().catch(() => {}); // already closed after a failed rename
    } finally {
      this.store.active.delete(this.ref);
      this.#end('closed');
    }
  }

  private async discard(outcome: IngestOutcome = 'aborted'): Promise<void> {
    try {
      await this.handle.close().catch(() => {});
      await rm(this.dir, { recursive: true, force: true });
    } finally {
      this.store.active.delete(this.ref);
      this.#end(outcome);
    }
  }
}
