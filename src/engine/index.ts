// Building the engine from its parts, and start-up reconciliation.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { applyLayer } from '../archive/index.ts';
import { openContentStore } from '../content/store.ts';
import { ImageContext } from '../images/context.ts';
import { collectGarbage, dropBrokenImages } from '../images/gc.ts';
import { Images } from '../images/service.ts';
import { openDatabase } from '../metadata/db.ts';
import { createRegistry } from '../remotes/index.ts';
import { P2PService } from '../p2p/index.ts';
import { ConmonRuntime, watchExits } from '../runtime/conmon/index.ts';
import { HookDirs } from './hook-dirs.ts';
import type { OciRuntime } from '../runtime/types.ts';
import { openOverlaySnapshotter } from '../snapshots/overlay.ts';
import { ContainerContext } from './containers/context.ts';
import { Containers } from './containers/service.ts';
import { findContainer } from './containers/lookup.ts';
import { log } from '../util/log.ts';
import { VERSION } from '../version.ts';
import { Events } from './events.ts';
import { Volumes } from './volumes/index.ts';
import { Networks } from './networks/index.ts';
import { LxcfsService } from './lxcfs.ts';
import { openDiskQuotas } from './quota/index.ts';
import { activateRootfsQuotas } from './containers/quota.ts';
import { ContainerStore } from './containers/store.ts';
import { cniExec } from '../sys/cni.ts';
import { firewall } from '../sys/iptables.ts';
import { links } from '../sys/netlink.ts';
import { netns } from '../sys/netns.ts';
import { portFree } from '../sys/ports.ts';
import { diskUsageSources } from './disk-usage.ts';
import { System } from './system.ts';
import type { Engine, EngineConfig } from './types.ts';
import { createBuilder } from './build/index.ts';
import { Pods } from './pods/index.ts';
import { STOCK_RUNTIME, builtinRuntimes, runtimeRoot } from './runtimes.ts';

export type { Engine, EngineConfig } from './types.ts';

