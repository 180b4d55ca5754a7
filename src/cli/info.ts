// joey info: docker's "Client:" and "Server:" report, or --format over the
// same data (the API's /info fields plus ClientInfo).
import { ApiError } from '../client/client.ts';
import type { Cli } from './context.ts';
import { StatusError, displayError } from './errors.ts';
import { Template, TemplateError, goStruct } from './format.ts';
import { bytesSize } from './units.ts';
import { VERSION } from './build-info.ts';

/** The /info fields this report reads; the rest pass through to --format. */
export interface SystemInfo {
  ID?: string;
  Containers?: number;
  ContainersRunning?: number;
  ContainersPaused?: number;
  ContainersStopped?: number;
  Images?: number;
  Driver?: string;
  DriverStatus?: [string, string][] | null;
  SystemStatus?: [string, string][] | null;
  Plugins?: { Volume?: string[] | null; Network?: string[] | null; Authorization?: string[] | null; Log?: string[] | null };
  Debug?: boolean;
  NFd?: number;
  NGoroutines?: number;
  SystemTime?: string;
  LoggingDriver?: string;
  CgroupDriver?: string;
  CgroupVersion?: string;
  NEventsListener?: number;
  KernelVersion?: string;
  OperatingSystem?: string;
  OSType?: string;
  Architecture?: string;
  NCPU?: number;
  MemTotal?: number;
  DockerRootDir?: string;
  HttpProxy?: string;
  HttpsProxy?: string;
  NoProxy?: string;
  Name?: string;
  Labels?: string[] | null;
  ExperimentalBuild?: boolean;
  ServerVersion?: string;
  Runtimes?: Record<string, unknown> | null;
  DefaultRuntime?: string;
  Swarm?: { LocalNodeState?: string; NodeID?: string; NodeAddr?: string } | null;
  LiveRestoreEnabled?: boolean;
  InitBinary?: string;
  ContainerdCommit?: { ID?: string } | null;
  RuncCommit?: { ID?: string } | null;
  InitCommit?: { ID?: string } | null;
  SecurityOptions?: string[] | null;
  RegistryConfig?: {
    InsecureRegistryCIDRs?: string[] | null;
    IndexConfigs?: Record<string, { Name?: string; Secure?: boolean; Mirrors?: string[] | null }> | null;
    Mirrors?: string[] | null;
  } | null;
  Warnings?: string[] | null;
  CDISpecDirs?: string[] | null;
  /** joey-only: peer-to-peer layer distribution, when on. */
  P2P?: { Listen?: string; Advertise?: string; Tracker?: string; TrackerListen?: string } | null;
  [k: string]: unknown;
}

function clientInfo(cli: Cli) {
  return goStruct('*system.clientInfo', {
    Version: VERSION,
    Context: 'default',
    Debug: !!cli.opts.debug,
    Plugins: [] as unknown[],
    Warnings: null,
  });
}

