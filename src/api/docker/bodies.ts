// The JSON bodies of the container and exec endpoints, checked field by
// field against the types Docker's Go structs give them, so that a bad value
// is a 400 naming the field rather than a surprise deep in the engine.
// Unknown fields pass through; null means absent, as in Go.
import type { ContainerConfig, CreateRequest, ExecConfig, HostConfig } from '../../engine/containers/types.ts';
import { invalid } from '../../errdefs/index.ts';

type Kind = 'string' | 'bool' | 'int' | 'strings' | 'strslice' | 'object' | 'strmap' | 'array' | 'size';

const CONFIG_FIELDS: Record<string, Kind> = {
  Hostname: 'string',
  Domainname: 'string',
  User: 'string',
  AttachStdin: 'bool',
  AttachStdout: 'bool',
  AttachStderr: 'bool',
  ExposedPorts: 'object',
  Tty: 'bool',
  OpenStdin: 'bool',
  StdinOnce: 'bool',
  Env: 'strings',
  Cmd: 'strslice',
  Healthcheck: 'object',
  ArgsEscaped: 'bool',
  Image: 'string',
  Volumes: 'object',
  WorkingDir: 'string',
  Entrypoint: 'strslice',
  NetworkDisabled: 'bool',
  MacAddress: 'string',
  OnBuild: 'strings',
  Labels: 'strmap',
  StopSignal: 'string',
  StopTimeout: 'int',
  Shell: 'strslice',
  Rich: 'bool',
  RichMode: 'string',
  InitScript: 'string',
  DiskQuota: 'strmap',
  QuotaID: 'string',
  SpecificID: 'string',
};

const HOST_CONFIG_FIELDS: Record<string, Kind> = {
  DiskQuota: 'strmap',
  Binds: 'strings',
  ContainerIDFile: 'string',
  LogConfig: 'object',
  NetworkMode: 'string',
  PortBindings: 'object',
  RestartPolicy: 'object',
  AutoRemove: 'bool',
  VolumeDriver: 'string',
  VolumesFrom: 'strings',
  Mounts: 'array',
  ConsoleSize: 'size',
  Annotations: 'strmap',
  CapAdd: 'strings',
  CapDrop: 'strings',
  CgroupnsMode: 'string',
  Dns: 'strings',
  DnsOptions: 'strings',
  DnsSearch: 'strings',
  ExtraHosts: 'strings',
  GroupAdd: 'strings',
  IpcMode: 'string',
  Cgroup: 'string',
  Links: 'strings',
  OomScoreAdj: 'int',
  PidMode: 'string',
  Privileged: 'bool',
  PublishAllPorts: 'bool',
  ReadonlyRootfs: 'bool',
  SecurityOpt: 'strings',
  StorageOpt: 'strmap',
  Tmpfs: 'strmap',
  UTSMode: 'string',
  UsernsMode: 'string',
  ShmSize: 'int',
  Sysctls: 'strmap',
  Runtime: 'string',
  Isolation: 'string',
  CpuShares: 'int',
  Memory: 'int',
  NanoCpus: 'int',
  CgroupParent: 'string',
  BlkioWeight: 'int',
  CpuPeriod: 'int',
  CpuQuota: 'int',
  CpuRealtimePeriod: 'int',
  CpuRealtimeRuntime: 'int',
  CpusetCpus: 'string',
  CpusetMems: 'string',
  Devices: 'array',
  DeviceCgroupRules: 'strings',
  KernelMemory: 'int',
  KernelMemoryTCP: 'int',
  MemoryReservation: 'int',
  MemorySwap: 'int',
  MemorySwappiness: 'int',
  OomKillDisable: 'bool',
  Init: 'bool',
  PidsLimit: 'int',
  Ulimits: 'array',
  MaskedPaths: 'strings',
  ReadonlyPaths: 'strings',
  EnableLxcfs: 'bool',
  OciHooks: 'object',
};

