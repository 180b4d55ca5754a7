// applyLayer: unpacks a layer in an archive worker thread (worker.ts), which
// decompresses, hashes, parses and writes with synchronous filesystem calls.
// This thread only forwards the input's bytes, copied into buffers that are
// transferred to the worker, and keeps at most WINDOW bytes ahead of what
// the worker has acknowledged: the input is not read further until it has.
import { resolve as resolvePath } from 'node:path';
import { finished } from 'node:stream';
import type { Readable } from 'node:stream';
import { ERROR_KINDS, JoeyError, canceled, internal, invalid, wrap } from '../errdefs/index.ts';
import { log } from '../util/log.ts';
import { acquireWorker, releaseWorker } from './pool.ts';
import type { ArchiveWorker } from './pool.ts';
import type { FromWorker } from './protocol.ts';
import type { ApplyLayer, ApplyOptions, ApplyResult } from './types.ts';
import type { FileDigests } from './writer.ts';

/** Input bytes sent to the worker and not yet acknowledged, at most (plus one message). */
const WINDOW = 8 << 20;
/** Input bytes gathered into one message, at most (unless one chunk is bigger). */
const MESSAGE = 1 << 20;

let jobs = 0;

/** Unpacks a layer into the empty directory `dir`: see ApplyLayer in types.ts. */
export function applyLayer(input: Readable, dir: string, opts: ApplyOptions = {}): Promise<ApplyResult> {
  // The input may fail before the worker reads it: without a listener that
  // would be an uncaught exception. The failure is seen through finished().
  input.on('error', ignore);
  if (opts.signal?.aborted) {
    input.destroy();
    return Promise.reject(canceled('layer apply aborted'));
  }
  return new Promise((resolve, reject) => new Forward(input, resolvePath(dir), opts, false, resolve, reject).start());
}
applyLayer satisfies ApplyLayer;

/**
 * Unpacks a build context (a client's tar, plain or gzip: hostile) into the
 * empty directory `dir`, in the worker as a layer is, by extractInto's rules
 * (writer.ts, `plain`); a hostile entry fails with `invalid`. Returns the
 * sha256 of every regular file.
 */
export function unpackPlainTree(input: Readable, dir: string, opts: { signal?: AbortSignal } = {}): Promise<FileDigests> {
  input.on('error', ignore);
  if (opts.signal?.aborted) {
    input.destroy();
    return Promise.reject(canceled('unpacking aborted'));
  }
  return new Promise<FileDigests>((resolve, reject) =>
    new Forward(input, resolvePath(dir), opts, true, (_r, digests) => resolve(new Map(digests)), (err) => reject(err.kind === 'data-loss' ? invalid(err.message, err) : err)).start(),
  );
}

class Forward {
  private readonly job = ++jobs;
  private worker: ArchiveWorker | undefined;
  private inFlight = 0;
  private inputDone = false;
  /** Set on abort or an input error; the worker is then told to stop. */
  private failure: JoeyError | undefined;
  private settled = false;
  private unwatch: (() => void) | undefined;

  constructor(
    private readonly input: Readable,
    private readonly dir: string,
    private readonly opts: ApplyOptions,
    private readonly plain: boolean,
    private readonly resolve: (r: ApplyResult, digests?: Array<[string, { digest: string; size: number }]>) => void,
    private readonly reject: (e: JoeyError) => void,
  ) {}

  start(): void {
    try {
      this.worker = acquireWorker({ message: (m) => this.onMessage(m), exit: (err) => this.onExit(err) });
    } catch (err) {
      this.input.destroy();
      this.settle(internal(`starting a layer worker: ${(err as Error).message}`, err));
      return;
    }
    this.worker.post({ t: 'start', job: this.job, dir: this.dir, progress: this.opts.onProgress !== undefined, ...(this.plain ? { plain: true } : {}) });
    this.opts.signal?.addEventListener('abort', this.onAbort, { once: true });
    this.input.on('readable', this.pump);
    this.unwatch = finished(this.input, this.onInputDone);
    this.pump();
  }

  /** Sends what the input has, as long as the window allows. */
  private readonly pump = (): void => {
    try {
      while (!this.inputDone && !this.failure && !this.settled && this.inFlight < WINDOW) {
        const parts: Uint8Array[] = [];
        let n = 0;
        while (n < MESSAGE) {
          const chunk: unknown = this.input.read();
          if (chunk === null) break;
          const b = toBytes(chunk);
          if (b.length === 0) continue;
          parts.push(b);
          n += b.length;
        }
        if (n === 0) return;
        // A copy: the input's buffers may be shared (a pool, a tee into the
        // content store). allocUnsafeSlow: its own ArrayBuffer, not zeroed.
        const copy = Buffer.allocUnsafeSlow(n);
        let off = 0;
        for (const p of parts) {
          copy.set(p, off);
          off += p.length;
        }
        const buf = copy.buffer as ArrayBuffer;
        this.inFlight += n;
        this.worker!.post({ t: 'data', job: this.job, buf }, [buf]);
      }
    } catch (err) {
      this.fail(wrap(err, 'reading layer'));
    }
  };

  private readonly onInputDone = (err?: Error | null): void => {
    if (this.failure || this.settled) return;
    if (err) {
      this.fail(err instanceof JoeyError ? err : wrap(err, 'reading layer'));
      return;
    }
    this.inputDone = true;
    this.worker!.post({ t: 'end', job: this.job });
  };

  private readonly onAbort = (): void => this.fail(canceled('layer apply aborted'));

  /** A failure on this side: the worker stops, and once it reports, `err` is the outcome. */
  private fail(err: JoeyError): void {
    if (this.failure || this.settled) return;
    this.failure = err;
    this.input.destroy();
    this.worker!.post({ t: 'abort', job: this.job });
  }

  private onMessage(m: FromWorker): void {
    if (m.job !== this.job || this.settled) return;
    switch (m.t) {
      case 'ack':
        this.inFlight -= m.n;
        this.pump();
        return;
      case 'progress':
        if (this.failure) return;
        try {
          this.opts.onProgress?.(m.total);
        } catch (err) {
          // As if thrown by the apply itself, not out of a message handler.
          this.fail(wrap(err, 'layer progress'));
        }
        return;
      case 'log':
        log.warn(m.msg, m.fields);
        return;
      case 'done':
        this.settle(this.failure, m.result, m.digests);
        return;
      case 'fail': {
        this.input.destroy();
        const kind = (ERROR_KINDS as readonly string[]).includes(m.kind) ? m.kind : 'internal';
        this.settle(this.failure ?? new JoeyError(kind, m.message));
        return;
      }
    }
  }

  /** The worker thread ended in the middle of the job (it no longer writes anything). */
  private onExit(err: Error): void {
    if (this.settled) return;
    this.input.destroy();
    this.settle(this.failure ?? internal(`layer worker died: ${err.message}`, err));
  }

  private settle(err: JoeyError | undefined, result?: ApplyResult, digests?: Array<[string, { digest: string; size: number }]>): void {
    if (this.settled) return;
    this.settled = true;
    this.opts.signal?.removeEventListener('abort', this.onAbort);
    this.input.off('readable', this.pump);
    this.unwatch?.();
    if (this.worker) releaseWorker(this.worker);
    if (err) this.reject(err);
    else this.resolve(result!, digests);
  }
}

function ignore(): void {}

function toBytes(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'string') return Buffer.from(v);
  throw new TypeError('layer stream yielded a non-byte chunk');
}
