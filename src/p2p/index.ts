// The p2p service of one joeyd: its blob server, its tracker, the announcer,
// and the fetcher that pulls wrap around the registry client.
import type { ContentStore, IngestOutcome } from '../content/types.ts';
import { messageOf } from '../errdefs/index.ts';
import type { Descriptor, Registry } from '../remotes/types.ts';
import { log } from '../util/log.ts';
import { Announcer } from './announcer.ts';
import { P2PClient } from './client.ts';
import { formatHostPort, type P2PConfig } from './config.ts';
import { PartialBlobs } from './partial.ts';
import { p2pRegistry } from './repository.ts';
import { blobHandler, serve, trackerHandler, type P2PServer } from './server.ts';
import { PullSources } from './source.ts';
import { metricsLines, newStats, type P2PStats } from './stats.ts';
import { PeerTable, type Holders } from './tracker.ts';

export type { P2PConfig } from './config.ts';
export { parseP2PSettings, type P2PSettings } from './config.ts';

const DEFAULT_ANNOUNCE_MS = 60_000;

export interface P2PDeps {
  content: ContentStore;
  /** Layer blob digests of the images in the store. */
  layerDigests(): string[];
  /** Calls `fn` on every image change (pull, load, delete, prune…). */
  onImageChange(fn: () => void): () => void;
}

export class P2PService {
  readonly stats: P2PStats = newStats();
  readonly client: P2PClient;
  readonly #servers: P2PServer[] = [];
  #announcer: Announcer | undefined;
  #unsubscribe: (() => void) | undefined;
  #sweeper: NodeJS.Timeout | undefined;
  #content: ContentStore | undefined;
  /** Layers this daemon is downloading, served to peers meanwhile. */
  readonly partials = new PartialBlobs((digest, outcome) => this.#ended(digest, outcome));
  /** Withdrawals under way, by digest: a new join for it waits for its withdrawal. */
  readonly #withdrawing = new Map<string, Promise<void>>();

  constructor(readonly config: P2PConfig) {
    this.client = new P2PClient({ secret: config.secret });
  }

  /** Whether this daemon passes on the layers it is downloading: it needs a
   * blob server peers can reach. */
  get #sharing(): boolean {
    return this.config.listen !== undefined && this.config.advertise !== undefined;
  }

  async #holders(tracker: string, desc: Descriptor, signal?: AbortSignal): Promise<Holders> {
    const advertise = this.config.advertise;
    const live = this.#sharing ? this.#content?.live(desc.digest) : undefined;
    if (!live || !advertise) return this.client.holders(tracker, desc.digest, advertise, signal);
    // Served before the tracker names this daemon, so that a peer told to
    // follow it never finds nothing here.
    this.partials.add(desc.digest, desc.size, live);
    await this.#withdrawing.get(desc.digest);
    return this.client.join(tracker, advertise, desc.digest, signal);
  }

  /** A shared download ended. Unless it was committed (the blob is then
   * served whole, and the next full announce says so), the tracker must stop
   * naming this daemon for it at once. */
  #ended(digest: string, outcome: IngestOutcome): void {
    const { tracker, advertise } = this.config;
    if (outcome === 'committed' || !tracker || !advertise) return;
    const p: Promise<void> = this.client
      .announce(tracker, { peer: advertise, withdraw: [digest] })
      .catch((err: unknown) => {
        this.stats.trackerErrors++;
        log.warn('p2p: withdrawing a stopped download from the tracker failed (it ages out)', { digest, err: messageOf(err) });
      })
      .finally(() => {
        if (this.#withdrawing.get(digest) === p) this.#withdrawing.delete(digest);
      });
    this.#withdrawing.set(digest, p);
  }

  /** The registry client with layer blobs taken from peers when a tracker is set. */
  wrap<R extends Registry>(registry: R): R {
    const { tracker } = this.config;
    if (!tracker) return registry;
    return p2pRegistry(registry, () => new PullSources({
      lookup: { holders: (desc, signal) => this.#holders(tracker, desc, signal) },
      client: this.client,
      stats: this.stats,
    }));
  }

  async start(deps: P2PDeps): Promise<void> {
    const c = this.config;
    this.#content = deps.content;
    try {
      const table = c.trackerListen ? new PeerTable(3 * (c.announceIntervalMs ?? DEFAULT_ANNOUNCE_MS)) : undefined;
      const blobs = c.listen ? blobHandler(deps.content, this.stats, { partials: this.partials }) : undefined;
      const same = c.listen && c.trackerListen && formatHostPort(c.listen) === formatHostPort(c.trackerListen);
      if (c.listen && blobs) {
        const handlers = same && table ? [blobs, trackerHandler(table)] : [blobs];
        this.#servers.push(await serve(c.listen, c.secret, handlers, same ? 'blob server and tracker' : 'blob server'));
        log.info(`p2p blob server listening on ${formatHostPort(c.listen)}`, { advertise: c.advertise });
      }
      if (c.trackerListen && table && !same) {
        this.#servers.push(await serve(c.trackerListen, c.secret, [trackerHandler(table)], 'tracker'));
        log.info(`p2p tracker listening on ${formatHostPort(c.trackerListen)}`);
      }
      if (table) {
        this.#sweeper = setInterval(() => table.sweep(), 30_000);
        this.#sweeper.unref();
      }
      if (c.listen && c.tracker && c.advertise) {
        const content = deps.content;
        const tracker = c.tracker;
        this.#announcer = new Announcer({
          peer: c.advertise,
          intervalMs: c.announceIntervalMs ?? DEFAULT_ANNOUNCE_MS,
          held: async () => {
            const digests: string[] = [];
            for (const d of new Set(deps.layerDigests())) if (await content.info(d)) digests.push(d);
            const partial = await this.partials.listed(new Set(digests), async (d) => (await content.info(d)) !== undefined);
            return { digests, partial };
          },
          send: (a) => this.client.announce(tracker, a),
          onError: () => this.stats.trackerErrors++,
        });
        this.#unsubscribe = deps.onImageChange(() => void this.#announcer?.poke());
        this.#announcer.start();
      }
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  info(): Record<string, unknown> {
    const c = this.config;
    return {
      Listen: c.listen ? formatHostPort(c.listen) : '',
      Advertise: c.advertise ?? '',
      Tracker: c.tracker ?? '',
      TrackerListen: c.trackerListen ? formatHostPort(c.trackerListen) : '',
    };
  }

  metrics(): string[] {
    return metricsLines(this.stats);
  }

  async close(): Promise<void> {
    this.#unsubscribe?.();
    if (this.#sweeper) clearInterval(this.#sweeper);
    await this.#announcer?.close();
    await Promise.all([...this.#withdrawing.values()]);
    await Promise.all(this.#servers.splice(0).map((s) => s.close()));
    this.client.close();
  }
}
