// The CRI's sandbox and container configs as joey create requests. Pure:
// everything checked here fails before anything is made.
import { isAbsolute, join, normalize } from 'node:path';
import { invalid } from '../../errdefs/index.ts';
import type { CreateRequest, HostConfig } from '../containers/types.ts';
import {
  containerMetadata, containerName, labelsFor, sandboxMetadata, sandboxName, sandboxNamespaces,
  type ContainerMeta, type SandboxMeta,
} from './labels.ts';
import type { ContainerConfig, Int64, LinuxContainerResources, Mount, PodSandboxConfig } from './types.ts';

/** The sandbox's process: joey-pause (or the image's own entrypoint). */
export const PAUSE_ENTRYPOINT = ['/pause'];

function num(v: Int64 | null | undefined): number {
  const n = Number(v ?? 0);
  if (!Number.isFinite(n)) throw invalid(`not a number: ${String(v)}`);
  return n;
}

function strings(v: string[] | null | undefined): string[] {
  return (v ?? []).filter((s) => s !== '');
}

export interface SandboxPlan {
  name: string;
  meta: SandboxMeta;
  req: CreateRequest;
}

/** A sandbox: a container running the pause process, holding the pod's
 * network, IPC and UTS namespaces (and PID, which containers may share). */
export function sandboxPlan(config: PodSandboxConfig | null | undefined, opts: { image: string; network: string; runtimeHandler?: string; ownImage: boolean }): SandboxPlan {
  if (!config) throw invalid('sandbox config is required');
  const metadata = sandboxMetadata(config.metadata);
  const sc = config.linux?.security_context;
  const namespaces = sandboxNamespaces(sc?.namespace_options);
  if (config.log_directory && !isAbsolute(config.log_directory)) throw invalid(`log_directory must be absolute, got ${JSON.stringify(config.log_directory)}`);
  const hostNetwork = namespaces.network === 'NODE';
  const meta: SandboxMeta = {
    metadata,
    labels: { ...(config.labels ?? {}) },
    annotations: { ...(config.annotations ?? {}) },
    logDirectory: config.log_directory ? normalize(config.log_directory) : '',
    runtimeHandler: opts.runtimeHandler ?? '',
    namespaces,
  };
  const ports: NonNullable<HostConfig['PortBindings']> = {};
  const exposed: Record<string, object> = {};
  for (const p of config.port_mappings ?? []) {
    const cport = num(p.container_port);
    const hport = num(p.host_port);
    if (!Number.isInteger(cport) || cport < 1 || cport > 65535) throw invalid(`port mapping: container_port ${cport} is not a port`);
    if (!Number.isInteger(hport) || hport < 0 || hport > 65535) throw invalid(`port mapping: host_port ${hport} is not a port`);
    if (hport === 0 || hostNetwork) continue; // nothing to publish
    const key = `${cport}/${(p.protocol ?? 'TCP').toLowerCase()}`;
    exposed[key] = {};
    (ports[key] ??= []).push({ HostIp: p.host_ip ?? '', HostPort: String(hport) });
  }
  const dns = config.dns_config;
  const hc: HostConfig = {
    NetworkMode: hostNetwork ? 'host' : opts.network,
    IpcMode: namespaces.ipc === 'NODE' ? 'host' : 'shareable',
    PidMode: namespaces.pid === 'NODE' ? 'host' : '',
    ...(hostNetwork ? { UTSMode: 'host' } : {}),
    PortBindings: Object.keys(ports).length ? ports : null,
    Dns: strings(dns?.servers),
    DnsSearch: strings(dns?.searches),
    DnsOptions: strings(dns?.options),
    ...(config.linux?.cgroup_parent ? { CgroupParent: config.linux.cgroup_parent } : {}),
    ...(Object.keys(config.linux?.sysctls ?? {}).length ? { Sysctls: { ...config.linux!.sysctls } } : {}),
    Privileged: !!sc?.privileged,
    ReadonlyRootfs: !!sc?.readonly_rootfs,
    RestartPolicy: { Name: 'no' },
    // The pause process writes nothing.
    LogConfig: { Type: 'none', Config: {} },
    ...(opts.runtimeHandler ? { Runtime: opts.runtimeHandler } : {}),
  };
  const user = userOf(sc?.run_as_user?.value, sc?.run_as_group?.value, '');
  const req: CreateRequest = {
    Image: opts.image,
    ...(opts.ownImage ? { Entrypoint: PAUSE_ENTRYPOINT, Cmd: null } : {}),
    ...(hostNetwork ? {} : config.hostname ? { Hostname: config.hostname } : {}),
    ...(user ? { User: user } : {}),
    ExposedPorts: Object.keys(exposed).length ? exposed : null,
    Labels: labelsFor('sandbox', meta),
    HostConfig: hc,
  };
  return { name: sandboxName(metadata), meta, req };
}

