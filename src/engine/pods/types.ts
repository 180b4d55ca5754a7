// Kubernetes pods (the CRI, runtime.v1): the service the CRI adapter calls.
// Shapes follow the protocol's messages as the adapter decodes them (field
// names as on the wire, enums as their names, 64-bit integers as decimal
// strings or numbers), so the adapter only decodes and encodes. Every field
// may be missing: a decoder leaves out what the client did not send.

export type Int64 = string | number;
export type Maybe<T> = T | null | undefined;
export type StringMap = Record<string, string>;

export type NamespaceMode = 'POD' | 'CONTAINER' | 'NODE' | 'TARGET';

export interface NamespaceOption {
  network?: NamespaceMode;
  pid?: NamespaceMode;
  ipc?: NamespaceMode;
  target_id?: string;
}

export interface ImageSpec {
  image?: string;
  annotations?: StringMap;
  user_specified_image?: string;
  runtime_handler?: string;
}

export interface LinuxContainerResources {
  cpu_period?: Int64;
  cpu_quota?: Int64;
  cpu_shares?: Int64;
  memory_limit_in_bytes?: Int64;
  oom_score_adj?: Int64;
  cpuset_cpus?: string;
  cpuset_mems?: string;
  unified?: StringMap;
  memory_swap_limit_in_bytes?: Int64;
}

export interface PodSandboxMetadata {
  name?: string;
  uid?: string;
  namespace?: string;
  attempt?: number;
}

export interface PortMapping {
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  container_port?: number;
  host_port?: number;
  host_ip?: string;
}

export interface PodSandboxConfig {
  metadata?: Maybe<PodSandboxMetadata>;
  hostname?: string;
  log_directory?: string;
  dns_config?: Maybe<{ servers?: string[]; searches?: string[]; options?: string[] }>;
  port_mappings?: PortMapping[];
  labels?: StringMap;
  annotations?: StringMap;
  linux?: Maybe<{
    cgroup_parent?: string;
    sysctls?: StringMap;
    security_context?: Maybe<{
      namespace_options?: Maybe<NamespaceOption>;
      run_as_user?: Maybe<{ value?: Int64 }>;
      run_as_group?: Maybe<{ value?: Int64 }>;
      readonly_rootfs?: boolean;
      supplemental_groups?: Int64[];
      privileged?: boolean;
    }>;
  }>;
}

export type PodSandboxState = 'SANDBOX_READY' | 'SANDBOX_NOTREADY';

export interface PodSandbox {
  id: string;
  metadata: PodSandboxMetadata;
  state: PodSandboxState;
  created_at: Int64;
  labels: StringMap;
  annotations: StringMap;
  runtime_handler: string;
}

export interface PodSandboxStatus extends PodSandbox {
  network: { ip: string; additional_ips: Array<{ ip: string }> };
  linux: { namespaces: { options: Required<Pick<NamespaceOption, 'network' | 'pid' | 'ipc'>> & { target_id: string } } };
}

export interface PodSandboxFilter {
  id?: string;
  state?: Maybe<{ state?: PodSandboxState }>;
  label_selector?: StringMap;
}

export interface Mount {
  container_path?: string;
  host_path?: string;
  readonly?: boolean;
  selinux_relabel?: boolean;
  propagation?: 'PROPAGATION_PRIVATE' | 'PROPAGATION_HOST_TO_CONTAINER' | 'PROPAGATION_BIDIRECTIONAL';
}

export interface ContainerMetadata {
  name?: string;
  attempt?: number;
}

export interface LinuxContainerSecurityContext {
  capabilities?: Maybe<{ add_capabilities?: string[]; drop_capabilities?: string[] }>;
  privileged?: boolean;
  namespace_options?: Maybe<NamespaceOption>;
  run_as_user?: Maybe<{ value?: Int64 }>;
  run_as_username?: string;
  run_as_group?: Maybe<{ value?: Int64 }>;
  readonly_rootfs?: boolean;
  supplemental_groups?: Int64[];
  no_new_privs?: boolean;
  masked_paths?: string[];
  readonly_paths?: string[];
}

export interface ContainerConfig {
  metadata?: Maybe<ContainerMetadata>;
  image?: Maybe<ImageSpec>;
  command?: string[];
  args?: string[];
  working_dir?: string;
  envs?: Array<{ key?: string; value?: string }>;
  mounts?: Mount[];
  devices?: Array<{ container_path?: string; host_path?: string; permissions?: string }>;
  labels?: StringMap;
  annotations?: StringMap;
  log_path?: string;
  stdin?: boolean;
  stdin_once?: boolean;
  tty?: boolean;
  linux?: Maybe<{ resources?: Maybe<LinuxContainerResources>; security_context?: Maybe<LinuxContainerSecurityContext> }>;
}

export type ContainerState = 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN';

export interface Container {
  id: string;
  pod_sandbox_id: string;
  metadata: ContainerMetadata;
  image: ImageSpec;
  image_ref: string;
  image_id: string;
  state: ContainerState;
  created_at: Int64;
  labels: StringMap;
  annotations: StringMap;
}

