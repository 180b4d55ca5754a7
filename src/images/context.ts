// What the image operations share: storage, the registry client, events.
import type { ApplyLayer } from '../archive/types.ts';
import type { ContentStore } from '../content/types.ts';
import type { EventBus } from '../engine/types.ts';
import type { Database } from '../metadata/db.ts';
import type { Registry } from '../remotes/types.ts';
import type { Snapshotter } from '../snapshots/types.ts';
import { Mutex, SingleFlight } from '../util/concurrency.ts';
import { ImageStore } from './store.ts';
import { Leases, Unpacker } from './unpack.ts';

export interface ImageContextDeps {
  db: Database;
  content: ContentStore;
  snapshots: Snapshotter;
  registry: Registry;
  events: EventBus;
  applyLayer: ApplyLayer;
  maxConcurrentDownloads: number;
  maxConcurrentUploads: number;
  /** Where the snapshotter keeps its directories, for GraphDriver in inspect. */
  snapshotRoot: string;
}

export class ImageContext {
  readonly store: ImageStore;
  readonly leases = new Leases();
  readonly unpacker: Unpacker;
  /** Concurrent pulls of one image fetch its config once. */
  readonly configFlights = new SingleFlight<Buffer>();
  /** Serializes garbage collection against record changes that free data. */
  readonly gcLock = new Mutex();
  /** Containers using an image (set by the container service). */
  inUse: (imageId: string) => string[] = () => [];
  /** Whether an untagged image is a build's intermediate step (a parent of
   * another build step): hidden from `docker images` without -a and kept by
   * a dangling-only prune, as dockerd does with images that have children. */
  isIntermediate: (imageId: string) => boolean = () => false;
  /** Counters for /metrics. */
  readonly stats = { pulls: 0, pullFailures: 0, pushes: 0, bytesPulled: 0, bytesPushed: 0 };

  constructor(readonly deps: ImageContextDeps) {
    this.store = new ImageStore(deps.db);
    this.unpacker = new Unpacker({ content: deps.content, snapshots: deps.snapshots, applyLayer: deps.applyLayer });
  }

  get content(): ContentStore {
    return this.deps.content;
  }
  get snapshots(): Snapshotter {
    return this.deps.snapshots;
  }
  get events(): EventBus {
    return this.deps.events;
  }
}
