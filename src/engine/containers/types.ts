// The container service: what the API adapters call. Shapes follow the Docker
// Engine API (v1.47) so that adapters only decode and encode.
import type { Readable } from 'node:stream';
import type { Filters, ImageConfig } from '../../images/types.ts';
import type { OciHooks } from '../../runtime/spec/hooks.ts';
import type { AuthConfig } from '../../remotes/types.ts';
import type { UpgradeResult } from './upgrade.ts';
import type { UpgradeHistoryEntry } from './upgrade-store.ts';

/** Docker's container Config (create body top level), plus PouchContainer's fields. */
export interface ContainerConfig extends ImageConfig {
  Image?: string;
  NetworkDisabled?: boolean;
  MacAddress?: string;
  StopTimeout?: number | null;
  /** joey (PouchContainer names): rich container mode. */
  Rich?: boolean;
  RichMode?: string;
  InitScript?: string;
  DiskQuota?: Record<string, string> | string;
  QuotaID?: string;
  SpecificID?: string;
}

export interface RestartPolicy {
  Name: '' | 'no' | 'always' | 'unless-stopped' | 'on-failure';
  MaximumRetryCount?: number;
}

export interface DeviceMapping {
  PathOnHost: string;
  PathInContainer: string;
  CgroupPermissions: string;
}

export interface Ulimit {
  Name: string;
  Soft: number;
  Hard: number;
}

export interface MountSpec {
  Type: 'bind' | 'volume' | 'tmpfs' | 'npipe' | 'cluster';
  Source?: string;
  Target: string;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: { Propagation?: string; NonRecursive?: boolean; CreateMountpoint?: boolean; ReadOnlyNonRecursive?: boolean; ReadOnlyForceRecursive?: boolean };
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string>; DriverConfig?: { Name?: string; Options?: Record<string, string> }; Subpath?: string };
  TmpfsOptions?: { SizeBytes?: number; Mode?: number; Options?: string[][] };
}

/** Docker's HostConfig; fields joey does not implement yet are accepted and
 * reported back unchanged, or refused with a clear error where silently
 * ignoring them would mislead. */
export interface HostConfig {
  /** Update only (PouchContainer's UpdateConfig.DiskQuota): a new rootfs limit. */
  DiskQuota?: Record<string, string>;
  Binds?: string[] | null;
  ContainerIDFile?: string;
  LogConfig?: { Type: string; Config: Record<string, string> };
  NetworkMode?: string;
  PortBindings?: Record<string, Array<{ HostIp?: string; HostPort?: string }>> | null;
  RestartPolicy?: RestartPolicy;
  AutoRemove?: boolean;
  VolumeDriver?: string;
  VolumesFrom?: string[] | null;
  Mounts?: MountSpec[] | null;
  ConsoleSize?: [number, number];
  Annotations?: Record<string, string>;
  CapAdd?: string[] | null;
  CapDrop?: string[] | null;
  CgroupnsMode?: 'private' | 'host' | '';
  Dns?: string[] | null;
  DnsOptions?: string[] | null;
  DnsSearch?: string[] | null;
  ExtraHosts?: string[] | null;
  GroupAdd?: string[] | null;
  IpcMode?: string;
  Cgroup?: string;
  Links?: string[] | null;
  OomScoreAdj?: number;
  PidMode?: string;
  Privileged?: boolean;
  PublishAllPorts?: boolean;
  ReadonlyRootfs?: boolean;
  SecurityOpt?: string[] | null;
  StorageOpt?: Record<string, string> | null;
  Tmpfs?: Record<string, string> | null;
  UTSMode?: string;
  UsernsMode?: string;
  ShmSize?: number;
  Sysctls?: Record<string, string> | null;
  Runtime?: string;
  Isolation?: string;
  // Resources
  CpuShares?: number;
  Memory?: number;
  NanoCpus?: number;
  CgroupParent?: string;
  BlkioWeight?: number;
  CpuPeriod?: number;
  CpuQuota?: number;
  CpuRealtimePeriod?: number;
  CpuRealtimeRuntime?: number;
  CpusetCpus?: string;
  CpusetMems?: string;
  Devices?: DeviceMapping[] | null;
  DeviceCgroupRules?: string[] | null;
  KernelMemory?: number;
  KernelMemoryTCP?: number;
  MemoryReservation?: number;
  MemorySwap?: number;
  MemorySwappiness?: number | null;
  OomKillDisable?: boolean | null;
  Init?: boolean | null;
  PidsLimit?: number | null;
  Ulimits?: Ulimit[] | null;
  MaskedPaths?: string[] | null;
  ReadonlyPaths?: string[] | null;
  /** joey (PouchContainer names). */
  EnableLxcfs?: boolean;
  /** joey: OCI hooks of this container, in the runtime spec's shape
   * ({prestart, createRuntime, createContainer, startContainer, poststart,
   * poststop}: lists of {path, args, env, timeout}). */
  OciHooks?: OciHooks;
}

