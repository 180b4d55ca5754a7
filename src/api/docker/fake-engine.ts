// A fake Engine with canned data, for the adapter's and the daemon's tests.
// Every method records its call; tests override what they need.
import { Readable } from 'node:stream';
import type { BuildService } from '../../engine/build/types.ts';
import type { Engine, EngineEvent, EventBus, EventFilter, SystemService, VersionInfo } from '../../engine/types.ts';
import type { ImageInspect, ImageService, ImageSummary, Progress } from '../../images/types.ts';
import type { ContainerService } from '../../engine/containers/types.ts';
import { notFound } from '../../errdefs/index.ts';
import type { VolumeService } from '../../engine/volumes/types.ts';
import type { NetworkService } from '../../engine/networks/types.ts';
import { createFakeContainers, type FakeContainers } from './fake-containers.ts';
import { Pods } from '../../engine/pods/index.ts';

export const FAKE_IMAGE_ID = 'sha256:' + 'ab'.repeat(32);
export const FAKE_DIGEST = 'sha256:' + 'cd'.repeat(32);

export interface FakeEngine extends Engine {
  readonly calls: Array<{ method: string; args: unknown[] }>;
  readonly images: ImageService;
  readonly system: SystemService;
  readonly events: EventBus & { emit(ev: Partial<EngineEvent>): void };
  readonly containers: ContainerService;
  /** The fake containers' state, behind the recording wrappers. */
  readonly fakeContainers: FakeContainers;
  /** Images that create accepts: busybox, and whatever was pulled. */
  readonly knownImages: Set<string>;
  closed: boolean;
}

export function fakeSummary(over: Partial<ImageSummary> = {}): ImageSummary {
  return {
    Id: FAKE_IMAGE_ID,
    ParentId: '',
    RepoTags: ['busybox:latest'],
    RepoDigests: [`busybox@${FAKE_DIGEST}`],
    Created: 1700000000,
    Size: 4_261_550,
    SharedSize: -1,
    Labels: {},
    Containers: -1,
    ...over,
  };
}

export function fakeInspect(over: Partial<ImageInspect> = {}): ImageInspect {
  return {
    Id: FAKE_IMAGE_ID,
    RepoTags: ['busybox:latest'],
    RepoDigests: [`busybox@${FAKE_DIGEST}`],
    Parent: '',
    Comment: '',
    Created: '2023-11-14T22:13:20Z',
    DockerVersion: '',
    Author: '',
    Config: { Cmd: ['sh'], Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] },
    ContainerConfig: { Cmd: ['sh'], Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] },
    Architecture: 'amd64',
    Os: 'linux',
    Size: 4_261_550,
    GraphDriver: { Name: 'overlay2', Data: null },
    RootFS: { Type: 'layers', Layers: ['sha256:' + 'ef'.repeat(32)] },
    Metadata: { LastTagTime: '0001-01-01T00:00:00Z' },
    ...over,
  };
}

/** The progress a small busybox pull reports. */
export const FAKE_PULL_PROGRESS: Progress[] = [
  { kind: 'message', text: 'latest: Pulling from library/busybox' },
  { kind: 'layer', id: 'a1b2c3d4e5f6', phase: 'waiting' },
  { kind: 'layer', id: 'a1b2c3d4e5f6', phase: 'downloading', current: 1_048_576, total: 2_152_262 },
  { kind: 'layer', id: 'a1b2c3d4e5f6', phase: 'downloading', current: 2_152_262, total: 2_152_262 },
  { kind: 'layer', id: 'a1b2c3d4e5f6', phase: 'verifying' },
  { kind: 'layer', id: 'a1b2c3d4e5f6', phase: 'download-complete' },
  { kind: 'layer', id: 'a1b2c3d4e5f6', phase: 'extracting', current: 2_152_262, total: 2_152_262 },
  { kind: 'layer', id: 'a1b2c3d4e5f6', phase: 'pull-complete' },
];

/** busybox, busybox:latest and docker.io/library/busybox:latest are one image. */
function normalizeRef(ref: string): string {
  let name = ref.replace(/^docker\.io\/(library\/)?/, '');
  if (!name.includes('@') && !/:[^/]+$/.test(name)) name += ':latest';
  return name;
}

