// applyLayer: stream a layer (compressed or not) from its source through a
// decompressor into the tar reader and onto disk, hashing the uncompressed
// bytes on the way for the diff id. Back-pressure comes from awaiting each
// chunk's entries before pulling the next chunk.
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { Readable, pipeline } from 'node:stream';
import type { Duplex } from 'node:stream';
import { JoeyError, canceled, dataLoss, wrap } from '../errdefs/index.ts';
import { MAGIC_LENGTH, decompressor, detectCompression, isDecompressError } from './decompress.ts';
import { TarReader } from './tar-reader.ts';
import type { ApplyLayer, ApplyOptions, ApplyResult, Compression } from './types.ts';
import { LayerWriter } from './writer.ts';

/** Unpacks a layer into the empty directory `dir`: see ApplyLayer in types.ts. */
export async function applyLayer(input: Readable, dir: string, opts: ApplyOptions = {}): Promise<ApplyResult> {
  const { signal, onProgress } = opts;
  // The input may fail before we first read it (while the target is being
  // checked): without a listener that would be an uncaught exception. Reading
  // rethrows the error anyway.
  input.on('error', ignore);
  const writer = new LayerWriter(resolve(dir));
  let decoder: Duplex | undefined;
  let compression: Compression = 'none';
  let aborted: JoeyError | undefined;
  const onAbort = (): void => {
    aborted = canceled('layer apply aborted');
    // A pending read then fails (premature close); `aborted` is what we throw.
    decoder?.destroy();
    input.destroy();
  };
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (aborted) throw aborted;
    await writer.init();
    const source = input[Symbol.asyncIterator]() as AsyncIterator<unknown>;
    const head = await readHead(source, MAGIC_LENGTH);
    compression = detectCompression(head.bytes);
    let plain: AsyncIterable<Buffer> = chunks(head, source);
    if (compression !== 'none') {
      decoder = decompressor(compression);
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
      onProgress?.(total);
      if (reader.ended) continue; // padding after the end-of-archive: hashed, not parsed
      reader.push(chunk);
      for (let tok = reader.next(); tok !== undefined; tok = reader.next()) {
        await writer.token(tok);
        if (aborted) throw aborted;
      }
    }
    reader.finish();
    await writer.finish();
    if (aborted) throw aborted;
    return { diffId: `sha256:${hash.digest('hex')}`, size: writer.size, compression };
  } catch (err) {
    input.destroy();
    decoder?.destroy();
    await writer.abort();
    throw classifyError(aborted ?? err, compression);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}
applyLayer satisfies ApplyLayer;

function ignore(): void {}

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
async function readHead(source: AsyncIterator<unknown>, n: number): Promise<Head> {
  const parts: Buffer[] = [];
  let len = 0;
  while (len < n) {
    const r = await source.next();
    if (r.done) return { bytes: Buffer.concat(parts), done: true };
    const b = toBuffer(r.value);
    parts.push(b);
    len += b.length;
  }
  return { bytes: parts.length === 1 ? parts[0]! : Buffer.concat(parts), done: false };
}

/** The head, then the rest of the source. */
async function* chunks(head: Head, source: AsyncIterator<unknown>): AsyncGenerator<Buffer> {
  let finished = head.done;
  try {
    if (head.bytes.length > 0) yield head.bytes;
    while (!finished) {
      const r = await source.next();
      if (r.done) finished = true;
      else yield toBuffer(r.value);
    }
  } finally {
    // Stopped early: this destroys the input stream.
    if (!finished) await source.return?.();
  }
}

function toBuffer(v: unknown): Buffer {
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  if (typeof v === 'string') return Buffer.from(v);
  throw new TypeError('layer stream yielded a non-byte chunk');
}
