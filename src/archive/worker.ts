// The archive worker: a thread that unpacks layers for applyLayer (apply.ts)
// so that the daemon's event loop never waits on them. It takes the layer's
// bytes as they came from the registry or the content store, and does all the
// rest here: decompression (on the thread pool), the diff id hash, the tar
// parsing and the filesystem calls, which are synchronous (see writer.ts).
// Input is acknowledged as it is consumed; applyLayer sends no more than a
// bounded amount ahead of the acknowledgements.
//
// Entry point of its own in the bundle (scripts/build.mjs); see pool.ts for
// how it is started.
import { createHash } from 'node:crypto';
import { Readable, pipeline } from 'node:stream';
import type { Duplex } from 'node:stream';
import { parentPort } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { JoeyError, canceled, dataLoss, wrap } from '../errdefs/index.ts';
import { copyTree } from './copy-tree.ts';
import { MAGIC_LENGTH, decompressor, detectCompression, isDecompressError } from './decompress.ts';
import type { FromWorker, ToWorker } from './protocol.ts';
import { TarReader } from './tar-reader.ts';
import type { ApplyResult, Compression } from './types.ts';
import { LayerWriter } from './writer.ts';

class Job {
  private readonly queue: Buffer[] = [];
  private ended = false;
  private over = false;
  private stopped: JoeyError | undefined;
  private wake: (() => void) | undefined;
  private decoder: Duplex | undefined;
  private readonly writer: LayerWriter;

  constructor(
    readonly id: number,
    dir: string,
    private readonly progress: boolean,
    private readonly port: MessagePort,
    private readonly plain: boolean,
  ) {
    this.writer = new LayerWriter(dir, (msg, fields) => this.send({ t: 'log', job: id, level: 'warn', msg, fields }), { plain });
  }

  /** Runs the job and reports its outcome as its last message. */
  async start(): Promise<void> {
    let last: FromWorker;
    try {
      const result = await this.run();
      last = { t: 'done', job: this.id, result, ...(this.plain ? { digests: [...this.writer.digests] } : {}) };
    } catch (err) {
      const e = err instanceof JoeyError ? err : wrap(err, 'layer worker');
      last = { t: 'fail', job: this.id, kind: e.kind, message: e.message };
    }
    this.over = true;
    this.queue.length = 0;
    this.stopped ??= canceled('layer apply finished');
    this.poke(); // lets a suspended input generator end
    this.send(last);
  }

  data(buf: Buffer): void {
    if (this.over) return;
    this.queue.push(buf);
    this.poke();
  }

  end(): void {
    this.ended = true;
    this.poke();
  }

  abort(): void {
    if (this.over) return;
    this.stopped ??= canceled('layer apply aborted');
    // A pending read of the decoder then fails; `stopped` is what is reported.
    this.decoder?.destroy();
    this.poke();
  }

  private async run(): Promise<ApplyResult> {
    let compression: Compression = 'none';
    try {
      this.writer.init();
      const source = this.input();
      const head = await readHead(source, MAGIC_LENGTH);
      compression = detectCompression(head.bytes);
      let plain: AsyncIterable<Buffer> = chunks(head, source);
      if (compression !== 'none') {
        const decoder = (this.decoder = decompressor(compression));
        // Errors of either side surface through the decoder's iteration.
        pipeline(Readable.from(plain, { objectMode: false }), decoder, () => {});
        plain = decoder;
      }
      const hash = createHash('sha256');
      const reader = new TarReader();
      let total = 0;
      for await (const chunk of plain) {
        hash.update(chunk);
        total += chunk.length;
        if (this.progress) this.send({ t: 'progress', job: this.id, total });
        if (reader.ended) continue; // padding after the end-of-archive: hashed, not parsed
        reader.push(chunk);
        for (let tok = reader.next(); tok !== undefined; tok = reader.next()) {
          const pending = this.writer.token(tok);
          if (pending === undefined) continue;
          // Only here (and between chunks) can an abort message have come in.
          await pending;
          if (this.stopped) throw this.stopped;
        }
        if (this.stopped) throw this.stopped;
      }
      reader.finish();
      await this.writer.finish();
      if (this.stopped) throw this.stopped;
      return { diffId: `sha256:${hash.digest('hex')}`, size: this.writer.size, compression };
    } catch (err) {
      this.decoder?.destroy();
      this.writer.abort();
      throw classifyError(this.stopped ?? err, compression);
    }
  }

  /** The input as it arrives; each chunk is acknowledged once the next is asked for. */
  private async *input(): AsyncGenerator<Buffer> {
    for (;;) {
      if (this.stopped) throw this.stopped;
      const b = this.queue.shift();
      if (b !== undefined) {
        yield b;
        this.send({ t: 'ack', job: this.id, n: b.length });
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private poke(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private send(m: FromWorker): void {
    this.port.postMessage(m);
  }
}

function classifyError(err: unknown, compression: Compression): JoeyError {
  if (err instanceof JoeyError) return err;
  if (isDecompressError(err)) return dataLoss(`layer: corrupt ${compression} stream: ${(err as Error).message}`, err);
  return wrap(err, 'reading layer');
}

interface Head {
  bytes: Buffer;
  done: boolean;
}

/** At least `n` bytes from the start of the source (fewer only if it ends). */
async function readHead(source: AsyncIterator<Buffer>, n: number): Promise<Head> {
  const parts: Buffer[] = [];
  let len = 0;
  while (len < n) {
    const r = await source.next();
    if (r.done) return { bytes: Buffer.concat(parts), done: true };
    parts.push(r.value);
    len += r.value.length;
  }
  return { bytes: parts.length === 1 ? parts[0]! : Buffer.concat(parts), done: false };
}

/** The head, then the rest of the source. */
async function* chunks(head: Head, source: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  let finished = head.done;
  try {
    if (head.bytes.length > 0) yield head.bytes;
    while (!finished) {
      const r = await source.next();
      if (r.done) finished = true;
      else yield r.value;
    }
  } finally {
    if (!finished) await source.return?.(undefined);
  }
}

function serve(port: MessagePort): void {
  let job: Job | undefined;
  port.on('message', (m: ToWorker) => {
    if (m.t === 'start') {
      const current = (job = new Job(m.job, m.dir, m.progress, port, m.plain === true));
      void current.start().finally(() => {
        if (job === current) job = undefined;
      });
      return;
    }
    if (m.t === 'copy') {
      const id = m.job;
      copyTree(m.spec).then(
        () => port.postMessage({ t: 'copied', job: id } satisfies FromWorker),
        (err: unknown) => {
          const e = err instanceof JoeyError ? err : wrap(err, 'copying');
          port.postMessage({ t: 'fail', job: id, kind: e.kind, message: e.message } satisfies FromWorker);
        },
      );
      return;
    }
    // Messages of a job that has already reported are dropped.
    if (job?.id !== m.job) return;
    switch (m.t) {
      case 'data':
        job.data(Buffer.from(m.buf));
        return;
      case 'end':
        job.end();
        return;
      case 'abort':
        job.abort();
        return;
    }
  });
}

if (!parentPort) throw new Error('src/archive/worker.ts is the entry point of a worker thread');
serve(parentPort);
