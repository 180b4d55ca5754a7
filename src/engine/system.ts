// /version, /info and the engine's part of /metrics.
import { accessSync, readFileSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import os from 'node:os';
import type { ImageContext } from '../images/context.ts';
import type { ContainerContext } from './containers/context.ts';
import { diskUsage, parseDiskUsageTypes, type DiskUsageSources } from './disk-usage.ts';
import { API_VERSION, BUILD_TIME, GIT_COMMIT, MIN_API_VERSION, VERSION } from '../version.ts';
import { unavailable } from '../errdefs/index.ts';
import type { DiskUsage, EngineConfig, SystemService, VersionInfo } from './types.ts';

function osName(): string {
  try {
    const text = readFileSync('/etc/os-release', 'utf8');
    return /^PRETTY_NAME="?([^"\n]*)"?/m.exec(text)?.[1] ?? 'Linux';
  } catch {
    return 'Linux';
  }
}

function cgroupVersion(): string {
  try {
    accessSync('/sys/fs/cgroup/cgroup.controllers');
    return '2';
  } catch {
    return '1';
  }
}

export class System implements SystemService {
  private readonly started = Date.now();
  constructor(
    private readonly config: EngineConfig,
    private readonly images: ImageContext,
    private readonly containers?: ContainerContext,
    private readonly usage?: DiskUsageSources,
    private readonly p2p?: { info(): Record<string, unknown>; metrics(): string[] },
  ) {}

  async diskUsage(opts: { types?: string[] } = {}): Promise<DiskUsage> {
    parseDiskUsageTypes(opts.types); // bad input is refused first
    if (!this.usage) throw unavailable('disk usage is not available');
    return diskUsage(this.usage, opts);
  }

  version(): VersionInfo {
    const arch = os.arch() === 'x64' ? 'amd64' : os.arch();
    return {
      Version: VERSION,
      ApiVersion: API_VERSION,
      MinAPIVersion: MIN_API_VERSION,
      GitCommit: GIT_COMMIT,
      GoVersion: `node${process.versions.node}`,
      Os: 'linux',
      Arch: arch,
      KernelVersion: os.release(),
      BuildTime: BUILD_TIME,
      Experimental: false,
      Components: [{ Name: 'Engine', Version: VERSION, Details: { ApiVersion: API_VERSION, MinAPIVersion: MIN_API_VERSION, Os: 'linux', Arch: arch, KernelVersion: os.release(), GitCommit: GIT_COMMIT, GoVersion: `node${process.versions.node}` } }],
      Platform: { Name: 'joey' },
    };
  }

