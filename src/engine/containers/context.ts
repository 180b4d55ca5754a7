// What the container operations share: records, runtimes, images, events, and
// the in-memory bookkeeping that start-up rebuilds (locks, exit waiters, execs).
import type { EventBus } from '../types.ts';
import type { ImageContext } from '../../images/context.ts';
import type { Database } from '../../metadata/db.ts';
import type { OciRuntime } from '../../runtime/types.ts';
import type { HookFile } from '../../runtime/spec/hooks-dir.ts';
import type { Snapshotter } from '../../snapshots/types.ts';
import { invalid } from '../../errdefs/index.ts';
import { Mutex } from '../../util/concurrency.ts';
import type { HealthMonitor } from './health-monitor.ts';
import type { Volumes } from '../volumes/index.ts';
import type { Networks } from '../networks/index.ts';
import type { LxcfsService } from '../lxcfs.ts';
import type { DiskQuotas } from '../quota/index.ts';
import { pathsOf, type ContainerRecord, type Paths, type Roots } from './record.ts';
import { ContainerStore } from './store.ts';

export interface ContainerDeps {
  db: Database;
  images: ImageContext;
  snapshots: Snapshotter;
  events: EventBus;
  runtimes: Map<string, OciRuntime>;
  defaultRuntime: string;
  roots: Roots;
  /** cgroup parent for containers that name none, e.g. "/joey". */
  cgroupParent: string;
  /** Host path of a static init for --init, if one is installed. */
  initPath?: string;
  seccompProfilePath?: string;
  /** The daemon's --hooks-dir files as they are now, matched against each container at spec time. */
  hookFiles?: () => HookFile[];
  /** Volumes and the containers' recorded mounts. */
  volumes: Volumes;
  /** Networks and the containers' endpoints; without it containers get a
   * network namespace with only lo. */
  networks?: Pick<Networks, 'plan' | 'record' | 'attach' | 'detach' | 'attachments' | 'portsOf' | 'addressesOf'>;
  /** --enable-lxcfs: lxcfs for the containers that ask for it. */
  lxcfs?: Pick<LxcfsService, 'mounts' | 'ensure' | 'cpusFor'>;
  /** Disk quotas (--disk-quota); without it a create that asks for one is refused. */
  quota?: DiskQuotas;
}

export interface ExecRecord {
  id: string;
  containerId: string;
  config: import('./types.ts').ExecConfig;
  running: boolean;
  exitCode: number | null;
  pid: number;
  resize?: (h: number, w: number) => Promise<void>;
  /** While it runs: kills its process tree (the runtime's ExecSession.kill). */
  kill?: () => Promise<void>;
  /** Resolves once the exit is recorded (set when it starts). */
  ended?: Promise<void>;
}

export class ContainerContext {
  readonly store: ContainerStore;
  private readonly locks = new Map<string, Mutex>();
  /** Resolved with the exit code at each exit. */
  readonly exitWaiters = new Map<string, Set<(code: number) => void>>();
  readonly removeWaiters = new Map<string, Set<() => void>>();
  readonly execs = new Map<string, ExecRecord>();
  /** Attach sessions waiting for a container to start: connected to its attach
   * socket after the runtime created it and before its process runs. */
  readonly beforeStart = new Map<string, Set<(attachSocket: string) => Promise<void>>>();
  /** Restart timers of containers waiting out their back-off. */
  readonly restartTimers = new Map<string, NodeJS.Timeout>();
  closing = false;
  /** Containers an upgrade is working on: no start, removal, --rm or restart
   * by policy meanwhile (the upgrade decides what runs). */
  readonly upgrading = new Set<string>();
  /** Health-check probing of running containers (set by the service). */
  health?: HealthMonitor;
  /** Called when a poll finds an exit file the watch missed. */
  exitSeen?: (id: string) => void;

  constructor(readonly deps: ContainerDeps) {
    this.store = new ContainerStore(deps.db);
  }

  paths(id: string): Paths {
    return pathsOf(this.deps.roots, id);
  }

  runtimeOf(c: ContainerRecord): OciRuntime {
    const rt = this.deps.runtimes.get(c.runtime);
    // A runtime dropped from the configuration since the container was made.
    if (!rt) throw invalid(`unknown or invalid runtime name: ${c.runtime} (container ${c.name} was created with it; define it again with --add-runtime or daemon.json "runtimes")`);
    return rt;
  }

  /** Lifecycle operations on one container run one at a time. */
  lock<T>(id: string, fn: () => Promise<T>): Promise<T> {
    let m = this.locks.get(id);
    if (!m) {
      m = new Mutex();
      this.locks.set(id, m);
    }
    return m.lock(fn);
  }

  forget(id: string): void {
    this.health?.untrack(id);
    this.locks.delete(id);
    this.exitWaiters.delete(id);
    for (const r of this.removeWaiters.get(id) ?? []) r();
    this.removeWaiters.delete(id);
    const t = this.restartTimers.get(id);
    if (t) clearTimeout(t);
    this.restartTimers.delete(id);
  }

  notifyExit(id: string, code: number): void {
    const ws = this.exitWaiters.get(id);
    if (!ws) return;
    this.exitWaiters.delete(id);
    for (const w of ws) w(code);
  }

  onNextExit(id: string, fn: (code: number) => void): () => void {
    let ws = this.exitWaiters.get(id);
    if (!ws) {
      ws = new Set();
      this.exitWaiters.set(id, ws);
    }
    ws.add(fn);
    return () => ws!.delete(fn);
  }

  onBeforeStart(id: string, fn: (attachSocket: string) => Promise<void>): () => void {
    let ws = this.beforeStart.get(id);
    if (!ws) {
      ws = new Set();
      this.beforeStart.set(id, ws);
    }
    ws.add(fn);
    return () => ws!.delete(fn);
  }

  /** Runs (and clears) the before-start hooks of a container. */
  async runBeforeStart(id: string, attachSocket: string): Promise<void> {
    const ws = this.beforeStart.get(id);
    if (!ws) return;
    this.beforeStart.delete(id);
    await Promise.all([...ws].map((f) => f(attachSocket).catch(() => undefined)));
  }

  onRemoved(id: string, fn: () => void): () => void {
    let ws = this.removeWaiters.get(id);
    if (!ws) {
      ws = new Set();
      this.removeWaiters.set(id, ws);
    }
    ws.add(fn);
    return () => ws!.delete(fn);
  }
}