export function createFakeEngine(
  over: { images?: Partial<ImageService>; system?: Partial<SystemService>; events?: Partial<EventBus>; containers?: Partial<ContainerService>; build?: Partial<BuildService> } = {},
): FakeEngine {
  const calls: FakeEngine['calls'] = [];
  const rec = <A extends unknown[], R>(method: string, fn: (...args: A) => R) =>
    (...args: A): R => {
      calls.push({ method, args });
      return fn(...args);
    };

  const knownImages = new Set(['busybox:latest']);
  const images: ImageService = {
    pull: rec('images.pull', async (reference, opts) => {
      knownImages.add(normalizeRef(reference));
      for (const p of FAKE_PULL_PROGRESS) opts?.onProgress?.(p);
      const name = reference.includes('/') ? reference : `docker.io/library/${reference}`;
      return { id: FAKE_IMAGE_ID, digest: FAKE_DIGEST, name, downloaded: true };
    }),
    push: rec('images.push', async (_reference, opts) => {
      opts?.onProgress?.({ kind: 'message', text: 'The push refers to repository [127.0.0.1:5000/team/app]' });
      opts?.onProgress?.({ kind: 'layer', id: 'a1b2c3d4e5f6', phase: 'waiting' });
      opts?.onProgress?.({ kind: 'layer', id: 'a1b2c3d4e5f6', phase: 'pushing', current: 512, total: 1024 });
      opts?.onProgress?.({ kind: 'layer', id: 'a1b2c3d4e5f6', phase: 'pushed' });
      return { tag: opts?.tag ?? 'latest', digest: FAKE_DIGEST, size: 527 };
    }),
    list: rec('images.list', async () => [fakeSummary()]),
    inspect: rec('images.inspect', async (name) => {
      if (name === 'missing') throw notFound(`No such image: ${name}`);
      return fakeInspect();
    }),
    history: rec('images.history', async () => [
      { Id: FAKE_IMAGE_ID, Created: 1700000000, CreatedBy: '/bin/sh -c #(nop)  CMD ["sh"]', Tags: ['busybox:latest'], Size: 0, Comment: '' },
    ]),
    tag: rec('images.tag', async () => {}),
    remove: rec('images.remove', async (name) => [{ Untagged: name }, { Deleted: FAKE_IMAGE_ID }]),
    prune: rec('images.prune', async () => ({ ImagesDeleted: [], SpaceReclaimed: 0 })),
    save: rec('images.save', async (names) => Readable.from([Buffer.from(`tar of ${names.join(',')}`)])),
    load: rec('images.load', async (input, opts) => {
      for await (const _ of input) void _;
      opts?.onProgress?.({ kind: 'layer', id: 'a1b2c3d4e5f6', phase: 'loading', current: 1024, total: 2048 });
      return ['busybox:latest'];
    }),
    import: rec('images.import', async (input) => {
      for await (const _ of input) void _;
      return FAKE_IMAGE_ID;
    }),
    resolveId: rec('images.resolveId', async () => FAKE_IMAGE_ID),
    login: rec('images.login', async () => ({ Status: 'Login Succeeded' })),
    ...over.images,
  };

  const version: VersionInfo = {
    Version: '0.1.0-test',
    ApiVersion: '1.47',
    MinAPIVersion: '1.24',
    GitCommit: 'abcdef0',
    GoVersion: process.version,
    Os: 'linux',
    Arch: 'amd64',
    KernelVersion: '6.1.0',
    BuildTime: '2024-01-01T00:00:00.000000000+00:00',
    Experimental: false,
    Components: [
      {
        Name: 'Engine',
        Version: '0.1.0-test',
        Details: { ApiVersion: '1.47', MinAPIVersion: '1.24', GitCommit: 'abcdef0', GoVersion: process.version, Os: 'linux', Arch: 'amd64', KernelVersion: '6.1.0', Experimental: 'false', BuildTime: '2024-01-01T00:00:00.000000000+00:00' },
      },
    ],
    Platform: { Name: 'joey' },
  };

  const system: SystemService = {
    version: rec('system.version', () => version),
    info: rec('system.info', async () => ({
      ID: 'FAKE:ENGINE',
      Containers: 0,
      ContainersRunning: 0,
      ContainersPaused: 0,
      ContainersStopped: 0,
      Images: 1,
      Driver: 'overlay2',
      DriverStatus: [['Backing Filesystem', 'extfs']],
      Name: 'fakehost',
      ServerVersion: '0.1.0-test',
      OperatingSystem: 'Debian GNU/Linux 12 (bookworm)',
      OSType: 'linux',
      Architecture: 'x86_64',
      KernelVersion: '6.1.0',
      NCPU: 2,
      MemTotal: 25_000_000_000,
      DockerRootDir: '/var/lib/joey',
      CgroupDriver: 'cgroupfs',
      CgroupVersion: '1',
      LoggingDriver: 'json-file',
      Labels: [],
      RegistryConfig: { IndexConfigs: {}, InsecureRegistryCIDRs: ['127.0.0.0/8'], Mirrors: [] },
      Runtimes: { runc: { path: 'runc' } },
      DefaultRuntime: 'runc',
      Swarm: { LocalNodeState: 'inactive', NodeID: '', NodeAddr: '', ControlAvailable: false, Error: '', RemoteManagers: null },
      SecurityOptions: ['name=seccomp,profile=builtin'],
      Warnings: [],
    })),
    metrics: rec('system.metrics', async () => '# HELP joey_images Images in the store.\n# TYPE joey_images gauge\njoey_images 1\n'),
    diskUsage: rec('system.diskUsage', async () => ({ LayersSize: 4_261_550, Images: [fakeSummary({ SharedSize: 0, Containers: 1 })], Containers: [], Volumes: [], BuildCache: [] })),
    ...over.system,
  };

  // A bus that replays what was emitted and follows live events.
  const history: EngineEvent[] = [];
  const subscribers = new Set<{ filter: EventFilter; onEvent: (ev: EngineEvent) => void; end: () => void }>();
  const events: FakeEngine['events'] = {
    publish(ev) {
      events.emit(ev);
    },
    emit(partial) {
      const now = Date.now();
      const ev: EngineEvent = {
        Type: 'image',
        Action: 'pull',
        Actor: { ID: 'busybox:latest', Attributes: { name: 'busybox' } },
        scope: 'local',
        time: Math.floor(now / 1000),
        timeNano: now * 1e6,
        ...partial,
      } as EngineEvent;
      history.push(ev);
      for (const s of subscribers) {
        if (s.filter.until !== undefined && ev.time > s.filter.until) s.end();
        else s.onEvent(ev);
      }
    },
    subscribe(filter, onEvent, onEnd) {
      calls.push({ method: 'events.subscribe', args: [filter] });
      for (const ev of history) if (filter.since === undefined || ev.time >= filter.since) onEvent(ev);
      let ended = false;
      const sub = {
        filter,
        onEvent,
        end: () => {
          if (ended) return;
          ended = true;
          subscribers.delete(sub);
          onEnd?.();
        },
      };
      if (filter.until !== undefined && filter.until <= Date.now() / 1000) {
        sub.end();
        return () => {};
      }
      subscribers.add(sub);
      return () => {
        ended = true;
        subscribers.delete(sub);
      };
    },
    ...over.events,
  };

  const fakeContainers = createFakeContainers((ref) => knownImages.has(normalizeRef(ref)) || ref === FAKE_IMAGE_ID);
  const containers: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries({ ...fakeContainers, ...over.containers })) {
    if (typeof fn === 'function' && name !== 'find') containers[name] = rec(`containers.${name}`, fn as (...args: unknown[]) => unknown);
  }

  const networks = fakeNetworks();
  const engine: FakeEngine = {
    calls,
    images,
    system,
    events,
    containers: containers as unknown as ContainerService,
    volumes: fakeVolumes(),
    networks,
    // The real pod service over the fakes: the CRI adapter's tests drive it.
    pods: new Pods({ containers: containers as unknown as ContainerService, images, networks, system, config: { network: 'bridge', podInfraImage: 'busybox', imageFsPath: '/fake/snapshots' } }),
    build: {
      build: rec('build.build', over.build?.build ?? (async (input, opts) => {
        for await (const chunk of input) void chunk;
        opts?.onOutput?.('Step 1/1 : FROM busybox\n');
        opts?.onImageId?.(FAKE_IMAGE_ID);
        return { id: FAKE_IMAGE_ID, tags: [] };
      })),
      prune: rec('build.prune', over.build?.prune ?? (async () => ({ CachesDeleted: null, SpaceReclaimed: 0 }))),
    },
    fakeContainers,
    knownImages,
    closed: false,
    async close() {
      engine.closed = true;
    },
  };
  return engine;
}