export interface CreateRequest extends ContainerConfig {
  HostConfig?: HostConfig;
  NetworkingConfig?: { EndpointsConfig?: Record<string, unknown> };
}

export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export interface HealthState {
  Status: 'starting' | 'healthy' | 'unhealthy' | 'none';
  FailingStreak: number;
  Log: Array<{ Start: string; End: string; ExitCode: number; Output: string }>;
}

export interface ContainerState {
  Status: ContainerStatus;
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
  Health?: HealthState;
}

export interface MountPoint {
  Type: string;
  Name?: string;
  Source: string;
  Destination: string;
  Driver?: string;
  Mode: string;
  RW: boolean;
  Propagation: string;
}

export interface ContainerInspect {
  Id: string;
  Created: string;
  Path: string;
  Args: string[];
  State: ContainerState;
  Image: string;
  ResolvConfPath: string;
  HostnamePath: string;
  HostsPath: string;
  LogPath: string;
  Name: string; // "/name"
  RestartCount: number;
  Driver: string;
  Platform: string;
  MountLabel: string;
  ProcessLabel: string;
  AppArmorProfile: string;
  ExecIDs: string[] | null;
  HostConfig: HostConfig;
  GraphDriver: { Name: string; Data: Record<string, string> | null };
  SizeRw?: number;
  SizeRootFs?: number;
  Mounts: MountPoint[];
  Config: ContainerConfig;
  NetworkSettings: Record<string, unknown>;
  /** joey: the container's in-place upgrades, oldest first. */
  UpgradeHistory?: UpgradeHistoryEntry[];
}

export interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  ImageID: string;
  Command: string;
  Created: number;
  Ports: Array<{ IP?: string; PrivatePort: number; PublicPort?: number; Type: string }>;
  SizeRw?: number;
  SizeRootFs?: number;
  Labels: Record<string, string>;
  State: ContainerStatus;
  Status: string; // "Up 2 minutes", "Exited (0) 3 seconds ago"
  HostConfig: { NetworkMode: string };
  NetworkSettings: { Networks: Record<string, unknown> };
  Mounts: MountPoint[];
}

export interface ExecConfig {
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  DetachKeys?: string;
  Tty?: boolean;
  ConsoleSize?: [number, number] | null;
  Env?: string[] | null;
  Cmd: string[];
  Privileged?: boolean;
  User?: string;
  WorkingDir?: string;
}

export interface ExecInspect {
  ID: string;
  Running: boolean;
  ExitCode: number | null;
  ProcessConfig: { tty: boolean; entrypoint: string; arguments: string[]; privileged: boolean; user: string };
  OpenStdin: boolean;
  OpenStderr: boolean;
  OpenStdout: boolean;
  CanRemove: boolean;
  ContainerID: string;
  DetachKeys: string;
  Pid: number;
}

/** A stream of a process's output, and its stdin when asked for. */
export interface AttachSession {
  readonly tty: boolean;
  /** stream 1 = stdout, 2 = stderr (always 1 with a tty). Ends when the
   * process ends or the session is closed. */
  readonly output: AsyncIterable<{ stream: 1 | 2; data: Buffer }>;
  /** Present when stdin was asked for. */
  writeStdin?(data: Buffer): void;
  closeStdin?(): void;
  /** Stops the session without touching the process. */
  close(): void;
}

export interface LogOptions {
  follow?: boolean;
  stdout?: boolean;
  stderr?: boolean;
  since?: number; // unix seconds, fractional
  until?: number;
  timestamps?: boolean;
  tail?: number | 'all';
}

export interface LogEntry {
  stream: 1 | 2;
  time: string; // RFC 3339 with nanoseconds
  data: Buffer; // the line, with its newline when it had one
}

export interface PathStat {
  name: string;
  size: number;
  mode: number; // Go os.FileMode bits, as Docker's X-Docker-Container-Path-Stat
  mtime: string;
  linkTarget: string;
}

