// Telling the tracker what this daemon holds: the layer blobs of its images
// that are in the content store. A full list (replacing the last one) at
// start, after image changes (a pull, a removal, a prune) and every interval,
// so that removed blobs are withdrawn and the tracker's TTL is renewed. The
// blobs being downloaded (and shared meanwhile) go in the same list as partial.
import { messageOf } from '../errdefs/index.ts';
import { log } from '../util/log.ts';
import type { Announce } from './tracker.ts';

export interface AnnouncerDeps {
  /** The layer blobs held now, whole and partial. */
  held(): Promise<{ digests: string[]; partial: string[] }>;
  send(a: Announce): Promise<void>;
  peer: string;
  intervalMs: number;
  onError?: () => void;
}

export class Announcer {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #closed = false;

  constructor(private readonly deps: AnnouncerDeps) {}

  start(): void {
    this.poke();
    this.#timer = setInterval(() => this.poke(), this.deps.intervalMs);
    this.#timer.unref();
  }

  /** Announces soon; calls while one is under way make one more after it. */
  poke(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      try {
        do {
          this.#again = false;
          await this.#once();
        } while (this.#again && !this.#closed);
      } finally {
        this.#running = undefined;
      }
    })();
    return this.#running;
  }

  async #once(): Promise<void> {
    try {
      const { digests, partial } = await this.deps.held();
      await this.deps.send({ peer: this.deps.peer, digests, partial, replace: true });
      log.debug('p2p: announced', { blobs: digests.length, partial: partial.length });
    } catch (err) {
      this.deps.onError?.();
      log.warn('p2p: announcing to the tracker failed (will try again)', { err: messageOf(err) });
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    await this.#running?.catch(() => undefined);
  }
}
