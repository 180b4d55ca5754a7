// The p2p service of one joeyd: its blob server, its tracker, the announcer,
// and the fetcher that pulls wrap around the registry client.
import type { ContentStore } from '../content/types.ts';
import type { Registry } from '../remotes/types.ts';
import { log } from '../util/log.ts';
import { Announcer } from './announcer.ts';
import { P2PClient } from './client.ts';
import { formatHostPort, type P2PConfig } from './config.ts';
import { p2pRegistry } from './repository.ts';
import { blobHandler, serve, trackerHandler, type P2PServer } from './server.ts';
import { PullSources } from './source.ts';
import { metricsLines, newStats, type P2PStats } from './stats.ts';
import { PeerTable } from './tracker.ts';

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

  constructor(readonly config: P2PConfig) {
    this.client = new P2PClient({ secret: config.secret });
  }

  /** The registry client with layer blobs taken from peers when a tracker is set. */
  wrap<R extends Registry>(registry: R): R {
    const { tracker, advertise } = this.config;
    if (!tracker) return registry;
    return p2pRegistry(registry, () => new PullSources({
      lookup: { peers: (digest, signal) => this.client.peers(tracker, digest, advertise, signal) },
      client: this.client,
      stats: this.stats,
    }));
  }

  async start(deps: P2PDeps): Promise<void> {
    const c = this.config;
    try {
      const table = c.trackerListen ? new PeerTable(3 * (c.announceIntervalMs ?? DEFAULT_ANNOUNCE_MS)) : undefined;
      const blobs = c.listen ? blobHandler(deps.content, this.stats) : undefined;
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
            const out: string[] = [];
            for (const d of new Set(deps.layerDigests())) if (await content.info(d)) out.push(d);
            return out;
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
    await Promise.all(this.#servers.splice(0).map((s) => s.close()));
    this.client.close();
  }
}
