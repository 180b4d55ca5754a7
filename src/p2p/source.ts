// Where one pull's layer bytes come from: peers first (as the tracker names
// them), resuming with Range on the next peer when one drops, then the
// registry for whatever is left. Peers with the whole blob come first; then
// peers still downloading it (partial holders), nearest in join order first,
// whose answers grow as their downloads do. The bytes go on to the unchanged
// pull path, which verifies the digest as for any registry blob; when that
// check fails, `corrupt` marks every peer that contributed and the layer is
// fetched again.
import { pipeline, Readable, Transform } from 'node:stream';
import { messageOf, unavailable } from '../errdefs/index.ts';
import type { Descriptor } from '../remotes/types.ts';
import { log } from '../util/log.ts';
import type { P2PClient } from './client.ts';
import type { P2PStats } from './stats.ts';
import type { Holders } from './tracker.ts';

export interface PeerLookup {
  /** Who holds the blob (the tracker's answer); when this daemon shares
   * what it downloads, it also joins the partial holders here. Throws when
   * the tracker is unreachable. */
  holders(desc: Descriptor, signal?: AbortSignal): Promise<Holders>;
}

export interface SourceDeps {
  lookup: PeerLookup;
  client: Pick<P2PClient, 'blob'>;
  stats: P2PStats;
  /** At most this many peers with the whole blob are tried per blob (default 6). */
  maxPeers?: number;
  /** At most this many partial holders are followed per blob (default 3). */
  maxPartial?: number;
  /** Blobs above this size are fetched in pieces from several peers at once (default 16 MiB; 0: never). */
  piecesAbove?: number;
  /** Piece size (default 4 MiB). */
  pieceSize?: number;
  /** Pieces in flight per blob (default 3). */
  pieceWindow?: number;
  random?: () => number;
}

/** Tries of one blob from peers that gave bad bytes, before only the
 * registry is asked: the one bound on fetching a layer again after a digest
 * mismatch (the unpacker asks `corrupt`, which says no after it). */
export const MAX_PEER_TRIES = 3;

export type RegistryOpen = (offset: number, signal?: AbortSignal) => Promise<Readable>;

/** The sources of one pull: peers found bad stay out for the rest of it. */
export class PullSources {
  /** Peers whose bytes failed a digest check in this pull. */
  readonly bad = new Set<string>();
  readonly #contributors = new Map<string, Set<string>>();
  /** Bad tries per blob: after MAX_PEER_TRIES the blob comes from the registry only. */
  readonly #badTries = new Map<string, number>();
  /** The tracker failed once in this pull: the rest goes to the registry
   * without waiting on it again for each layer and resume. */
  #trackerDown = false;

  constructor(private readonly deps: SourceDeps) {}

  /** The blob's bytes from `offset`. Errors before the first byte (the
   * registry's 404, say) reject here, as the registry fetcher's do. */
  async open(desc: Descriptor, offset: number, registry: RegistryOpen, signal?: AbortSignal): Promise<Readable> {
    const { stats } = this.deps;
    let holders: Holders = { peers: [], partial: [] };
    if (!this.#trackerDown && desc.size > 0 && offset < desc.size && (this.#badTries.get(desc.digest) ?? 0) < MAX_PEER_TRIES) {
      try {
        holders = await this.deps.lookup.holders(desc, signal);
      } catch (err) {
        if (signal?.aborted) throw err;
        this.#trackerDown = true;
        stats.trackerErrors++;
        log.warn('p2p: tracker lookup failed, using the registry', { digest: desc.digest, err: messageOf(err) });
      }
    }
    const whole = shuffle(holders.peers.filter((p) => !this.bad.has(p)), this.deps.random ?? Math.random).slice(0, this.deps.maxPeers ?? 6);
    // The nearest earlier joiner first: a fleet that starts together forms a
    // chain, each node passing the blob on to one other, and the first one
    // alone goes to the registry. The ones before are the fallbacks if it stops.
    const partial = holders.partial.filter((p) => !this.bad.has(p) && !whole.includes(p)).slice(-(this.deps.maxPartial ?? 3)).reverse();
    if (whole.length + partial.length === 0) {
      const body = await registry(offset, signal);
      stats.registryBlobs++;
      log.info('layer blob source', { digest: desc.digest, from: ['registry'], offset });
      return pipeline(body, counting((n) => (stats.registryBytes += n)), () => undefined);
    }
    // Destroying the stream (its reader failed or went away) aborts the
    // chain's request at once. Without it the chain would go on waiting on
    // the current peer, then take the end for that peer's failure and open
    // the next source (blaming it if the bytes are then found bad).
    const stop = new AbortController();
    const onAbort = () => stop.abort(signal?.reason);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    const out = Readable.from(this.#chain(desc, offset, whole, partial, registry, stop.signal), { objectMode: false, highWaterMark: 1 << 20 });
    const destroy = out._destroy.bind(out);
    out._destroy = (err, cb) => {
      signal?.removeEventListener('abort', onAbort);
      if (!out.readableEnded) stop.abort(err ?? unavailable('the reader went away'));
      destroy(err, cb);
    };
    return out;
  }

  /** The bytes last given for `desc` did not verify: the peers that gave any
   * of them are left out from now on. True when a peer was involved (so a
   * new try, from other peers or the registry, is worth it). */
  corrupt(desc: Descriptor): boolean {
    const peers = this.#contributors.get(desc.digest);
    this.#contributors.delete(desc.digest);
    if (!peers || peers.size === 0) return false;
    this.#badTries.set(desc.digest, (this.#badTries.get(desc.digest) ?? 0) + 1);
    for (const p of peers) {
      this.bad.add(p);
      this.deps.stats.corruptPeers++;
      log.warn('p2p: a peer sent bytes that do not match the digest; it is skipped for the rest of this pull', { peer: p, digest: desc.digest });
    }
    return true;
  }

  #gave(digest: string, peer: string): void {
    let s = this.#contributors.get(digest);
    if (!s) this.#contributors.set(digest, (s = new Set()));
    s.add(peer);
  }

