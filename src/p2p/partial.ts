// The blobs this daemon is downloading for a pull and lets peers read while
// it does. Only layer blobs that a p2p pull registered are here (never any
// ingest by name), each with the size its manifest declares, for as long as
// the download's writer is open.
import type { IngestOutcome, LiveIngest } from '../content/types.ts';

export interface Sharing {
  digest: string;
  size: number;
  live: LiveIngest;
}

export class PartialBlobs {
  readonly #live = new Map<string, Sharing>();
  /** Committed since they were shared, until a full announce lists them as
   * held (they are in an image) or they are gone: the tracker keeps naming
   * this daemon for them in between. */
  readonly #committed = new Set<string>();

  constructor(private readonly onEnd: (digest: string, outcome: IngestOutcome) => void = () => undefined) {}

  /** Serves `live` as `digest` until its writer ends. */
  add(digest: string, size: number, live: LiveIngest): void {
    if (live.outcome || this.#live.get(digest)?.live === live) return;
    this.#live.set(digest, { digest, size, live });
    this.#committed.delete(digest);
    void live.ended.then((outcome) => {
      if (this.#live.get(digest)?.live !== live) return; // a newer writer took over
      this.#live.delete(digest);
      if (outcome === 'committed') this.#committed.add(digest);
      this.onEnd(digest, outcome);
    });
  }

  /** The blob being downloaded now, if it is shared. */
  get(digest: string): Sharing | undefined {
    const s = this.#live.get(digest);
    return s && !s.live.outcome ? s : undefined;
  }

  /** What a full announce lists as partial: the downloads under way, and
   * the committed ones that are neither `complete` nor gone. */
  async listed(complete: Set<string>, exists: (digest: string) => Promise<boolean>): Promise<string[]> {
    for (const d of [...this.#committed]) if (complete.has(d) || !(await exists(d))) this.#committed.delete(d);
    return [...new Set([...this.#live.keys(), ...this.#committed])].filter((d) => !complete.has(d));
  }
}