export async function createEngine(config: EngineConfig): Promise<Engine> {
  // First: a hook file that does not parse stops the daemon before anything runs.
  const hookDirs = new HookDirs(config.hooksDirs ?? []);
  const hookFiles = hookDirs.current();
  if (hookFiles.length) log.info('OCI hooks loaded', { files: hookFiles.map((f) => f.source) });
  await mkdir(config.dataRoot, { recursive: true, mode: 0o711 });
  await mkdir(config.execRoot, { recursive: true, mode: 0o700 });
  const db = openDatabase(join(config.dataRoot, 'joey.db'));
  const content = await openContentStore(join(config.dataRoot, 'content'));
  const snapshotRoot = join(config.dataRoot, 'snapshots');
  const snapshots = await openOverlaySnapshotter(snapshotRoot, db);
  const events = new Events();
  // P2P: layer blobs from peers, through a tracker; everything else as before.
  const p2p = config.p2p ? new P2PService(config.p2p) : undefined;
  const baseRegistry = createRegistry({
    insecureRegistries: config.insecureRegistries,
    mirrors: config.registryMirrors,
    userAgent: `joey/${VERSION}`,
  });
  const registry = p2p ? p2p.wrap(baseRegistry) : baseRegistry;
  const ctx = new ImageContext({
    db,
    content,
    snapshots,
    registry,
    events,
    applyLayer,
    maxConcurrentDownloads: config.maxConcurrentDownloads,
    maxConcurrentUploads: config.maxConcurrentUploads,
    snapshotRoot,
  });

  // Quota'd rootfs areas first (after a reboot their loop images are not
  // mounted, and the sweep below would take their snapshots for broken).
  const quota = await openDiskQuotas(config.dataRoot);
  await activateRootfsQuotas(new ContainerStore(db), snapshots, quota);
  // Reconcile whatever a crash left: half-unpacked layers and directories
  // without records, images pointing at missing data, unreferenced blobs.
  await snapshots.cleanup();
  const dropped = await dropBrokenImages(ctx);
  const gc = await collectGarbage(ctx);
  if (dropped.length || gc.blobsRemoved || gc.snapshotsRemoved) {
    log.info('start-up reconciliation', { droppedImages: dropped.length, blobsRemoved: gc.blobsRemoved, snapshotsRemoved: gc.snapshotsRemoved });
  }

  // After the reconciliation: only blobs that survived it are served and announced.
  await p2p?.start({
    content,
    layerDigests: () => ctx.store.all().flatMap((img) => ctx.store.layers(img.id).map((l) => l.blobDigest)),
    onImageChange: (fn) => events.subscribe({ filters: { type: ['image'] } }, fn),
  });

  const runtimeTable = config.runtimes ?? builtinRuntimes(existsSync);
  const defaultRuntime = config.defaultRuntime ?? STOCK_RUNTIME;
  const conmonPath = firstExisting(['/usr/bin/conmon', '/usr/libexec/podman/conmon']) ?? 'conmon';
  // Every runtime here has runc's command line and runs under conmon; one that
  // does not (a VM runtime) is another OciRuntime in this map.
  const runtimes = new Map<string, OciRuntime>(
    Object.entries(runtimeTable).map(([name, rt]) => [
      name,
      new ConmonRuntime({ name, runtimePath: rt.path, runtimeArgs: rt.runtimeArgs, runtimeRoot: runtimeRoot(config.execRoot, name), conmonPath }),
    ]),
  );
  const volumes = new Volumes({ db, root: join(config.dataRoot, 'volumes'), events, quota });
  const networks = new Networks({
    db,
    events,
    sys: { cni: cniExec(), netns, links, portFree, firewall },
    config: { dataRoot: config.dataRoot, execRoot: config.execRoot, bridge: 'joey0', iptables: true, ...config.network },
  });
  // lxcfs, kept alive for the running containers that use it.
  const lxcfs: LxcfsService | undefined = config.lxcfs
    ? new LxcfsService(
        { home: config.lxcfs.home, binary: config.lxcfs.binary, pidfile: join(config.execRoot, 'lxcfs.pid'), logFile: join(config.execRoot, 'lxcfs.log'), pinCpus: config.lxcfs.pinCpus },
        () => cx.store.all().filter((c) => c.state.Running && c.hostConfig.EnableLxcfs && c.state.Pid > 0).map((c) => ({ id: c.id, pid: c.state.Pid })),
      )
    : undefined;
  const cx: ContainerContext = new ContainerContext({
    db,
    images: ctx,
    snapshots,
    events,
    runtimes,
    defaultRuntime,
    roots: { dataRoot: config.dataRoot, execRoot: config.execRoot },
    cgroupParent: config.cgroupParent ?? '/joey',
    initPath: firstExisting(['/usr/bin/catatonit', '/usr/libexec/podman/catatonit', '/usr/bin/tini-static']),
    seccompProfilePath: firstExisting(['/usr/share/containers/seccomp.json']),
    hookFiles: () => hookDirs.current(),
    volumes,
    networks,
    ...(lxcfs ? { lxcfs } : {}),
    quota,
  });
  ctx.inUse = (imageId) => cx.store.usingImage(imageId);
  // Containers recorded as running hold their volumes; recovery releases the
  // ones that exited meanwhile, then what nobody holds is unmounted.
  for (const c of cx.store.all()) if (c.state.Running) volumes.adopt(c.id, volumes.mountsOf(c.id));
  const containers = new Containers(cx);
  // Quota areas of containers and volumes that no longer exist (a kill -9
  // between a record's delete and its area's): before the containers'
  // recovery removes their snapshots.
  await quota.sweep({ containers: new Set(cx.store.all().map((c) => c.id)), volumes: new Set(volumes.store.all().map((v) => v.name)) });
  // Before the containers' start-up: restarts by policy need the bridges.
  await networks.init({
    find: (idOrName) => findContainer(cx, idOrName),
    get: (id) => cx.store.get(id),
    all: () => cx.store.all(),
    lock: (id, fn) => cx.lock(id, fn),
  });
  await lxcfs?.open();
  await containers.init(watchExits);
  await volumes.reconcile();

  const images = new Images(ctx);
  const system = new System({ ...config, runtimes: runtimeTable, defaultRuntime }, ctx, cx, diskUsageSources(ctx, cx, volumes), p2p);
  const build = await createBuilder({ dataRoot: config.dataRoot, db, cx, containers, images, imageCtx: ctx });
  const pods = new Pods({
    containers,
    images,
    networks,
    system,
    config: { network: config.pods?.network ?? 'bridge', ...(config.pods?.podInfraImage ? { podInfraImage: config.pods.podInfraImage } : {}), imageFsPath: snapshotRoot },
  });
  return {
    images,
    containers,
    volumes,
    networks,
    system,
    build,
    pods,
    events,
    async close() {
      await p2p?.close();
      lxcfs?.close();
      containers.close();
      await networks.close();
      await snapshots.close();
      db.close();
    },
  };
}

function firstExisting(paths: string[]): string | undefined {
  return paths.find((p) => existsSync(p));
}