export interface WaitResult {
  StatusCode: number;
  Error?: { Message: string } | null;
}

export interface ContainerService {
  create(req: CreateRequest, opts?: { name?: string; platform?: string }): Promise<{ Id: string; Warnings: string[] }>;
  /** Resolves false when the container was already running (Docker answers 304). */
  start(idOrName: string): Promise<boolean>;
  /** Resolves false when the container was not running (304). */
  stop(idOrName: string, opts?: { timeout?: number; signal?: string }): Promise<boolean>;
  restart(idOrName: string, opts?: { timeout?: number; signal?: string }): Promise<void>;
  kill(idOrName: string, signal?: string): Promise<void>;
  remove(idOrName: string, opts?: { force?: boolean; volumes?: boolean; link?: boolean }): Promise<void>;
  pause(idOrName: string): Promise<void>;
  unpause(idOrName: string): Promise<void>;
  rename(idOrName: string, newName: string): Promise<void>;
  wait(idOrName: string, opts?: { condition?: 'not-running' | 'next-exit' | 'removed'; signal?: AbortSignal }): Promise<WaitResult>;
  update(idOrName: string, update: HostConfig): Promise<{ Warnings: string[] }>;
  list(opts?: { all?: boolean; limit?: number; size?: boolean; filters?: Filters }): Promise<ContainerSummary[]>;
  inspect(idOrName: string, opts?: { size?: boolean }): Promise<ContainerInspect>;
  top(idOrName: string, psArgs?: string): Promise<{ Titles: string[]; Processes: string[][] }>;
  /** One Docker stats JSON object per second while `stream`; one when not. */
  stats(idOrName: string, opts: { stream: boolean; oneShot?: boolean; signal?: AbortSignal }): AsyncIterable<Record<string, unknown>>;
  logs(idOrName: string, opts: LogOptions & { signal?: AbortSignal }): Promise<{ tty: boolean; entries: AsyncIterable<LogEntry> }>;
  export(idOrName: string): Promise<Readable>;
  archiveStat(idOrName: string, path: string): Promise<PathStat>;
  archiveGet(idOrName: string, path: string): Promise<{ stat: PathStat; tar: Readable }>;
  archivePut(idOrName: string, path: string, tar: Readable, opts?: { noOverwriteDirNonDir?: boolean; copyUIDGID?: boolean }): Promise<void>;
  changes(idOrName: string): Promise<Array<{ Path: string; Kind: 0 | 1 | 2 }>>;
  commit(opts: { container: string; repo?: string; tag?: string; comment?: string; author?: string; pause?: boolean; changes?: string[]; config?: ContainerConfig }): Promise<{ Id: string }>;
  prune(filters?: Filters): Promise<{ ContainersDeleted: string[]; SpaceReclaimed: number }>;
  /** joey (PouchContainer's POST /containers/{id}/upgrade): the body is
   * checked here (UpgradeRequest in upgrade-config.ts). Resolves once the
   * upgrade is committed; throws, after rolling back, when it failed. When
   * `signal` fires first (the client left, the daemon is shutting down) it
   * throws unavailable and the upgrade goes on. */
  upgrade(idOrName: string, req: unknown, opts?: { auth?: AuthConfig; signal?: AbortSignal }): Promise<UpgradeResult>;
  attach(idOrName: string, opts: { stdin?: boolean; stdout?: boolean; stderr?: boolean; stream?: boolean; logs?: boolean; detachKeys?: string }): Promise<AttachSession>;
  resize(idOrName: string, height: number, width: number): Promise<void>;
  execCreate(idOrName: string, cfg: ExecConfig): Promise<{ Id: string }>;
  /** Detached: resolves undefined once started. Attached: the session. */
  execStart(execId: string, opts: { Detach?: boolean; Tty?: boolean; ConsoleSize?: [number, number] | null }): Promise<AttachSession | undefined>;
  execInspect(execId: string): Promise<ExecInspect>;
  execResize(execId: string, height: number, width: number): Promise<void>;
  /** Kills a running exec's process and its descendants (SIGKILL) and
   * resolves once its exit is recorded; nothing for one that has ended.
   * joey's own (the Docker API has no such call): CRI ExecSync's timeout. */
  execKill(execId: string): Promise<void>;
  /** conmon reopens the container's log file (after a rotator renamed it). */
  reopenLog(idOrName: string): Promise<void>;
}
