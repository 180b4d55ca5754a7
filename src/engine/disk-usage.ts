// `docker system df` (GET /system/df): what images, containers and volumes
// take on disk, counted as dockerd counts them. A layer is counted once in
// LayersSize however many images share it; an image's SharedSize is the part
// of it that other images have too; a container's SizeRw is its writable
// layer; a volume's size is the apparent size of its directory (hard links
// once) and its RefCount the containers that refer to it, running or not.
import { invalid } from '../errdefs/index.ts';
import type { ImageContext } from '../images/context.ts';
import { listImages } from '../images/query.ts';
import type { ImageSummary } from '../images/types.ts';
import { directorySize } from '../util/dir-size.ts';
import type { ContainerContext } from './containers/context.ts';
import { listContainers } from './containers/query.ts';
import type { ContainerSummary } from './containers/types.ts';
import type { DiskUsage, DiskUsageType } from './types.ts';
import type { Volume } from './volumes/types.ts';
import type { Volumes } from './volumes/service.ts';

const TYPES: readonly DiskUsageType[] = ['container', 'image', 'volume', 'build-cache'];

/** What the disk usage is read from; `diskUsageSources` wires the engine's parts. */
export interface DiskUsageSources {
  /** Image summaries, as GET /images/json gives them. */
  images(): Promise<ImageSummary[]>;
  /** Chain ids of an image's layers, bottom first. */
  layersOf(imageId: string): string[];
  /** Bytes of one committed layer. */
  layerSize(chainId: string): Promise<number>;
  /** How many containers (any state) were made from the image. */
  containersUsing(imageId: string): number;
  /** Every container, with SizeRw and SizeRootFs. */
  containers(): Promise<ContainerSummary[]>;
  volumes(): Promise<Volume[]>;
  /** How many containers (any state) refer to the volume. */
  volumeRefs(name: string): number;
}

export function diskUsageSources(images: ImageContext, containers: ContainerContext, volumes: Volumes): DiskUsageSources {
  return {
    images: () => listImages(images),
    layersOf: (id) => images.store.layers(id).map((l) => l.chainId),
    layerSize: async (chainId) => (await images.snapshots.stat(chainId).catch(() => ({ size: 0 }))).size,
    containersUsing: (id) => containers.store.usingImage(id).length,
    containers: () => listContainers(containers, { all: true, size: true }),
    volumes: async () => (await volumes.list()).Volumes,
    volumeRefs: (name) => volumes.store.usersOf(name).length,
  };
}

/** The parts `types` asks for; none given means all, as dockerd. */
export function parseDiskUsageTypes(types: string[] | undefined): Set<DiskUsageType> {
  if (types === undefined || types.length === 0) return new Set(TYPES);
  const out = new Set<DiskUsageType>();
  for (const t of types) {
    if (!(TYPES as readonly string[]).includes(t)) throw invalid(`unknown object type: ${t} (expected one of ${TYPES.join(', ')})`);
    out.add(t as DiskUsageType);
  }
  return out;
}

export async function diskUsage(src: DiskUsageSources, opts: { types?: string[] } = {}): Promise<DiskUsage> {
  const want = parseDiskUsageTypes(opts.types);
  const out: DiskUsage = { LayersSize: 0, Images: null, Containers: null, Volumes: null, BuildCache: null };
  if (want.has('image')) Object.assign(out, await imageUsage(src));
  if (want.has('container')) out.Containers = await src.containers();
  if (want.has('volume')) out.Volumes = await volumeUsage(src);
  if (want.has('build-cache')) out.BuildCache = [];
  return out;
}

async function imageUsage(src: DiskUsageSources): Promise<{ LayersSize: number; Images: ImageSummary[] }> {
  const images = await src.images();
  const layers = new Map(images.map((img) => [img.Id, src.layersOf(img.Id)]));
  // How many images each layer is part of.
  const refs = new Map<string, number>();
  for (const chains of layers.values()) for (const c of new Set(chains)) refs.set(c, (refs.get(c) ?? 0) + 1);
  const sizes = new Map<string, number>();
  for (const c of refs.keys()) sizes.set(c, await src.layerSize(c));
  let layersSize = 0;
  for (const s of sizes.values()) layersSize += s;
  const out = images.map((img) => {
    let shared = 0;
    for (const c of new Set(layers.get(img.Id))) if ((refs.get(c) ?? 0) > 1) shared += sizes.get(c) ?? 0;
    return { ...img, SharedSize: shared, Containers: src.containersUsing(img.Id) };
  });
  return { LayersSize: layersSize, Images: out };
}

async function volumeUsage(src: DiskUsageSources): Promise<Volume[]> {
  const out: Volume[] = [];
  for (const v of await src.volumes()) {
    // dockerd reports -1 for a size it cannot read rather than failing the whole answer.
    const size = await directorySize(v.Mountpoint).catch(() => -1);
    out.push({ ...v, UsageData: { Size: size, RefCount: src.volumeRefs(v.Name) } });
  }
  return out;
}
