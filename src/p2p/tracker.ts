// The tracker's memory: which peer holds which blob, until when. A peer's
// entries live for a TTL and are renewed by its periodic announce, so a dead
// peer ages out; after a tracker restart the table fills again as peers
// re-announce.
//
// A holder is complete (the blob is committed) or partial (it is downloading
// the blob and serves what it has written so far). Partial holders are kept
// in the order they joined: a peer that joins is told only of the partial
// holders that joined before it, so that "who follows whom" has no cycles
// and, when nobody holds the blob yet, exactly one joiner (the first) is told
// to go to the registry.
//
// A peer's full announce is its list as it was when it set out, which a join
// or withdrawal of the same peer can overtake: a download that joined in
// the last REPLACE_GRACE_MS is not dropped by a full list that lacks it, and
// one withdrawn in that time is not brought back by a list that still has it.

export interface Announce {
  peer: string;
  /** Blobs the peer holds complete. */
  digests?: string[];
  /** Blobs the peer is downloading and serves as far as it has them. */
  partial?: string[];
  /** Blobs the peer no longer holds, complete or partial. */
  withdraw?: string[];
  /** `digests` and `partial` are the whole set: forget anything else of this peer. */
  replace?: boolean;
}

/** Who holds a blob, as the tracker answers. */
export interface Holders {
  /** Peers with the whole blob. */
  peers: string[];
  /** Peers downloading it, oldest joiner first. */
  partial: string[];
}

export const DEFAULT_TTL_MS = 180_000;
/** How far a full announce may lag behind the same peer's joins and withdrawals. */
export const REPLACE_GRACE_MS = 10_000;
/** Bounds what one peer can make the tracker remember. */
export const MAX_BLOBS_PER_PEER = 100_000;

interface Entry {
  until: number;
  partial: boolean;
  /** Join order among partial holders. */
  seq: number;
  /** When the peer last joined for it (0: only announced). */
  joinedAt: number;
}

export class PeerTable {
  /** digest → peer → entry. */
  readonly #byDigest = new Map<string, Map<string, Entry>>();
  /** peer → its digests, for replace and counts. */
  readonly #byPeer = new Map<string, Set<string>>();
  /** "peer digest" → when the peer withdrew it (kept REPLACE_GRACE_MS). */
  readonly #withdrawn = new Map<string, number>();
  #seq = 0;

  constructor(
    readonly ttlMs = DEFAULT_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  announce(a: Announce): void {
    const now = this.now();
    for (const [k, at] of this.#withdrawn) if (now - at >= REPLACE_GRACE_MS) this.#withdrawn.delete(k);
    const held = this.#byPeer.get(a.peer);
    if (a.replace && held) {
      const keep = new Set([...(a.digests ?? []), ...(a.partial ?? [])]);
      for (const d of [...held]) {
        const e = this.#byDigest.get(d)?.get(a.peer);
        if (!keep.has(d) && !(e?.partial && now - e.joinedAt < REPLACE_GRACE_MS)) this.#drop(a.peer, d);
      }
    }
    for (const d of a.withdraw ?? []) {
      this.#drop(a.peer, d);
      this.#withdrawn.set(`${a.peer} ${d}`, now);
    }
    for (const d of a.digests ?? []) if (!this.#set(a.peer, d, false)) break;
    const complete = new Set(a.digests ?? []);
    for (const d of a.partial ?? []) {
      if (complete.has(d)) continue;
      if (a.replace && this.#withdrawn.has(`${a.peer} ${d}`)) continue; // a list from before the withdrawal
      // A full list that names it partial: the peer no longer has it whole (removed, pulling again).
      if (a.replace && this.#byDigest.get(d)?.get(a.peer)?.partial === false) this.#drop(a.peer, d);
      if (!this.#set(a.peer, d, true)) break;
    }
  }

  /** Records `peer` as downloading `digest` (unless it holds it complete)
   * and answers who it may take the blob from: the complete holders and
   * the partial holders that joined before it. Joining again keeps the
   * first place. */
  join(peer: string, digest: string): Holders {
    this.#withdrawn.delete(`${peer} ${digest}`);
    this.#set(peer, digest, true);
    const mine = this.#byDigest.get(digest)?.get(peer);
    if (mine?.partial) mine.joinedAt = this.now();
    const all = this.holders(digest, peer);
    if (!mine?.partial) return all;
    const entries = this.#byDigest.get(digest)!;
    return { peers: all.peers, partial: all.partial.filter((p) => entries.get(p)!.seq < mine.seq) };
  }

  /** Live holders of `digest`, except `exclude` (the asker). */
  holders(digest: string, exclude?: string): Holders {
    const entries = this.#byDigest.get(digest);
    if (!entries) return { peers: [], partial: [] };
    const now = this.now();
    const peers: string[] = [];
    const partial: Array<[string, number]> = [];
    for (const [peer, e] of [...entries]) {
      if (e.until <= now) this.#drop(peer, digest);
      else if (peer === exclude) continue;
      else if (e.partial) partial.push([peer, e.seq]);
      else peers.push(peer);
    }
    return { peers, partial: partial.sort((x, y) => x[1] - y[1]).map(([p]) => p) };
  }

  /** Drops every expired entry (run now and then; lookups also drop lazily). */
  sweep(): number {
    const now = this.now();
    let n = 0;
    for (const [digest, entries] of [...this.#byDigest]) {
      for (const [peer, e] of [...entries]) {
        if (e.until <= now) {
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

  /** Adds or renews an entry; a partial one never downgrades a complete one
   * and keeps its place. False when the peer is at its limit. */
  #set(peer: string, digest: string, partial: boolean): boolean {
    let held = this.#byPeer.get(peer);
    if (!held?.has(digest) && (held?.size ?? 0) >= MAX_BLOBS_PER_PEER) return false;
    if (!held) this.#byPeer.set(peer, (held = new Set()));
    held.add(digest);
    let entries = this.#byDigest.get(digest);
    if (!entries) this.#byDigest.set(digest, (entries = new Map()));
    const old = entries.get(peer);
    const until = this.now() + this.ttlMs;
    if (old && old.until > this.now()) {
      old.until = until;
      if (!partial) old.partial = false;
    } else {
      entries.set(peer, { until, partial, seq: ++this.#seq, joinedAt: 0 });
    }
    return true;
  }

  #drop(peer: string, digest: string): void {
    const entries = this.#byDigest.get(digest);
    entries?.delete(peer);
    if (entries && entries.size === 0) this.#byDigest.delete(digest);
    const held = this.#byPeer.get(peer);
    held?.delete(digest);
    if (held && held.size === 0) this.#byPeer.delete(peer);
  }
}