const EXEC_FIELDS: Record<string, Kind> = {
  AttachStdin: 'bool',
  AttachStdout: 'bool',
  AttachStderr: 'bool',
  DetachKeys: 'string',
  Tty: 'bool',
  ConsoleSize: 'size',
  Env: 'strings',
  Cmd: 'strings',
  Privileged: 'bool',
  User: 'string',
  WorkingDir: 'string',
};

const EXEC_START_FIELDS: Record<string, Kind> = { Detach: 'bool', Tty: 'bool', ConsoleSize: 'size' };

/** POST /containers/create. */
export function decodeCreateRequest(body: unknown): CreateRequest {
  if (body === undefined || body === null) throw invalid('config cannot be empty in order to create a container');
  const req = checkFields(body, CONFIG_FIELDS, '') as CreateRequest;
  if (req.HostConfig !== undefined) req.HostConfig = decodeHostConfig(req.HostConfig, 'HostConfig.');
  if (req.NetworkingConfig !== undefined) checkFields(req.NetworkingConfig, { EndpointsConfig: 'object' }, 'NetworkingConfig.');
  return req;
}

/** The Config of POST /commit; an empty body is none. */
export function decodeContainerConfig(body: unknown): ContainerConfig | undefined {
  if (body === undefined || body === null) return undefined;
  return checkFields(body, CONFIG_FIELDS, '') as ContainerConfig;
}

/** POST /containers/{id}/update: resources and the restart policy. */
export function decodeHostConfig(body: unknown, prefix = ''): HostConfig {
  if (body === undefined || body === null) return {};
  return checkFields(body, HOST_CONFIG_FIELDS, prefix) as HostConfig;
}

/** POST /containers/{id}/exec. */
export function decodeExecConfig(body: unknown): ExecConfig {
  if (body === undefined || body === null) throw invalid('exec config cannot be empty');
  const cfg = checkFields(body, EXEC_FIELDS, '') as Partial<ExecConfig>;
  if (!cfg.Cmd || cfg.Cmd.length === 0) throw invalid('No exec command specified');
  return cfg as ExecConfig;
}

/** POST /exec/{id}/start. */
export function decodeExecStart(body: unknown): { Detach?: boolean; Tty?: boolean; ConsoleSize?: [number, number] | null } {
  if (body === undefined || body === null) return {};
  return checkFields(body, EXEC_START_FIELDS, '');
}

function checkFields(body: unknown, fields: Record<string, Kind>, prefix: string): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalid(prefix ? `invalid ${prefix.slice(0, -1)}: expected a JSON object` : 'invalid request body: expected a JSON object');
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
    if (value === null) continue;
    const kind = fields[key];
    out[key] = kind ? checkValue(value, kind, prefix + key) : value;
  }
  return out;
}

function checkValue(v: unknown, kind: Kind, field: string): unknown {
  const fail = (what: string): never => {
    throw invalid(`invalid ${field}: expected ${what}, got ${JSON.stringify(v)}`);
  };
  switch (kind) {
    case 'string':
      return typeof v === 'string' ? v : fail('a string');
    case 'bool':
      return typeof v === 'boolean' ? v : fail('a boolean');
    case 'int':
      return Number.isSafeInteger(v) ? v : fail('an integer');
    case 'strings':
      return isStrings(v) ? v : fail('a list of strings');
    case 'strslice':
      // Go's strslice.StrSlice: a lone string is a list of one.
      return typeof v === 'string' ? [v] : isStrings(v) ? v : fail('a string or a list of strings');
    case 'object':
      return typeof v === 'object' && !Array.isArray(v) ? v : fail('a JSON object');
    case 'strmap':
      return typeof v === 'object' && !Array.isArray(v) && Object.values(v as object).every((x) => typeof x === 'string') ? v : fail('an object of strings');
    case 'array':
      return Array.isArray(v) ? v : fail('a list');
    case 'size':
      return Array.isArray(v) && v.length === 2 && v.every((x) => Number.isSafeInteger(x) && (x as number) >= 0) ? v : fail('[height, width]');
  }
}

function isStrings(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}