function userOf(uid: Int64 | null | undefined, gid: Int64 | null | undefined, username: string): string {
  const u = uid !== undefined && uid !== null ? String(num(uid)) : username;
  if (!u) {
    if (gid !== undefined && gid !== null) throw invalid('run_as_group needs run_as_user or run_as_username');
    return '';
  }
  return gid !== undefined && gid !== null ? `${u}:${num(gid)}` : u;
}

/** What a container takes over from its sandbox (read from the sandbox's record). */
export interface SandboxView {
  id: string;
  meta: SandboxMeta;
  hostname: string;
  hostConfig: HostConfig;
}

export interface ContainerPlan {
  name: string;
  meta: ContainerMeta;
  req: CreateRequest;
}

const PROPAGATION: Record<string, string> = {
  PROPAGATION_PRIVATE: 'rprivate',
  PROPAGATION_HOST_TO_CONTAINER: 'rslave',
  PROPAGATION_BIDIRECTIONAL: 'rshared',
};

function bindOf(m: Mount): string {
  const host = m.host_path ?? '';
  const target = m.container_path ?? '';
  if (!target) throw invalid('mount: container_path is required');
  if (!isAbsolute(target)) throw invalid(`mount: container_path must be absolute, got ${JSON.stringify(target)}`);
  if (!host) throw invalid(`mount ${target}: host_path is required`);
  if (!isAbsolute(host)) throw invalid(`mount ${target}: host_path must be absolute, got ${JSON.stringify(host)}`);
  if (host.includes(':') || target.includes(':')) throw invalid(`mount ${target}: paths with ":" are not supported`);
  const prop = PROPAGATION[m.propagation ?? 'PROPAGATION_PRIVATE'];
  if (!prop) throw invalid(`mount ${target}: unknown propagation ${String(m.propagation)}`);
  return `${host}:${target}:${m.readonly ? 'ro' : 'rw'},${prop}`;
}

/** Linux resources as HostConfig fields; zero means "not set", as in the CRI. */
export function resourcesOf(r: LinuxContainerResources | null | undefined): Partial<HostConfig> {
  if (!r) return {};
  const out: Partial<HostConfig> = {};
  const set = (k: 'CpuPeriod' | 'CpuQuota' | 'CpuShares' | 'Memory' | 'MemorySwap' | 'OomScoreAdj', v: Int64 | undefined) => {
    const n = num(v);
    if (n !== 0) out[k] = n;
  };
  set('CpuPeriod', r.cpu_period);
  set('CpuQuota', r.cpu_quota);
  set('CpuShares', r.cpu_shares);
  set('Memory', r.memory_limit_in_bytes);
  set('MemorySwap', r.memory_swap_limit_in_bytes);
  set('OomScoreAdj', r.oom_score_adj);
  if (r.cpuset_cpus) out.CpusetCpus = r.cpuset_cpus;
  if (r.cpuset_mems) out.CpusetMems = r.cpuset_mems;
  if (Object.keys(r.unified ?? {}).length) throw invalid('linux.resources.unified (cgroup v2 settings) is not supported');
  return out;
}

/** A container of a pod: in the sandbox's network and IPC namespaces, its
 * PID namespace as namespace_options say, logging to log_path. */
