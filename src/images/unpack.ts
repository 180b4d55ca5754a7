// Turning layer blobs into content and committed snapshots: download and
// unpack at once, stream-verified, resumable, one flight per layer chain.
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ApplyLayer } from '../archive/types.ts';
import { readGrowing } from '../content/growing.ts';
import type { ContentStore, ContentWriter } from '../content/types.ts';
import { dataLoss, is, kindOf, unavailable, wrap } from '../errdefs/index.ts';
import type { Descriptor } from '../remotes/types.ts';
import type { Snapshotter } from '../snapshots/types.ts';
import { SingleFlight } from '../util/concurrency.ts';
import { log } from '../util/log.ts';
import type { ProgressFn } from './types.ts';

/** Keys that garbage collection must not touch while work is in flight. */
export class Leases {
  private readonly counts = new Map<string, number>();
  add(keys: string[]): () => void {
    for (const k of keys) this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const k of keys) {
        const n = (this.counts.get(k) ?? 1) - 1;
        if (n <= 0) this.counts.delete(k);
        else this.counts.set(k, n);
      }
    };
  }
  has(key: string): boolean {
    return this.counts.has(key);
  }
}

export interface UnpackDeps {
  content: ContentStore;
  snapshots: Snapshotter;
  applyLayer: ApplyLayer;
}

export interface LayerJob {
  blob: Descriptor;
  diffId: string;
  chainId: string;
  parentChainId?: string;
  /** Opens the compressed bytes from `offset`; absent when the blob must already be local. */
  open?: (offset: number, signal?: AbortSignal) => Promise<Readable>;
  /** The commit of the parent chain, which this layer's commit waits for. */
  parentDone?: Promise<unknown>;
  onProgress?: ProgressFn;
  signal?: AbortSignal;
  /** Attempts on network failures, resuming from what was written. */
  attempts?: number;
  /** Called when the bytes `open` gave were bad (digest mismatch, a broken
   * layer) and the blob is not stored: true when another try may get good
   * bytes (a source with several origins, p2p). Such tries start afresh.
   * The source bounds them: it must answer false after a few. */
  retryCorrupt?: () => boolean;
  /** A download given up on (failed or cancelled) is removed, not kept for
   * the next pull to resume: others were reading it (p2p). */
  dropPartial?: boolean;
  /** Bounds concurrent transfers; the wait for the parent's commit is outside it. */
  limit?: <T>(fn: () => Promise<T>) => Promise<T>;
}

export function shortId(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}

const RETRYABLE = new Set(['unavailable', 'internal', 'deadline-exceeded']);

export class Unpacker {
  private readonly flights = new SingleFlight<'exists' | 'done'>();
  private static seq = 0;

  constructor(private readonly deps: UnpackDeps) {}

  async hasSnapshot(chainId: string): Promise<boolean> {
    try {
      const s = await this.deps.snapshots.stat(chainId);
      return s.kind === 'committed';
    } catch (e) {
      if (is(e, 'not-found')) return false;
      throw e;
    }
  }

  /** Makes sure the blob is in the content store and the chain snapshot is
   * committed. Resolves to 'exists' when nothing had to be done. */
  ensure(job: LayerJob): Promise<'exists' | 'done'> {
    return this.flights.do(job.chainId, () => this.run(job));
  }

