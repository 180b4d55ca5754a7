// Device nodes and FIFOs, which Node cannot create: through coreutils'
// mknod. Whiteouts come by the thousand in some layers, so they go through
// a few shells that loop over many paths instead of one process each.
import { availableParallelism } from 'node:os';
import { run } from './exec.ts';

/** Creates the FIFO `path` (mode 0666 less the umask). */
export async function makeFifo(path: string): Promise<void> {
  await run('mknod', ['--', path, 'p']);
}

// One shell per batch; "$@" holds the paths. Mode 0 and 0/0 as overlayfs
// itself makes whiteouts.
const WHITEOUT_LOOP = 'for p in "$@"; do mknod -m 000 -- "$p" c 0 0 || exit 1; done';

/** Creates a 0/0 character device (an overlay whiteout) at each absolute path. */
export async function mknodWhiteouts(paths: string[]): Promise<void> {
  if (paths.length === 0) return;
  const lanes = Math.max(1, Math.min(4, availableParallelism()));
  const perLane = Math.max(32, Math.ceil(paths.length / lanes));
  const batches = argBatches(paths, perLane);
  // Each batch is an independent shell: run them side by side, a lane each.
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < batches.length) {
      const batch = batches[next++]!;
      await run('sh', ['-c', WHITEOUT_LOOP, 'sh', ...batch]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(lanes, batches.length) }, lane));
}

/** Splits `args` into groups of at most `count` and at most ~256 KiB of argv. */
function argBatches(args: string[], count: number): string[][] {
  const out: string[][] = [];
  let cur: string[] = [];
  let bytes = 0;
  for (const a of args) {
    const n = Buffer.byteLength(a) + 1;
    if (cur.length > 0 && (cur.length >= count || bytes + n > 256 * 1024)) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(a);
    bytes += n;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}
