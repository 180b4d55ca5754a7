// The tracker's memory: which peer holds which blob, until when. A peer's
// entries live for a TTL and are renewed by its periodic announce, so a dead
// peer ages out; after a tracker restart the table fills again as peers
// re-announce.

export interface Announce {
  peer: string;
  /** Blobs the peer holds. */
  digests?: string[];
  /** Blobs the peer no longer holds. */
  withdraw?: string[];
  /** `digests` is the whole set: forget anything else of this peer. */
  replace?: boolean;
}

export const DEFAULT_TTL_MS = 180_000;
/** Bounds what one peer can make the tracker remember. */
export const MAX_BLOBS_PER_PEER = 100_000;

export class PeerTable {
  /** digest → peer → expiry (ms). */
  readonly #byDigest = new Map<string, Map<string, number>>();
  /** peer → its digests, for replace and counts. */
  readonly #byPeer = new Map<string, Set<string>>();

  constructor(
    readonly ttlMs = DEFAULT_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  announce(a: Announce): void {
    const until = this.now() + this.ttlMs;
    let held = this.#byPeer.get(a.peer);
    if (a.replace && held) {
      const keep = new Set(a.digests ?? []);
      for (const d of [...held]) if (!keep.has(d)) this.#drop(a.peer, d);
    }
    for (const d of a.withdraw ?? []) this.#drop(a.peer, d);
    held = this.#byPeer.get(a.peer);
    if (!held && (a.digests?.length ?? 0) > 0) this.#byPeer.set(a.peer, (held = new Set()));
    for (const d of a.digests ?? []) {
      if (!held!.has(d) && held!.size >= MAX_BLOBS_PER_PEER) break;
      held!.add(d);
      let peers = this.#byDigest.get(d);
      if (!peers) this.#byDigest.set(d, (peers = new Map()));
      peers.set(a.peer, until);
    }
    // A full announce also renews what it lists; entries it did not list are gone above.
  }

  /** Live holders of `digest`, except `exclude` (the asker). */
  peers(digest: string, exclude?: string): string[] {
    const peers = this.#byDigest.get(digest);
    if (!peers) return [];
    const now = this.now();
    const out: string[] = [];
    for (const [peer, until] of peers) {
      if (until <= now) this.#drop(peer, digest);
      else if (peer !== exclude) out.push(peer);
    }
    return out;
  }

  /** Drops every expired entry (run now and then; lookups also drop lazily). */
  sweep(): number {
    const now = this.now();
    let n = 0;
    for (const [digest, peers] of [...this.#byDigest]) {
      for (const [peer, until] of [...peers]) {
        if (until <= now) {
          this.#drop(peer, digest);
          n++;
        }
      }
    }
    return n;
  }

  stats(): { peers: number; blobs: number } {
    return { peers: this.#byPeer.size, blobs: this.#byDigest.size };
  }

  #drop(peer: string, digest: string): void {
    const peers = this.#byDigest.get(digest);
    peers?.delete(peer);
    if (peers && peers.size === 0) this.#byDigest.delete(digest);
    const held = this.#byPeer.get(peer);
    held?.delete(digest);
    if (held && held.size === 0) this.#byPeer.delete(peer);
  }
}