export interface ContainerStatus {
  id: string;
  metadata: ContainerMetadata;
  state: ContainerState;
  created_at: Int64;
  started_at: Int64;
  finished_at: Int64;
  exit_code: number;
  image: ImageSpec;
  image_ref: string;
  image_id: string;
  reason: string;
  message: string;
  labels: StringMap;
  annotations: StringMap;
  mounts: Mount[];
  log_path: string;
}

export interface ContainerFilter {
  id?: string;
  state?: Maybe<{ state?: ContainerState }>;
  pod_sandbox_id?: string;
  label_selector?: StringMap;
}

export interface ExecSyncResult {
  stdout: Buffer;
  stderr: Buffer;
  exit_code: number;
}

export interface UInt64Value {
  value: Int64;
}

export interface FilesystemUsage {
  timestamp: Int64;
  fs_id: { mountpoint: string };
  used_bytes: UInt64Value;
  inodes_used?: UInt64Value;
}

export interface ContainerStats {
  attributes: { id: string; metadata: ContainerMetadata; labels: StringMap; annotations: StringMap };
  cpu: { timestamp: Int64; usage_core_nano_seconds: UInt64Value };
  memory: { timestamp: Int64; working_set_bytes: UInt64Value; usage_bytes: UInt64Value };
  writable_layer: FilesystemUsage;
}

export interface NetworkInterfaceUsage {
  name: string;
  rx_bytes: UInt64Value;
  rx_errors: UInt64Value;
  tx_bytes: UInt64Value;
  tx_errors: UInt64Value;
}

/** A pod's usage: its sandbox and containers together. */
export interface PodSandboxStats {
  attributes: { id: string; metadata: PodSandboxMetadata; labels: StringMap; annotations: StringMap };
  linux: {
    cpu: ContainerStats['cpu'];
    memory: ContainerStats['memory'];
    network: { timestamp: Int64; default_interface: NetworkInterfaceUsage | null; interfaces: NetworkInterfaceUsage[] };
    process: { timestamp: Int64; process_count: UInt64Value };
    containers: ContainerStats[];
  };
}

export interface Image {
  id: string;
  repo_tags: string[];
  repo_digests: string[];
  size: Int64;
  uid: { value: Int64 } | null;
  username: string;
  spec: ImageSpec | null;
  pinned: boolean;
}

export interface AuthConfig {
  username?: string;
  password?: string;
  auth?: string;
  server_address?: string;
  identity_token?: string;
  registry_token?: string;
}

export interface RuntimeCondition {
  type: 'RuntimeReady' | 'NetworkReady';
  status: boolean;
  reason: string;
  message: string;
}

/** What the CRI adapter calls. Bad input throws `invalid` and changes
 * nothing; a missing sandbox or container throws `not-found`, except where
 * the protocol asks for idempotence (stop and remove). */
export interface PodService {
  version(): { runtime_name: string; runtime_version: string; runtime_api_version: string };
  status(): Promise<RuntimeCondition[]>;

  runPodSandbox(config: Maybe<PodSandboxConfig>, runtimeHandler?: string): Promise<string>;
  stopPodSandbox(id: string): Promise<void>;
  removePodSandbox(id: string): Promise<void>;
  podSandboxStatus(id: string): Promise<PodSandboxStatus>;
  listPodSandbox(filter?: Maybe<PodSandboxFilter>): Promise<PodSandbox[]>;

  createContainer(podId: string, config: Maybe<ContainerConfig>, sandboxConfig?: Maybe<PodSandboxConfig>): Promise<string>;
  startContainer(id: string): Promise<void>;
  stopContainer(id: string, timeout?: Int64): Promise<void>;
  removeContainer(id: string): Promise<void>;
  listContainers(filter?: Maybe<ContainerFilter>): Promise<Container[]>;
  containerStatus(id: string): Promise<ContainerStatus>;
  updateContainerResources(id: string, linux: Maybe<LinuxContainerResources>): Promise<void>;
  reopenContainerLog(id: string): Promise<void>;
  execSync(id: string, cmd: string[], timeout?: Int64): Promise<ExecSyncResult>;
  containerStats(id: string): Promise<ContainerStats>;
  listContainerStats(filter?: Maybe<{ id?: string; pod_sandbox_id?: string; label_selector?: StringMap }>): Promise<ContainerStats[]>;
  podSandboxStats(id: string): Promise<PodSandboxStats>;
  listPodSandboxStats(filter?: Maybe<{ id?: string; label_selector?: StringMap }>): Promise<PodSandboxStats[]>;

  pullImage(image: Maybe<ImageSpec>, auth?: Maybe<AuthConfig>): Promise<string>;
  imageStatus(image: Maybe<ImageSpec>): Promise<Image | null>;
  listImages(filter?: Maybe<{ image?: Maybe<ImageSpec> }>): Promise<Image[]>;
  removeImage(image: Maybe<ImageSpec>): Promise<void>;
  imageFsInfo(): Promise<FilesystemUsage[]>;
}

/** What the daemon configures (--cri-network, --pod-infra-image). */
export interface PodsConfig {
  /** The joey network pods join (default: the default bridge network). */
  network: string;
  /** The sandboxes' image; unset: joey's own, made locally from joey-pause. */
  podInfraImage?: string;
  /** Where image layers live, for ImageFsInfo. */
  imageFsPath: string;
}
