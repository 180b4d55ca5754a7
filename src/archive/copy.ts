// copyTree (copy-tree.ts) in an archive worker, for a build's COPY: the
// walk and the writes are synchronous there, and the daemon's event loop
// only waits for the answer. Both trees are ScopedRoots the caller keeps
// open until the promise settles; the worker opens them again through
// their descriptors.
import { ERROR_KINDS, JoeyError, internal } from '../errdefs/index.ts';
import type { CopySpec } from './copy-tree.ts';
import { acquireWorker, releaseWorker, type ArchiveWorker } from './pool.ts';
import { ScopedRoot } from './scoped-root.ts';

/** Negative, so as never to meet an applyLayer job's number. */
let jobs = 0;

export interface CopyRequest {
  src: string;
  entryName: string;
  chown?: { uid: number; gid: number };
  chmod?: number;
}

/** Copies `req.src` of `srcRoot` to `req.entryName` of `destRoot`, as
 * packTree (merged) piped into extractInto would. */
export function copyBetween(srcRoot: ScopedRoot, destRoot: ScopedRoot, req: CopyRequest): Promise<void> {
  const spec: CopySpec = { srcRoot: ScopedRoot.at(srcRoot.root, '.'), destRoot: ScopedRoot.at(destRoot.root, '.'), ...req };
  const job = --jobs;
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    let worker: ArchiveWorker | undefined;
    const settle = (err?: JoeyError): void => {
      if (settled) return;
      settled = true;
      if (worker) releaseWorker(worker);
      if (err) reject(err);
      else resolve();
    };
    try {
      worker = acquireWorker({
        message: (m) => {
          if (m.job !== job) return;
          if (m.t === 'copied') settle();
          else if (m.t === 'fail') settle(new JoeyError((ERROR_KINDS as readonly string[]).includes(m.kind) ? m.kind : 'internal', m.message));
        },
        exit: (err) => settle(internal(`archive worker died: ${err.message}`, err)),
      });
      worker.post({ t: 'copy', job, spec });
    } catch (err) {
      settle(internal(`starting an archive worker: ${(err as Error).message}`, err));
    }
  });
}