  private async run(job: LayerJob): Promise<'exists' | 'done'> {
    const { content } = this.deps;
    const id = shortId(job.blob.digest);
    const haveSnap = await this.hasSnapshot(job.chainId);
    const haveBlob = (await content.info(job.blob.digest)) !== undefined;
    if (haveSnap && haveBlob) return 'exists';
    job.onProgress?.({ kind: 'layer', id, phase: 'waiting' });

    const attempts = job.attempts ?? 4;
    for (let attempt = 1; ; attempt++) {
      try {
        const limit = job.limit ?? ((fn) => fn());
        if (haveSnap) {
          await limit(() => this.fetchBlob(job));
          return 'done';
        }
        const local = (await content.info(job.blob.digest)) !== undefined;
        const { key: tmpKey, size } = await limit(() => this.unpack(job, local));
        try {
          await job.parentDone;
          await this.deps.snapshots.commit(job.chainId, tmpKey, { parent: job.parentChainId, size });
        } catch (e) {
          await this.deps.snapshots.remove(tmpKey).catch(() => undefined);
          if (is(e, 'already-exists')) return 'done'; // committed by someone else meanwhile
          throw e;
        }
        job.onProgress?.({ kind: 'layer', id, phase: 'pull-complete' });
        return 'done';
      } catch (e) {
        // retryCorrupt is bounded by the source (p2p: MAX_PEER_TRIES), so a
        // tracker naming ever new bad peers cannot keep a pull going.
        if ((is(e, 'data-loss') || is(e, 'invalid')) && job.retryCorrupt && !job.signal?.aborted && (await content.info(job.blob.digest)) === undefined && job.retryCorrupt()) {
          log.warn('layer bytes did not verify, fetching them again from another source', { layer: job.blob.digest, err: e });
          await content.abortIngest(job.blob.digest).catch(() => undefined);
          attempt--;
          continue;
        }
        if (attempt >= attempts || !RETRYABLE.has(kindOf(e)) || job.signal?.aborted || !job.open) {
          // The pull gives up on this layer (or was cancelled). A registry
          // download stays for the next pull to resume (kept 24 h); one that
          // peers were reading goes, so that nothing of it is left behind.
          if (job.dropPartial && (await content.info(job.blob.digest)) === undefined) await content.abortIngest(job.blob.digest).catch(() => undefined);
          throw e;
        }
        log.warn('layer download failed, resuming', { layer: job.blob.digest, attempt, err: e });
        job.onProgress?.({ kind: 'layer', id, phase: 'retrying' });
        await new Promise((r) => setTimeout(r, 200 * attempt));
      }
    }
  }

  /** Downloads (or reads locally) and unpacks into a fresh parentless active
   * snapshot; returns its key and unpacked size. The blob is committed to the content store. */
  private async unpack(job: LayerJob, local: boolean): Promise<{ key: string; size: number }> {
    const { content, snapshots, applyLayer } = this.deps;
    const id = shortId(job.blob.digest);
    const tmpKey = `unpack-${shortId(job.chainId)}-${process.pid}-${++Unpacker.seq}`;
    await snapshots.prepare(tmpKey, undefined, { labels: { 'joey.unpack': '1' } });
    let ok = false;
    try {
      const dir = await snapshots.upperDir(tmpKey);
      const total = job.blob.size;
      let result;
      if (local) {
        job.onProgress?.({ kind: 'layer', id, phase: 'extracting', current: 0, total });
        result = await applyLayer(content.reader(job.blob.digest), dir, { signal: job.signal });
      } else {
        result = await this.download(job, (input) => applyLayer(input, dir, { signal: job.signal }));
      }
      if (result.diffId !== job.diffId) {
        throw dataLoss(`layer ${job.blob.digest}: its content has diff id ${result.diffId}, but the image config says ${job.diffId}`);
      }
      ok = true;
      return { key: tmpKey, size: result.size };
    } finally {
      if (!ok) await snapshots.remove(tmpKey).catch(() => undefined);
    }
  }

  private async fetchBlob(job: LayerJob): Promise<void> {
    await this.download(job);
  }