  async info(): Promise<Record<string, unknown>> {
    const c = this.config;
    let fs: { type?: string } = {};
    try {
      const s = await statfs(c.dataRoot);
      fs = { type: '0x' + s.type.toString(16) };
    } catch {
      // data root not readable: leave it out
    }
    return {
      ID: '',
      ...this.containerCounts(),
      Images: this.images.store.count(),
      Driver: 'overlayfs',
      DriverStatus: [
        ['Backing Filesystem', fs.type ?? 'unknown'],
        ['Supports d_type', 'true'],
      ],
      Plugins: { Volume: ['local'], Network: [], Authorization: null, Log: ['json-file'] },
      MemoryLimit: true,
      SwapLimit: true,
      CpuCfsPeriod: true,
      CpuCfsQuota: true,
      CPUShares: true,
      CPUSet: true,
      PidsLimit: true,
      IPv4Forwarding: true,
      Debug: c.debug,
      NFd: 0,
      OomKillDisable: true,
      NGoroutines: 0,
      SystemTime: new Date().toISOString(),
      LoggingDriver: 'json-file',
      CgroupDriver: 'cgroupfs',
      CgroupVersion: cgroupVersion(),
      NEventsListener: 0,
      KernelVersion: os.release(),
      OperatingSystem: osName(),
      OSVersion: '',
      OSType: 'linux',
      Architecture: os.machine(),
      IndexServerAddress: 'https://index.docker.io/v1/',
      RegistryConfig: {
        AllowNondistributableArtifactsCIDRs: [],
        AllowNondistributableArtifactsHostnames: [],
        InsecureRegistryCIDRs: ['127.0.0.0/8', '::1/128', ...c.insecureRegistries.filter((r) => r.includes('/'))],
        IndexConfigs: Object.fromEntries(
          ['docker.io', ...c.insecureRegistries.filter((r) => !r.includes('/'))].map((name) => [
            name,
            { Name: name, Mirrors: name === 'docker.io' ? c.registryMirrors : [], Secure: name === 'docker.io', Official: name === 'docker.io' },
          ]),
        ),
        Mirrors: c.registryMirrors,
      },
      NCPU: os.cpus().length,
      MemTotal: os.totalmem(),
      DockerRootDir: c.dataRoot,
      HttpProxy: process.env.HTTP_PROXY ?? '',
      HttpsProxy: process.env.HTTPS_PROXY ?? '',
      NoProxy: process.env.NO_PROXY ?? '',
      Name: os.hostname(),
      Labels: c.labels,
      ExperimentalBuild: false,
      ServerVersion: VERSION,
      // dockerd's shape: {name: {path, runtimeArgs?}}.
      Runtimes: Object.fromEntries(Object.entries(c.runtimes ?? { runc: { path: 'runc' } }).map(([name, rt]) => [name, { path: rt.path, ...(rt.runtimeArgs?.length ? { runtimeArgs: rt.runtimeArgs } : {}) }])),
      DefaultRuntime: c.defaultRuntime ?? 'runc',
      // default-address-pools as dockerd shows them (only when configured); `docker info` lists them.
      ...(c.network?.addressPools?.length ? { DefaultAddressPools: c.network.addressPools.map((p) => ({ Base: p.base, Size: p.size })) } : {}),
      LiveRestoreEnabled: true,
      Isolation: '',
      InitBinary: '',
      SecurityOptions: ['name=seccomp,profile=builtin'],
      Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
      // joey-only: peer-to-peer distribution (the docker CLI ignores it; `joey info` shows it).
      ...(this.p2p ? { P2P: this.p2p.info() } : {}),
      Warnings: [],
    };
  }

  private containerCounts() {
    const all = this.containers?.store.all() ?? [];
    const running = all.filter((c) => c.state.Running && !c.state.Paused).length;
    const paused = all.filter((c) => c.state.Paused).length;
    return { Containers: all.length, ContainersRunning: running, ContainersPaused: paused, ContainersStopped: all.length - running - paused };
  }

  async metrics(): Promise<string> {
    const s = this.images.stats;
    const lines = [
      '# HELP joey_build_info joey version.',
      '# TYPE joey_build_info gauge',
      `joey_build_info{version="${VERSION}",commit="${GIT_COMMIT}"} 1`,
      '# HELP joey_images Number of images.',
      '# TYPE joey_images gauge',
      `joey_images ${this.images.store.count()}`,
      '# HELP joey_containers Containers by state.',
      '# TYPE joey_containers gauge',
      ...Object.entries(this.containerCounts()).filter(([k]) => k !== 'Containers').map(([k, v]) => `joey_containers{state="${k.replace('Containers', '').toLowerCase()}"} ${v}`),
      '# HELP joey_image_pulls_total Pulls started.',
      '# TYPE joey_image_pulls_total counter',
      `joey_image_pulls_total ${s.pulls}`,
      '# HELP joey_image_pull_failures_total Pulls that failed.',
      '# TYPE joey_image_pull_failures_total counter',
      `joey_image_pull_failures_total ${s.pullFailures}`,
      '# HELP joey_image_pushes_total Pushes started.',
      '# TYPE joey_image_pushes_total counter',
      `joey_image_pushes_total ${s.pushes}`,
      '# HELP joey_image_push_bytes_total Layer bytes uploaded.',
      '# TYPE joey_image_push_bytes_total counter',
      `joey_image_push_bytes_total ${s.bytesPushed}`,
      '# HELP joey_engine_uptime_seconds Seconds since the engine started.',
      '# TYPE joey_engine_uptime_seconds gauge',
      `joey_engine_uptime_seconds ${((Date.now() - this.started) / 1000).toFixed(3)}`,
      ...(this.p2p?.metrics() ?? []),
    ];
    return lines.join('\n') + '\n';
  }
}