  /** `whole`: peers with the whole blob (pieces from several at once when
   * it is large); `partial`: peers still downloading it, followed one after
   * the other, each resumed where the last stopped. */
  async *#chain(desc: Descriptor, offset: number, whole: string[], partial: string[], registry: RegistryOpen, signal?: AbortSignal): AsyncGenerator<Buffer> {
    const { stats, client } = this.deps;
    const size = desc.size;
    const digest = desc.digest;
    let pos = offset;
    const from = new Map<string, number>();
    const got = (src: string, n: number) => from.set(src, (from.get(src) ?? 0) + n);
    const piecesAbove = this.deps.piecesAbove ?? 16 << 20;
    if (piecesAbove > 0 && size - pos > piecesAbove && whole.length > 1) {
      for await (const { peer, data } of this.#pieces(desc, pos, whole, signal)) {
        this.#gave(digest, peer);
        pos += data.length;
        stats.peerBytes += data.length;
        got(peer, data.length);
        yield data;
      }
    }
    for (const peer of [...whole, ...partial]) {
      if (pos >= size) break;
      if (this.bad.has(peer)) continue;
      let body: Readable | undefined;
      try {
        body = await client.blob(peer, digest, size, pos, size - 1, signal);
        for await (const chunk of body) {
          const b = chunk as Buffer;
          if (pos + b.length > size) throw unavailable(`peer ${peer} sent more than the ${size} bytes of ${digest}`);
          this.#gave(digest, peer);
          pos += b.length;
          stats.peerBytes += b.length;
          got(peer, b.length);
          yield b;
        }
        if (pos < size) throw unavailable(`peer ${peer} ended ${digest} at byte ${pos} of ${size}`);
      } catch (err) {
        body?.destroy();
        if (signal?.aborted) throw err;
        stats.peerFailures++;
        log.warn('p2p: peer failed, trying the next source', { digest, peer, at: pos, err: messageOf(err) });
      }
    }
    if (pos < size) {
      const r = await registry(pos, signal);
      for await (const chunk of r) {
        const b = chunk as Buffer;
        pos += b.length;
        stats.registryBytes += b.length;
        got('registry', b.length);
        yield b;
      }
    }
    if ([...from.keys()].some((k) => k !== 'registry')) stats.peerBlobs++;
    if (from.has('registry')) stats.registryBlobs++;
    log.info('layer blob source', { digest, from: [...from.keys()], bytes: Object.fromEntries(from), offset });
  }

  /** Fixed-size pieces from `start`, fetched a few at a time from different
   * peers and given back in order. Stops (leaving the rest to the
   * sequential path) at the first piece no peer could give. */
  async *#pieces(desc: Descriptor, start: number, peers: string[], signal?: AbortSignal): AsyncGenerator<{ peer: string; data: Buffer }> {
    const pieceSize = this.deps.pieceSize ?? 4 << 20;
    const window = this.deps.pieceWindow ?? 3;
    const size = desc.size;
    let next = start;
    let turn = 0;
    const inflight: Array<Promise<{ peer: string; data: Buffer } | undefined>> = [];
    // Ends the requests of pieces nobody will read (after a failure, or when the reader goes away).
    const stop = new AbortController();
    const onAbort = () => stop.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    const launch = () => {
      const s = next;
      const e = Math.min(s + pieceSize, size) - 1;
      next = e + 1;
      const first = turn++;
      const p = this.#piece(desc, s, e, peers, first, stop.signal);
      p.catch(() => undefined);
      inflight.push(p);
    };
    try {
      while (next < size && inflight.length < window) launch();
      while (inflight.length > 0) {
        const piece = await inflight.shift()!;
        if (!piece) return; // the rest goes the sequential way, from `start` + what was given
        yield piece;
        if (next < size) launch();
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      stop.abort();
    }
  }

  async #piece(desc: Descriptor, s: number, e: number, peers: string[], first: number, signal?: AbortSignal): Promise<{ peer: string; data: Buffer } | undefined> {
    const { client, stats } = this.deps;
    for (let i = 0; i < peers.length; i++) {
      const peer = peers[(first + i) % peers.length]!;
      if (this.bad.has(peer)) continue;
      try {
        const body = await client.blob(peer, desc.digest, desc.size, s, e, signal);
        const chunks: Buffer[] = [];
        let n = 0;
        for await (const c of body) {
          n += (c as Buffer).length;
          if (n > e - s + 1) {
            body.destroy();
            throw unavailable(`peer ${peer} sent more than bytes ${s}-${e} of ${desc.digest}`);
          }
          chunks.push(c as Buffer);
        }
        if (n !== e - s + 1) throw unavailable(`peer ${peer} sent ${n} of bytes ${s}-${e} of ${desc.digest}`);
        return { peer, data: Buffer.concat(chunks) };
      } catch (err) {
        if (signal?.aborted) throw err;
        stats.peerFailures++;
        log.warn('p2p: piece failed on a peer, trying the next', { digest: desc.digest, peer, piece: `${s}-${e}`, err: messageOf(err) });
      }
    }
    return undefined;
  }
}

function counting(add: (n: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _e, cb) {
      add(chunk.length);
      cb(null, chunk);
    },
  });
}

function shuffle<T>(items: T[], random: () => number): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}