/** The Server part of the report, line by line as docker prints it. */
export function serverReport(info: SystemInfo, opts: { debug?: boolean; username?: string } = {}): { out: string; warnings: string[] } {
  const lines: string[] = [];
  const add = (label: string, value: unknown) => lines.push(`${label} ${value ?? ''}`);
  const addNonEmpty = (label: string, value: string | undefined) => {
    if (value) lines.push(`${label} ${value}`);
  };
  const join = (l: string[] | null | undefined) => (l ?? []).join(' ');

  add(' Containers:', info.Containers ?? 0);
  add('  Running:', info.ContainersRunning ?? 0);
  add('  Paused:', info.ContainersPaused ?? 0);
  add('  Stopped:', info.ContainersStopped ?? 0);
  add(' Images:', info.Images ?? 0);
  addNonEmpty(' Server Version:', info.ServerVersion);
  addNonEmpty(' Storage Driver:', info.Driver);
  for (const [k, v] of info.DriverStatus ?? []) lines.push(`  ${k}: ${v}`);
  for (const [k, v] of info.SystemStatus ?? []) lines.push(` ${k}: ${v}`);
  addNonEmpty(' Logging Driver:', info.LoggingDriver);
  addNonEmpty(' Cgroup Driver:', info.CgroupDriver);
  addNonEmpty(' Cgroup Version:', info.CgroupVersion);
  lines.push(' Plugins:');
  add('  Volume:', join(info.Plugins?.Volume));
  add('  Network:', join(info.Plugins?.Network));
  if (info.Plugins?.Authorization?.length) add('  Authorization:', join(info.Plugins.Authorization));
  add('  Log:', join(info.Plugins?.Log));
  if (info.CDISpecDirs?.length) {
    lines.push(' CDI spec directories:');
    for (const d of info.CDISpecDirs) lines.push(`  ${d}`);
  }
  // joey has no swarm; shown when a daemon reports one
  if (info.Swarm?.LocalNodeState) add(' Swarm:', info.Swarm.LocalNodeState);
  const runtimes = Object.keys(info.Runtimes ?? {});
  if (runtimes.length > 0) {
    add(' Runtimes:', runtimes.join(' '));
    add(' Default Runtime:', info.DefaultRuntime);
  }
  if (info.OSType === 'linux') {
    // joey has no containerd or init binary; their lines show only when set
    if (info.InitBinary) add(' Init Binary:', info.InitBinary);
    if (info.ContainerdCommit?.ID) add(' containerd version:', info.ContainerdCommit.ID);
    add(' runc version:', info.RuncCommit?.ID);
    if (info.InitCommit?.ID) add(' init version:', info.InitCommit.ID);
    if (info.SecurityOptions?.length) {
      lines.push(' Security Options:');
      for (const so of info.SecurityOptions) {
        const kv = Object.fromEntries(so.split(',').map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));
        lines.push(`  ${kv.name ?? so}`);
        if (kv.profile) lines.push(`   Profile: ${kv.profile}`);
      }
    }
  }
  addNonEmpty(' Kernel Version:', info.KernelVersion);
  addNonEmpty(' Operating System:', info.OperatingSystem);
  addNonEmpty(' OSType:', info.OSType);
  addNonEmpty(' Architecture:', info.Architecture);
  add(' CPUs:', info.NCPU ?? 0);
  add(' Total Memory:', bytesSize(info.MemTotal ?? 0));
  addNonEmpty(' Name:', info.Name);
  addNonEmpty(' ID:', info.ID);
  add(' Joey Root Dir:', info.DockerRootDir);
  add(' Debug Mode:', !!info.Debug);
  if (info.Debug || opts.debug) {
    add('  File Descriptors:', info.NFd);
    add('  Goroutines:', info.NGoroutines);
    add('  System Time:', info.SystemTime);
    add('  EventsListeners:', info.NEventsListener);
  }
  addNonEmpty(' HTTP Proxy:', info.HttpProxy);
  addNonEmpty(' HTTPS Proxy:', info.HttpsProxy);
  addNonEmpty(' No Proxy:', info.NoProxy);
  addNonEmpty(' Username:', opts.username);
  if (info.Labels?.length) {
    lines.push(' Labels:');
    for (const l of info.Labels) lines.push(`  ${l}`);
  }
  add(' Experimental:', !!info.ExperimentalBuild);
  const reg = info.RegistryConfig;
  const indexConfigs = Object.values(reg?.IndexConfigs ?? {});
  if (reg && ((reg.InsecureRegistryCIDRs?.length ?? 0) > 0 || indexConfigs.length > 0)) {
    lines.push(' Insecure Registries:');
    for (const c of indexConfigs) if (!c.Secure) lines.push(`  ${c.Name}`);
    for (const cidr of reg.InsecureRegistryCIDRs ?? []) lines.push(`  ${cidr}`);
  }
  if (reg?.Mirrors?.length) {
    lines.push(' Registry Mirrors:');
    for (const m of reg.Mirrors) lines.push(`  ${m}`);
  }
  if (info.P2P) {
    lines.push(' P2P:');
    addNonEmpty('  Blob Server:', info.P2P.Listen);
    addNonEmpty('  Advertised As:', info.P2P.Advertise);
    addNonEmpty('  Tracker:', info.P2P.Tracker);
    addNonEmpty('  Tracker Listening On:', info.P2P.TrackerListen);
  }
  add(' Live Restore Enabled:', !!info.LiveRestoreEnabled);
  return { out: lines.join('\n') + '\n\n', warnings: info.Warnings ?? [] };
}

export async function runInfo(cli: Cli, opts: { format?: string }): Promise<void> {
  const format = opts.format ?? '';
  if (format === '') {
    cli.out(`Client:\n Version:    ${VERSION}\n Context:    default\n Debug Mode: ${!!cli.opts.debug}\n\nServer:\n`);
    let info: SystemInfo;
    try {
      info = await cli.client.get<SystemInfo>('/info');
    } catch (err) {
      // a daemon that answered with an error is reported under Server
      if (err instanceof ApiError) {
        cli.err(`ERROR: ${displayError(err)}\n`);
        throw new StatusError('errors pretty printing info');
      }
      throw err;
    }
    const username = (await cli.credentials()).get('https://index.docker.io/v1/')?.username;
    const { out, warnings } = serverReport(info, { debug: cli.opts.debug, username });
    cli.out(out);
    for (const w of warnings) cli.err(w + '\n');
    return;
  }
  let tmpl: Template;
  try {
    tmpl = Template.parse(format === 'json' ? '{{json .}}' : format);
  } catch (err) {
    if (err instanceof TemplateError) throw new StatusError(`template parsing error: ${err.message}`, 64);
    throw err;
  }
  const info = await cli.client.get<SystemInfo>('/info');
  const data = goStruct('system.dockerInfo', { ...info, ClientInfo: clientInfo(cli) });
  const { out, error } = tmpl.tryExecute(data);
  cli.out(out + '\n');
  if (error) throw new StatusError(error.message);
}
