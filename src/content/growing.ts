// Reading a blob while its ingest is still being written (a layer's unpack
// behind its download, a peer reading a download in progress): what is on
// disk at once, the rest as the writer adds it, never past what it has
// written.
import type { FileHandle } from 'node:fs/promises';
import { dataLoss } from '../errdefs/index.ts';
import type { LiveIngest } from './types.ts';

const CHUNK = 256 << 10;

/**
 * Bytes `start` up to `end` (exclusive; Infinity for all there will be) of
 * what `live` writes, read from `file`, its data file, as they are written.
 * When the reader has caught up with the writer, `caughtUp` decides: it
 * resolves true once there may be more, false to end there, or throws.
 */
export async function* readGrowing(live: Pick<LiveIngest, 'ref' | 'written'>, file: FileHandle, start: number, end: number, caughtUp: () => Promise<boolean>): AsyncGenerator<Buffer> {
  let pos = start;
  while (pos < end) {
    const avail = Math.min(live.written, end);
    if (avail > pos) {
      const n = Math.min(avail - pos, CHUNK);
      const { bytesRead, buffer } = await file.read(Buffer.allocUnsafe(n), 0, n, pos);
      if (bytesRead === 0) throw dataLoss(`ingest ${live.ref}: the file ends at ${pos}, before the ${live.written} bytes written`);
      pos += bytesRead;
      yield buffer.subarray(0, bytesRead);
      continue;
    }
    if (!(await caughtUp())) return;
  }
}
