// Archive workers (worker.ts), started on first use, one per layer being
// unpacked, and kept idle for a while afterwards so that the layers of a
// pull, and the next pull, do not each pay for a thread start. Idle workers
// do not keep the process alive.
import { Worker } from 'node:worker_threads';
import type { FromWorker, ToWorker } from './protocol.ts';

/** Idle workers kept: enough for the layers a pull unpacks at once. */
const MAX_IDLE = 4;
/** An idle worker is ended after this long. */
const IDLE_MS = 60_000;

export interface JobListener {
  message(m: FromWorker): void;
  /** The thread is gone; `err` is what it threw, if anything. */
  exit(err: Error): void;
}

export class ArchiveWorker {
  private readonly thread: Worker;
  private listener: JobListener | undefined;
  private error: Error | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  dead = false;

  constructor(private readonly onExit: (w: ArchiveWorker) => void) {
    this.thread = startThread();
    this.thread.on('message', (m: FromWorker) => this.listener?.message(m));
    this.thread.on('error', (err) => (this.error ??= err));
    this.thread.on('messageerror', (err) => {
      this.error ??= err;
      void this.thread.terminate();
    });
    this.thread.on('exit', (code) => {
      this.dead = true;
      clearTimeout(this.idleTimer);
      const err = this.error ?? new Error(`exited with code ${code}`);
      const l = this.listener;
      this.listener = undefined;
      l?.exit(err);
      this.onExit(this);
    });
  }

  post(m: ToWorker, transfer?: ArrayBuffer[]): void {
    this.thread.postMessage(m, transfer);
  }

  attach(l: JobListener): void {
    clearTimeout(this.idleTimer);
    this.listener = l;
    this.thread.ref();
  }

  detach(): void {
    this.listener = undefined;
    this.thread.unref();
  }

  idleFor(ms: number, then: () => void): void {
    this.idleTimer = setTimeout(then, ms);
    this.idleTimer.unref();
  }

  async terminate(): Promise<void> {
    this.dead = true;
    await this.thread.terminate();
  }
}

const idle: ArchiveWorker[] = [];
const all = new Set<ArchiveWorker>();

function forget(w: ArchiveWorker): void {
  all.delete(w);
  const i = idle.indexOf(w);
  if (i !== -1) idle.splice(i, 1);
}

/** A worker for one job: an idle one, or a new one (whose start overlaps the job's first messages). */
export function acquireWorker(l: JobListener): ArchiveWorker {
  let w = idle.pop();
  if (!w) {
    w = new ArchiveWorker(forget);
    all.add(w);
  }
  w.attach(l);
  return w;
}

/** Gives back a worker whose job has sent its last message. */
export function releaseWorker(w: ArchiveWorker): void {
  w.detach();
  if (w.dead) return;
  if (idle.length >= MAX_IDLE) {
    void w.terminate();
    return;
  }
  idle.push(w);
  w.idleFor(IDLE_MS, () => {
    forget(w);
    void w.terminate();
  });
}

/** How many workers are idle (tests). */
export function idleWorkers(): number {
  return idle.length;
}

/** Ends every worker; the jobs of busy ones fail (tests; a process may also just exit). */
export async function terminateWorkers(): Promise<void> {
  idle.length = 0;
  await Promise.all([...all].map((w) => w.terminate()));
}

function startThread(): Worker {
  const here = import.meta.url;
  const name = 'joey-archive';
  if (here.endsWith('.ts')) {
    // The source tree under tsx (tests, development). On Node 20 tsx's hooks
    // do not reach a worker's entry module, so a bootstrap registers them.
    const entry = new URL('./worker.ts', here);
    let api: string | undefined;
    try {
      api = import.meta.resolve('tsx/esm/api');
    } catch {
      // No tsx: a runtime that loads .ts files by itself.
    }
    if (api === undefined) return new Worker(entry, { name });
    const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); });`;
    return new Worker(boot, { eval: true, name });
  }
  // The bundle (scripts/build.mjs): this code is in dist/ or dist/chunks/,
  // and the worker is the entry point dist/archive-worker.mjs.
  const rel = /\/chunks\/[^/]*$/.test(here) ? '../archive-worker.mjs' : './archive-worker.mjs';
  return new Worker(new URL(rel, here), { name });
}