  /** Streams the blob from the registry into the content store and, when
   * there is a `consume`r, to it as well: from the ingest file as it grows,
   * so that the download runs at the network's pace however slowly the
   * consumer unpacks (peers reading this download get it as fast, and the
   * connection is done sooner). A resumed ingest is given to the consumer
   * from its first byte. Commits the blob only when both sides succeed. */
  private async download(job: LayerJob): Promise<undefined>;
  private async download<T>(job: LayerJob, consume: (input: Readable) => Promise<T>): Promise<T>;
  private async download<T>(job: LayerJob, consume?: (input: Readable) => Promise<T>): Promise<T | undefined> {
    const { content } = this.deps;
    if (!job.open) throw dataLoss(`layer ${job.blob.digest} is not in the content store`);
    const id = shortId(job.blob.digest);
    const total = job.blob.size;
    const writer = await content.writer(job.blob.digest);
    let committed = false;
    try {
      const offset = writer.offset > total ? 0 : writer.offset;
      if (writer.offset > total) {
        await writer.abort();
        return consume ? this.download(job, consume) : this.download(job);
      }
      const net = await job.open(offset, job.signal);
      // The pipeline below reports the first error; a socket can still emit
      // a late one ("aborted") after the pipeline has let go of it.
      net.on('error', () => undefined);
      let received = offset;
      let lastReport = 0;
      const counter = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          received += chunk.length;
          if (received > total) {
            cb(dataLoss(`layer ${job.blob.digest}: registry sent more than the ${total} bytes the manifest declares`));
            return;
          }
          const now = Date.now();
          if (now - lastReport > 100 || received === total) {
            lastReport = now;
            job.onProgress?.({ kind: 'layer', id, phase: 'downloading', current: received, total });
          }
          cb(null, chunk);
        },
      });
      const written = pipeline(net, counter, writer.stream());
      let out: T | undefined;
      if (consume) {
        const input = Readable.from(followIngest(writer, written), { objectMode: false, highWaterMark: 1 << 20 });
        input.on('error', () => undefined); // the consumer's promise carries it
        const consumed = consume(input);
        consumed.catch((e) => net.destroy(e as Error));
        try {
          [out] = await Promise.all([consumed, written]);
        } catch (e) {
          // The consumer may still be at work (an unpack writing into the
          // directory the caller removes on failure): it stops first.
          input.destroy(e as Error);
          await consumed.catch(() => undefined);
          throw e;
        } finally {
          input.destroy();
        }
      } else {
        await written;
      }
      if (received !== total) throw dataLoss(`layer ${job.blob.digest}: got ${received} bytes, the manifest declares ${total}`);
      job.onProgress?.({ kind: 'layer', id, phase: 'verifying' });
      await writer.commit({ digest: job.blob.digest, size: total });
      committed = true;
      job.onProgress?.({ kind: 'layer', id, phase: 'download-complete' });
      return out;
    } catch (e) {
      if (!committed) {
        // Keep partial bytes for a resume unless the data itself is bad.
        if (is(e, 'data-loss')) await writer.abort().catch(() => undefined);
        else await writer.close().catch(() => undefined);
      }
      throw is(e, 'data-loss') || is(e, 'canceled') ? e : wrap(e, `downloading layer ${job.blob.digest}`);
    }
  }
}

/** The blob `writer` is receiving, from its first byte: what is on disk at
 * once, then the rest as it is written, until `download` (the network side)
 * settles; its error ends this too, as does the writer's end before it.
 * Never reads past what was written. */
async function* followIngest(writer: ContentWriter, download: Promise<void>): AsyncGenerator<Buffer> {
  let settled = false;
  let failure: unknown;
  let wake: (() => void) | undefined;
  void download.then(
    () => ((settled = true), wake?.()),
    (e: unknown) => ((failure = e), (settled = true), wake?.()),
  );
  const caughtUp = async (): Promise<boolean> => {
    if (failure !== undefined) throw failure;
    if (settled) return false;
    // Let go of while the network side is still stopping (the consumer
    // failed): changed() no longer waits, and looping on it would starve
    // the event loop that the network side needs to settle.
    if (writer.outcome) throw unavailable(`ingest ${writer.ref} was closed (${writer.outcome}) at byte ${writer.written}, before its download ended`);
    // Not a race with `download`: that would leave one reaction on it per
    // wait for as long as the download runs.
    await new Promise<void>((resolve) => {
      wake = resolve;
      void writer.changed().then(resolve);
    });
    return true;
  };
  const file = await writer.openRead();
  try {
    for await (const chunk of readGrowing(writer, file, 0, Infinity, caughtUp)) {
      if (failure !== undefined) throw failure;
      yield chunk;
    }
  } finally {
    await file.close();
  }
}
