// Stream helpers used on the image paths.
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { dataLoss, invalid } from '../errdefs/index.ts';

/** Reads a small stream fully, refusing more than `max` bytes. */
export async function readAll(stream: Readable, max: number, what = 'content'): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of stream) {
    const b = c as Buffer;
    n += b.length;
    if (n > max) {
      stream.destroy();
      throw invalid(`${what} is larger than ${max} bytes`);
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

export function verifyDigest(data: Buffer, digest: string, what: string): void {
  const got = 'sha256:' + createHash('sha256').update(data).digest('hex');
  if (got !== digest) throw dataLoss(`${what}: digest mismatch: expected ${digest}, got ${got}`);
}