/** No volumes: the volume endpoints' own tests bring theirs. */
function fakeVolumes(): VolumeService {
  return {
    async list() {
      return { Volumes: [], Warnings: [] };
    },
    async inspect(name: string) {
      throw notFound(`get ${name}: no such volume`);
    },
    async remove(name: string, opts?: { force?: boolean }) {
      if (!opts?.force) throw notFound(`get ${name}: no such volume`);
    },
    async create(req) {
      const name = req.Name || 'f'.repeat(64);
      return { Name: name, Driver: 'local', Mountpoint: `/fake/volumes/${name}/_data`, CreatedAt: '2024-01-01T00:00:00Z', Labels: req.Labels ?? {}, Scope: 'local', Options: req.DriverOpts && Object.keys(req.DriverOpts).length ? req.DriverOpts : null };
    },
    async prune() {
      return { VolumesDeleted: [], SpaceReclaimed: 0 };
    },
  };
}

/** No networks: the network endpoints are exercised by the integration suite. */
function fakeNetworks(): NetworkService {
  const missing = async (id: string): Promise<never> => {
    throw notFound(`network ${id} not found`);
  };
  return {
    async list() {
      return [];
    },
    inspect: missing,
    async create() {
      return { Id: '0'.repeat(64), Warning: '' };
    },
    remove: missing,
    async prune() {
      return { NetworksDeleted: [] };
    },
    connect: missing,
    disconnect: missing,
  };
}
