// The engine: the one thing the API adapters and the daemon wiring call.
import type { P2PConfig } from '../p2p/config.ts';
import type { ImageService, ImageSummary } from '../images/types.ts';
import type { ContainerService, ContainerSummary } from './containers/types.ts';
import type { Volume, VolumeService } from './volumes/types.ts';
import type { NetworkService } from './networks/types.ts';
import type { RuntimeSpec } from './runtimes.ts';
import type { BuildService } from './build/types.ts';
import type { PodService } from './pods/types.ts';

/** An event as the Docker API's GET /events sends it. */
export interface EngineEvent {
  Type: 'image' | 'container' | 'volume' | 'network' | 'daemon';
  Action: string; // pull, push, tag, untag, delete, import, load, save, prune, ...
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  time: number; // unix seconds
  timeNano: number;
  // Legacy fields, still read by older clients.
  status?: string;
  id?: string;
  from?: string;
}

export interface EventFilter {
  /** Docker's filters: type, event/action, image, container, label, ... */
  filters?: Record<string, string[]>;
  since?: number; // unix seconds, may be fractional
  until?: number;
}

export interface EventBus {
  publish(ev: Omit<EngineEvent, 'time' | 'timeNano' | 'scope'>): void;
  /** Replays buffered events since `since`, then follows live ones until
   * `until` (if given) or until the returned function is called. */
  subscribe(filter: EventFilter, onEvent: (ev: EngineEvent) => void, onEnd?: () => void): () => void;
}

export interface VersionInfo {
  Version: string;
  ApiVersion: string;
  MinAPIVersion: string;
  GitCommit: string;
  GoVersion: string; // Docker clients expect it; we put the Node version here
  Os: string;
  Arch: string;
  KernelVersion: string;
  BuildTime: string;
  Experimental: boolean;
  Components: Array<{ Name: string; Version: string; Details?: Record<string, string> }>;
  Platform: { Name: string };
}

/** GET /system/df. A part that was not asked for is null (LayersSize goes with Images). */
export interface DiskUsage {
  /** Bytes of every image layer, a layer shared by several images once. */
  LayersSize: number;
  /** Images with Containers (how many use each) and SharedSize filled. */
  Images: ImageSummary[] | null;
  /** All containers, with SizeRw and SizeRootFs. */
  Containers: ContainerSummary[] | null;
  /** Volumes with UsageData: apparent size, containers referring to them. */
  Volumes: Volume[] | null;
  /** joey has no builder: always empty when asked for. */
  BuildCache: unknown[] | null;
}

/** What `type` may ask GET /system/df for. */
export type DiskUsageType = 'container' | 'image' | 'volume' | 'build-cache';

export interface SystemService {
  version(): VersionInfo;
  /** GET /info, Docker's field names. */
  info(): Promise<Record<string, unknown>>;
  /** GET /system/df: only the parts named in `types` (all when absent).
   * An unknown type is invalid. */
  diskUsage(opts?: { types?: string[] }): Promise<DiskUsage>;
  /** Prometheus text exposition. */
  metrics(): Promise<string>;
}

export interface Engine {
  readonly images: ImageService;
  readonly containers: ContainerService;
  readonly volumes: VolumeService;
  readonly networks: NetworkService;
  readonly system: SystemService;
  /** POST /build: the classic Dockerfile builder. */
  readonly build: BuildService;
  /** Kubernetes pods, for the CRI adapter. */
  readonly pods: PodService;
  readonly events: EventBus;
  close(): Promise<void>;
}

/** What the daemon wiring hands the engine. */
export interface EngineConfig {
  dataRoot: string;
  execRoot: string;
  insecureRegistries: string[];
  registryMirrors: string[];
  /** Max layers fetched at once per pull. */
  maxConcurrentDownloads: number;
  maxConcurrentUploads: number;
  /** Daemon labels, shown in /info. */
  labels: string[];
  debug: boolean;
  /** Unix sockets and TCP addresses the daemon listens on, for /info. */
  hosts: string[];
  /** Parent cgroup of containers that name none (cgroupfs driver). */
  cgroupParent?: string;
  /** Every runtime containers may name (HostConfig.Runtime), built-in ones
   * included; without it, the built-in ones found on the host. */
  runtimes?: Record<string, RuntimeSpec>;
  /** The runtime of containers that name none (default "runc"). */
  defaultRuntime?: string;
  /** Networking, as dockerd's flags: -b/--bridge ("none" disables the
   * default bridge), --bip, --fixed-cidr, --iptables. */
  /** fixedCidrV6: --ipv6 with --fixed-cidr-v6, the default bridge's IPv6 subnet.
   * addressPools: default-address-pools, where networks without a subnet get one. */
  network?: { bridge: string; bip?: string; fixedCidr?: string; fixedCidrV6?: string; iptables: boolean; addressPools?: Array<{ base: string; size: number }> };
  /** --enable-lxcfs: where lxcfs is mounted (--lxcfs-home), its binary
   * (--lxcfs), and whether containers with a CPU quota get as many CPUs
   * (--lxcfs-pin-cpus, default true). */
  lxcfs?: { home: string; binary: string; pinCpus: boolean };
  /** --hooks-dir: directories of oci-hooks JSON files (later ones win by file name). */
  hooksDirs?: string[];
  /** Kubernetes pods (--cri-network, --pod-infra-image): the network pods
   * join (default "bridge") and the sandboxes' image (default joey's own). */
  pods?: { network?: string; podInfraImage?: string };
  /** --p2p-*: peer-to-peer layer distribution (blob server, tracker, fetcher). */
  p2p?: P2PConfig;
}