export function containerPlan(sandbox: SandboxView, config: ContainerConfig | null | undefined): ContainerPlan {
  if (!config) throw invalid('container config is required');
  const metadata = containerMetadata(config.metadata);
  const image = config.image?.image ?? '';
  if (!image) throw invalid('container config must include image.image');
  const logPath = config.log_path ?? '';
  if (logPath && isAbsolute(logPath)) throw invalid(`log_path must be relative to the sandbox's log_directory, got ${JSON.stringify(logPath)}`);
  if (logPath && normalize(logPath).startsWith('..')) throw invalid(`log_path must stay under the sandbox's log_directory, got ${JSON.stringify(logPath)}`);
  const fullLogPath = logPath && sandbox.meta.logDirectory ? join(sandbox.meta.logDirectory, logPath) : '';
  const mounts = (config.mounts ?? []).map((m) => ({ m, bind: bindOf(m) }));
  const env = (config.envs ?? []).map((e) => {
    if (!e.key) throw invalid('envs: a variable has no key');
    return `${e.key}=${e.value ?? ''}`;
  });
  const lx = config.linux;
  const sc = lx?.security_context;
  const ns = sc?.namespace_options;
  if (ns?.pid === 'TARGET') throw invalid('namespace_options.pid TARGET is not supported');
  const sb = sandbox.hostConfig;
  const hostNetwork = sandbox.meta.namespaces.network === 'NODE';
  const meta: ContainerMeta = {
    metadata,
    labels: { ...(config.labels ?? {}) },
    annotations: { ...(config.annotations ?? {}) },
    image,
    logPath: fullLogPath,
    mounts: mounts.map(({ m }) => ({ container_path: m.container_path!, host_path: m.host_path!, readonly: !!m.readonly, propagation: m.propagation ?? 'PROPAGATION_PRIVATE' })),
  };
  const user = userOf(sc?.run_as_user?.value, sc?.run_as_group?.value, sc?.run_as_username ?? '');
  const hc: HostConfig = {
    NetworkMode: hostNetwork ? 'host' : `container:${sandbox.id}`,
    IpcMode: sandbox.meta.namespaces.ipc === 'NODE' ? 'host' : `container:${sandbox.id}`,
    PidMode: ns?.pid === 'NODE' ? 'host' : ns?.pid === 'CONTAINER' ? '' : `container:${sandbox.id}`,
    // The pod's hostname is its sandbox's UTS namespace, shared as containerd does.
    UTSMode: hostNetwork ? 'host' : `container:${sandbox.id}`,
    Dns: sb.Dns ?? [],
    DnsSearch: sb.DnsSearch ?? [],
    DnsOptions: sb.DnsOptions ?? [],
    Binds: mounts.map(({ bind }) => bind),
    ...(sb.CgroupParent ? { CgroupParent: sb.CgroupParent } : {}),
    ...resourcesOf(lx?.resources),
    Privileged: !!sc?.privileged,
    ReadonlyRootfs: !!sc?.readonly_rootfs,
    CapAdd: strings(sc?.capabilities?.add_capabilities),
    CapDrop: strings(sc?.capabilities?.drop_capabilities),
    GroupAdd: (sc?.supplemental_groups ?? []).map((g) => String(num(g))),
    ...(sc?.no_new_privs ? { SecurityOpt: ['no-new-privileges'] } : {}),
    ...(sc?.masked_paths?.length ? { MaskedPaths: [...sc.masked_paths] } : {}),
    ...(sc?.readonly_paths?.length ? { ReadonlyPaths: [...sc.readonly_paths] } : {}),
    Devices: (config.devices ?? []).map((d) => {
      if (!d.host_path || !isAbsolute(d.host_path)) throw invalid(`device: host_path must be absolute, got ${JSON.stringify(d.host_path ?? '')}`);
      return { PathOnHost: d.host_path, PathInContainer: d.container_path || d.host_path, CgroupPermissions: d.permissions || 'rwm' };
    }),
    RestartPolicy: { Name: 'no' },
    LogConfig: { Type: 'k8s-file', Config: fullLogPath ? { path: fullLogPath } : {} },
    ...(sb.Runtime ? { Runtime: sb.Runtime } : {}),
  };
  const req: CreateRequest = {
    Image: image,
    ...(config.command?.length ? { Entrypoint: [...config.command] } : {}),
    ...(config.args?.length ? { Cmd: [...config.args] } : {}),
    ...(config.working_dir ? { WorkingDir: config.working_dir } : {}),
    Env: env,
    ...(user ? { User: user } : {}),
    ...(hostNetwork ? {} : { Hostname: sandbox.hostname }),
    Tty: !!config.tty,
    OpenStdin: !!config.stdin,
    StdinOnce: !!config.stdin_once,
    Labels: labelsFor('container', meta, sandbox.id),
    HostConfig: hc,
  };
  return { name: containerName(metadata, sandbox.meta.metadata), meta, req };
}
