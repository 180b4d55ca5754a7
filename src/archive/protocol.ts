// Messages between applyLayer (the daemon's thread) and an archive worker.
// A worker runs one job at a time; every message names its job, so that
// whatever was in flight for an earlier job is recognised and dropped.
import type { ErrorKind } from '../errdefs/index.ts';
import type { CopySpec } from './copy-tree.ts';
import type { ApplyResult } from './types.ts';

export type ToWorker =
  /** Unpack into `dir` (absolute, empty) the bytes that follow; `plain`: a
   * build context rather than a layer (writer.ts). */
  | { t: 'start'; job: number; dir: string; progress: boolean; plain?: boolean }
  /** Layer bytes as they came (compressed or not); the buffer is transferred. */
  | { t: 'data'; job: number; buf: ArrayBuffer }
  /** The input ended: finish the layer and report. */
  | { t: 'end'; job: number }
  /** Stop as soon as possible, close what is open and report. */
  | { t: 'abort'; job: number }
  /** A build's COPY (copy-tree.ts), a job of its own: answered with `copied` or `fail`. */
  | { t: 'copy'; job: number; spec: CopySpec };

export type FromWorker =
  /** `n` input bytes were consumed: room for more. */
  | { t: 'ack'; job: number; n: number }
  /** Uncompressed bytes seen so far (only when the job asked for progress). */
  | { t: 'progress'; job: number; total: number }
  | { t: 'log'; job: number; level: 'warn'; msg: string; fields: Record<string, unknown> }
  /** The job's last message: it did all it will ever do to the directory. */
  | { t: 'done'; job: number; result: ApplyResult; digests?: Array<[string, { digest: string; size: number }]> }
  | { t: 'copied'; job: number }
  | { t: 'fail'; job: number; kind: ErrorKind; message: string };
