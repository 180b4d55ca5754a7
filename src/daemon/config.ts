// joeyd's configuration: flags named as dockerd's, merged with the daemon.json
// file under dockerd's rules (a setting in both places is an error, so is an
// unknown key), validated, and turned into an EngineConfig plus listeners.
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import type { EngineConfig } from '../engine/types.ts';
import { RESERVED_RUNTIME_NAMES, RUNTIME_NAME_RE, STOCK_RUNTIME, builtinRuntimes, type RuntimeSpec } from '../engine/runtimes.ts';
import { invalid, messageOf } from '../errdefs/index.ts';
import { isLogLevel, type LogLevel } from '../util/log.ts';
import { parseServiceUrl, trimUrl } from '../util/url.ts';
import { parseFixedCidrV6 } from '../engine/networks/fixed-cidr-v6.ts';
import { formatCidr6 } from '../engine/networks/ipnet.ts';
import { parsePoolFlag, parsePoolSpec, type AddressPoolSpec } from '../engine/networks/pools.ts';
import { parseP2PSettings } from '../p2p/config.ts';

export const DEFAULTS = {
  dataRoot: '/var/lib/joey',
  execRoot: '/run/joey',
  host: 'unix:///run/joey/joeyd.sock',
  configFile: '/etc/joey/daemon.json',
  logLevel: 'info' as LogLevel,
  maxConcurrentDownloads: 8,
  maxConcurrentUploads: 5,
  group: 'joey',
  tlsPort: 2376,
  cgroupParent: '/joey',
  bridge: 'joey0',
  lxcfsHome: '/var/lib/lxcfs',
  lxcfs: '/usr/bin/lxcfs',
};

export type ListenerSpec =
  | { kind: 'unix'; path: string; addr: string }
  | { kind: 'tcp'; host: string; port: number; addr: string };

export interface TlsSettings {
  /** Require client certificates signed by `cacert` (--tlsverify). */
  verify: boolean;
  cert: string;
  key: string;
  cacert?: string;
}

export interface DaemonConfig {
  engine: EngineConfig;
  listeners: ListenerSpec[];
  pidfile: string;
  logLevel: LogLevel;
  /** The unix sockets' group. When the user named it, it must exist; the
   * default ("joey") is used only where it exists. */
  group: string;
  groupExplicit: boolean;
  tls?: TlsSettings;
  /** The config file that was read, if any. */
  configFile?: string;
  /** --cri: serve the Kubernetes CRI on this unix socket. */
  cri?: { socket: string };
}

export type ParsedArgs = { kind: 'run'; config: DaemonConfig } | { kind: 'version' } | { kind: 'help'; text: string };

// 'runtimes': `name=path` flags, or daemon.json's {"name": {"path", "runtimeArgs"}}.
// 'pools': `base=CIDR,size=N` flags, or daemon.json's [{"base", "size"}].
type SettingType = 'string' | 'string[]' | 'boolean' | 'int' | 'runtimes' | 'pools';

interface Setting {
  /** daemon.json key */
  key: string;
  /** commander's attribute name of the flag */
  attr: string;
  type: SettingType;
}

// The settings that may come from a flag or from daemon.json.
const SETTINGS: Setting[] = [
  { key: 'data-root', attr: 'dataRoot', type: 'string' },
  { key: 'exec-root', attr: 'execRoot', type: 'string' },
  { key: 'hosts', attr: 'host', type: 'string[]' },
  { key: 'pidfile', attr: 'pidfile', type: 'string' },
  { key: 'insecure-registries', attr: 'insecureRegistry', type: 'string[]' },
  { key: 'registry-mirrors', attr: 'registryMirror', type: 'string[]' },
  { key: 'log-level', attr: 'logLevel', type: 'string' },
  { key: 'debug', attr: 'debug', type: 'boolean' },
  { key: 'tls', attr: 'tls', type: 'boolean' },
  { key: 'tlsverify', attr: 'tlsverify', type: 'boolean' },
  { key: 'tlscacert', attr: 'tlscacert', type: 'string' },
  { key: 'tlscert', attr: 'tlscert', type: 'string' },
  { key: 'tlskey', attr: 'tlskey', type: 'string' },
  { key: 'max-concurrent-downloads', attr: 'maxConcurrentDownloads', type: 'int' },
  { key: 'max-concurrent-uploads', attr: 'maxConcurrentUploads', type: 'int' },
  { key: 'labels', attr: 'label', type: 'string[]' },
  { key: 'group', attr: 'group', type: 'string' },
  { key: 'cgroup-parent', attr: 'cgroupParent', type: 'string' },
  { key: 'bridge', attr: 'bridge', type: 'string' },
  { key: 'bip', attr: 'bip', type: 'string' },
  { key: 'fixed-cidr', attr: 'fixedCidr', type: 'string' },
  { key: 'ipv6', attr: 'ipv6', type: 'boolean' },
  { key: 'fixed-cidr-v6', attr: 'fixedCidrV6', type: 'string' },
  { key: 'iptables', attr: 'iptables', type: 'boolean' },
  { key: 'default-address-pools', attr: 'defaultAddressPool', type: 'pools' },
  { key: 'enable-lxcfs', attr: 'enableLxcfs', type: 'boolean' },
  { key: 'lxcfs-home', attr: 'lxcfsHome', type: 'string' },
  { key: 'lxcfs', attr: 'lxcfs', type: 'string' },
  { key: 'lxcfs-pin-cpus', attr: 'lxcfsPinCpus', type: 'boolean' },
  { key: 'runtimes', attr: 'addRuntime', type: 'runtimes' },
  { key: 'default-runtime', attr: 'defaultRuntime', type: 'string' },
  { key: 'hooks-dir', attr: 'hooksDir', type: 'string[]' },
  { key: 'cri', attr: 'cri', type: 'boolean' },
  { key: 'cri-socket', attr: 'criSocket', type: 'string' },
  { key: 'cri-network', attr: 'criNetwork', type: 'string' },
  { key: 'pod-infra-image', attr: 'podInfraImage', type: 'string' },
  // p2p layer distribution
  { key: 'p2p-listen', attr: 'p2pListen', type: 'string' },
  { key: 'p2p-advertise', attr: 'p2pAdvertise', type: 'string' },
  { key: 'p2p-tracker', attr: 'p2pTracker', type: 'string' },
  { key: 'p2p-tracker-listen', attr: 'p2pTrackerListen', type: 'string' },
  { key: 'p2p-secret', attr: 'p2pSecret', type: 'string' },
];

const boolValue = (v: string | undefined): boolean => {
  if (v === undefined || v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new InvalidArgumentError('not a boolean (true or false).');
};
const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];
const integer = (v: string): number => {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError('not a non-negative integer.');
  return Number(v);
};

function program(out: { text: string }): Command {
  const cmd = new Command('joeyd')
    .description('joey container engine daemon (Docker Engine API)')
    .helpOption('-h, --help', 'Print usage')
    .option('--data-root <dir>', `Root directory of persistent state (default "${DEFAULTS.dataRoot}")`)
    .option('--exec-root <dir>', `Root directory for execution state files (default "${DEFAULTS.execRoot}")`)
    .option('-H, --host <addr>', `Daemon socket(s) to connect to, repeatable (default "${DEFAULTS.host}")`, collect)
    .option('--config-file <file>', `Daemon configuration file (default "${DEFAULTS.configFile}")`)
    .option('-p, --pidfile <file>', 'Path to use for the daemon PID file (default "<exec-root>/joeyd.pid")')
    .option('--insecure-registry <host>', 'Registry reachable over HTTP or with unverified TLS, repeatable', collect)
    .option('--registry-mirror <url>', 'Preferred registry mirror for docker.io, repeatable', collect)
    .option('-l, --log-level <level>', 'Set the logging level ("debug"|"info"|"warn"|"error"|"fatal") (default "info")')
    .option('-D, --debug', 'Enable debug mode')
    .option('--tls', 'Use TLS; implied by --tlsverify')
    .option('--tlsverify', 'Use TLS and verify the remote')
    .option('--tlscacert <file>', 'Trust certs signed only by this CA')
    .option('--tlscert <file>', 'Path to TLS certificate file')
    .option('--tlskey <file>', 'Path to TLS key file')
    .option('--max-concurrent-downloads <n>', `Set the max concurrent downloads per pull (default ${DEFAULTS.maxConcurrentDownloads})`, integer)
    .option('--max-concurrent-uploads <n>', `Set the max concurrent uploads per push (default ${DEFAULTS.maxConcurrentUploads})`, integer)
    .option('--label <key=value>', 'Set key=value labels to the daemon, repeatable', collect)
    .option('--cgroup-parent <path>', `Parent cgroup for all containers (default "${DEFAULTS.cgroupParent}")`)
    .option('-b, --bridge <name>', `Attach containers to a network bridge (default "${DEFAULTS.bridge}"; "none" disables it)`)
    .option('--bip <cidr>', "Network bridge's IP address and prefix, e.g. 172.30.0.1/16 (default: a free 172.x.0.0/16)")
    .option('--fixed-cidr <cidr>', 'IPv4 subnet for fixed IPs on the default bridge')
    .option('--ipv6 [bool]', 'Enable IPv6 on the default bridge (needs --fixed-cidr-v6)', boolValue)
    .option('--fixed-cidr-v6 <cidr>', 'IPv6 subnet of the default bridge, e.g. fd00:1::/64')
    .option('--default-address-pool <base=CIDR,size=N>', 'Default address pool for networks that name no subnet, repeatable (IPv4 entries replace the built-in pools, IPv6 ones the daemon\'s ULA /48)', (v: string, prev: AddressPoolSpec[] | undefined) => [...(prev ?? []), parsePoolFlag(v)])
    .option('--iptables [bool]', 'Enable iptables rules: outbound NAT, published ports (default true)', boolValue)
    .option('--enable-lxcfs [bool]', 'Let containers ask for lxcfs (--enableLxcfs): joeyd uses or starts lxcfs and keeps it alive', boolValue)
    .option('--lxcfs-home <dir>', `Where lxcfs is mounted (default "${DEFAULTS.lxcfsHome}")`)
    .option('--lxcfs <path>', `The lxcfs binary (default "${DEFAULTS.lxcfs}")`)
    .option('--lxcfs-pin-cpus [bool]', 'Give an lxcfs container with a CPU quota and no --cpuset-cpus as many CPUs as the quota, so nproc agrees with /proc/cpuinfo (default true)', boolValue)
    .option('--add-runtime <name=path>', 'Register an OCI runtime (a binary with runc\'s command line), repeatable', collect)
    .option('--default-runtime <name>', `Default OCI runtime for containers (default "${STOCK_RUNTIME}")`)
    .option('--hooks-dir <dir>', 'Directory of OCI hook files (oci-hooks JSON, version 1.0.0), repeatable; later ones win by file name', collect)
    .option('-G, --group <group>', `Group for the unix socket (default "${DEFAULTS.group}" where it exists)`)
    .option('--cri [bool]', 'Serve the Kubernetes CRI (runtime.v1) on --cri-socket', boolValue)
    .option('--cri-socket <path>', 'The CRI\'s unix socket (default "<exec-root>/cri.sock")')
    .option('--cri-network <name>', 'The network pod sandboxes join (default "bridge", the default bridge)')
    .option('--pod-infra-image <ref>', 'The image of pod sandboxes (default: joey\'s own pause image, made locally)')
    // p2p layer distribution
    .option('--p2p-listen <addr:port>', 'Serve this daemon\'s layer blobs to peers on ADDR:PORT (needs --p2p-tracker and --p2p-secret)')
    .option('--p2p-advertise <url>', 'The URL peers reach the blob server at (default http://<p2p-listen>)')
    .option('--p2p-tracker <url>', 'Tracker that finds peers holding a layer (http://HOST:PORT); pulls then take layers from peers')
    .option('--p2p-tracker-listen <addr:port>', 'Run a p2p tracker on ADDR:PORT')
    .option('--p2p-secret <secret>', 'Shared secret of the p2p fleet (at least 16 characters); better in daemon.json')
    .option('-v, --version', 'Print version information and quit')
    .exitOverride()
    .configureOutput({ writeOut: (s) => (out.text += s), writeErr: (s) => (out.text += s) });
  return cmd;
}

/** Parses joeyd's arguments (without the node and script paths) and the
 * config file they name. Throws an `invalid` error with a message for the
 * user on any bad flag, file or value. */
export function parseDaemonArgs(argv: string[], io: ConfigIO = {}): ParsedArgs {
  const readFile = io.readFile ?? ((p: string) => readFileSync(p, 'utf8'));
  const out = { text: '' };
  const cmd = program(out);
  try {
    cmd.parse(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help') return { kind: 'help', text: out.text };
      throw invalid(err.message.replace(/^error: /, ''), err);
    }
    throw err;
  }
  const flags = cmd.opts() as Record<string, unknown>;
  if (flags.version) return { kind: 'version' };

  const explicitFile = cmd.getOptionValueSource('configFile') === 'cli';
  const configFile = resolve((flags.configFile as string | undefined) ?? DEFAULTS.configFile);
  const file = readConfigFile(configFile, explicitFile, readFile);

  const fromFlags: Record<string, unknown> = {};
  for (const s of SETTINGS) if (cmd.getOptionValueSource(s.attr) === 'cli') fromFlags[s.key] = flags[s.attr];
  const conflicts = SETTINGS.filter((s) => s.key in fromFlags && file && s.key in file.values).map(
    (s) => `${s.key}: (from flag: ${show(fromFlags[s.key])}, from file: ${show(file!.values[s.key])})`,
  );
  if (conflicts.length > 0) {
    throw invalid(`the following directives are specified both as a flag and in the configuration file: ${conflicts.join(', ')}`);
  }
  const get = <T>(key: string): T | undefined => (fromFlags[key] ?? file?.values[key]) as T | undefined;

  const dataRoot = resolve(get<string>('data-root') ?? DEFAULTS.dataRoot);
  const execRoot = resolve(get<string>('exec-root') ?? DEFAULTS.execRoot);
  const debug = get<boolean>('debug') ?? false;
  const level = get<string>('log-level');
  if (level !== undefined && !isLogLevel(level)) throw invalid(`unable to parse logging level: ${level}`);
  const logLevel: LogLevel = (level as LogLevel | undefined) ?? (debug ? 'debug' : DEFAULTS.logLevel);

  const hosts = get<string[]>('hosts') ?? [];
  const listeners = (hosts.length > 0 ? hosts : [DEFAULTS.host]).map(parseHost);

  const tlsverify = get<boolean>('tlsverify') ?? false;
  const tlsOn = tlsverify || (get<boolean>('tls') ?? false);
  let tls: TlsSettings | undefined;
  if (tlsOn) {
    const cert = get<string>('tlscert');
    const key = get<string>('tlskey');
    const cacert = get<string>('tlscacert');
    if (!cert || !key) throw invalid('--tls and --tlsverify need --tlscert and --tlskey');
    if (tlsverify && !cacert) throw invalid('--tlsverify needs --tlscacert to verify client certificates');
    tls = { verify: tlsverify, cert: resolve(cert), key: resolve(key), ...(cacert ? { cacert: resolve(cacert) } : {}) };
  }
  if (!tls && listeners.some((l) => l.kind === 'tcp')) throw invalid('binding to tcp without TLS is insecure, use --tlsverify');

  const maxConcurrentDownloads = positive('max-concurrent-downloads', get<number>('max-concurrent-downloads') ?? DEFAULTS.maxConcurrentDownloads);
  const maxConcurrentUploads = positive('max-concurrent-uploads', get<number>('max-concurrent-uploads') ?? DEFAULTS.maxConcurrentUploads);
  const group = get<string>('group');
  const { runtimes, defaultRuntime } = resolveRuntimes(
    fromFlags['runtimes'] as string[] | undefined,
    file?.values['runtimes'] as Record<string, FileRuntime> | undefined,
    get<string>('default-runtime'),
    io.executable ?? executableStatus,
    io.pathEnv ?? process.env.PATH ?? '',
  );

  const engine: EngineConfig = {
    dataRoot,
    execRoot,
    insecureRegistries: (get<string[]>('insecure-registries') ?? []).map(validateInsecureRegistry),
    registryMirrors: (get<string[]>('registry-mirrors') ?? []).map(validateMirror),
    maxConcurrentDownloads,
    maxConcurrentUploads,
    labels: (get<string[]>('labels') ?? []).map(validateLabel),
    debug,
    hosts: listeners.map((l) => l.addr),
    cgroupParent: validateCgroupParent(get<string>('cgroup-parent') ?? DEFAULTS.cgroupParent),
    network: {
      ...validateNetwork(get<string>('bridge') ?? DEFAULTS.bridge, get<string>('bip'), get<string>('fixed-cidr'), get<boolean>('iptables') ?? true, get<boolean>('ipv6') ?? false, get<string>('fixed-cidr-v6')),
      ...(get<AddressPoolSpec[]>('default-address-pools')?.length ? { addressPools: get<AddressPoolSpec[]>('default-address-pools') } : {}),
    },
    ...(get<boolean>('enable-lxcfs') ? { lxcfs: validateLxcfs(get<string>('lxcfs-home') ?? DEFAULTS.lxcfsHome, get<string>('lxcfs') ?? DEFAULTS.lxcfs, get<boolean>('lxcfs-pin-cpus') ?? true) } : {}),
    runtimes,
    defaultRuntime,
    ...podsConfig(get<string>('cri-network'), get<string>('pod-infra-image')),
    hooksDirs: (get<string[]>('hooks-dir') ?? []).map((d) => {
      if (d.trim() === '') throw invalid('--hooks-dir must not be empty');
      return resolve(d);
    }),
  };
  const p2p = parseP2PSettings({
    listen: get<string>('p2p-listen'),
    advertise: get<string>('p2p-advertise'),
    tracker: get<string>('p2p-tracker'),
    trackerListen: get<string>('p2p-tracker-listen'),
    secret: get<string>('p2p-secret'),
  });
  if (p2p) engine.p2p = p2p;
  return {
    kind: 'run',
    config: {
      engine,
      listeners,
      pidfile: resolve(get<string>('pidfile') ?? join(execRoot, 'joeyd.pid')),
      logLevel,
      group: group ?? DEFAULTS.group,
      groupExplicit: group !== undefined && group !== '',
      ...(tls ? { tls } : {}),
      ...(file ? { configFile } : {}),
      ...(get<boolean>('cri') ? { cri: { socket: criSocket(get<string>('cri-socket'), execRoot) } } : {}),
    },
  };
}

function criSocket(path: string | undefined, execRoot: string): string {
  if (path === undefined) return join(execRoot, 'cri.sock');
  const p = path.startsWith('unix://') ? path.slice('unix://'.length) : path;
  if (!isAbsolute(p)) throw invalid(`--cri-socket must be an absolute path, got ${JSON.stringify(path)}`);
  return resolve(p);
}

function podsConfig(network: string | undefined, image: string | undefined): Pick<EngineConfig, 'pods'> {
  if (network !== undefined && !/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(network)) throw invalid(`invalid --cri-network ${JSON.stringify(network)}: a network name`);
  if (image !== undefined && image.trim() === '') throw invalid('--pod-infra-image must not be empty');
  if (network === undefined && image === undefined) return {};
  return { pods: { ...(network !== undefined ? { network } : {}), ...(image !== undefined ? { podInfraImage: image } : {}) } };
}

function validateLxcfs(home: string, binary: string, pinCpus: boolean): { home: string; binary: string; pinCpus: boolean } {
  if (!isAbsolute(home)) throw invalid(`--lxcfs-home must be an absolute path, got ${JSON.stringify(home)}`);
  if (!isAbsolute(binary)) throw invalid(`--lxcfs must be an absolute path, got ${JSON.stringify(binary)}`);
  return { home: resolve(home), binary, pinCpus };
}

function readConfigFile(
  path: string,
  explicit: boolean,
  readFile: (p: string) => string,
): { values: Record<string, unknown> } | undefined {
  const fail = (msg: string, cause?: unknown) => invalid(`unable to configure the joey daemon with file ${path}: ${msg}`, cause);
  let text: string;
  try {
    text = readFile(path);
  } catch (err) {
    // The default file is optional; one the user named is not.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !explicit) return undefined;
    throw fail(messageOf(err), err);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw fail(messageOf(err), err);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw fail('expected a JSON object');
  const values = raw as Record<string, unknown>;
  const unknown = Object.keys(values).filter((k) => !SETTINGS.some((s) => s.key === k));
  if (unknown.length > 0) throw fail(`the following directives don't match any configuration option: ${unknown.join(', ')}`);
  for (const s of SETTINGS) {
    if (!(s.key in values)) continue;
    const v = values[s.key];
    if (s.type === 'runtimes') {
      checkFileRuntimes(v, fail);
      continue;
    }
    if (s.type === 'pools') {
      if (!Array.isArray(v)) throw fail(`${s.key} must be ${TYPE_NAMES.pools}, got ${JSON.stringify(v)}`);
      for (const entry of v) {
        try {
          parsePoolSpec(entry, s.key);
        } catch (err) {
          throw fail(messageOf(err), err);
        }
      }
      continue;
    }
    const ok =
      s.type === 'string'
        ? typeof v === 'string'
        : s.type === 'boolean'
          ? typeof v === 'boolean'
          : s.type === 'int'
            ? Number.isInteger(v) && (v as number) >= 0
            : Array.isArray(v) && v.every((x) => typeof x === 'string');
    if (!ok) throw fail(`${s.key} must be ${TYPE_NAMES[s.type]}, got ${JSON.stringify(v)}`);
  }
  return { values };
}

const TYPE_NAMES: Record<SettingType, string> = {
  string: 'a string',
  'string[]': 'a list of strings',
  boolean: 'true or false',
  int: 'a non-negative integer',
  runtimes: 'an object of {"path": …, "runtimeArgs": […]} by name',
  pools: 'a list of {"base": "CIDR", "size": N}',
};

function show(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map((x) => (x !== null && typeof x === 'object' ? JSON.stringify(x) : String(x))).join(' ')}]`;
  return v !== null && typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function positive(name: string, n: number): number {
  if (!Number.isInteger(n) || n < 1) throw invalid(`invalid ${name}: ${n}: must be at least 1`);
  return n;
}

/** A -H value as dockerd reads it: unix://path, tcp://host:port, or a bare
 * host:port meaning tcp. */
export function parseHost(s: string): ListenerSpec {
  const value = s.trim();
  if (value === '') throw invalid('invalid bind address format: empty');
  const sep = value.indexOf('://');
  const scheme = sep >= 0 ? value.slice(0, sep) : 'tcp';
  const rest = sep >= 0 ? value.slice(sep + 3) : value;
  switch (scheme) {
    case 'unix': {
      const path = rest === '' ? DEFAULTS.host.slice('unix://'.length) : rest;
      if (!isAbsolute(path)) throw invalid(`invalid bind address ${s}: the socket path must be absolute`);
      return { kind: 'unix', path, addr: `unix://${path}` };
    }
    case 'tcp': {
      let url: URL;
      try {
        // "tcp://:2376" means the default host.
        url = new URL(`tcp://${rest.startsWith(':') ? '127.0.0.1' + rest : rest}`);
      } catch {
        throw invalid(`invalid bind address format: ${s}`);
      }
      if ((url.pathname !== '' && url.pathname !== '/') || url.search || url.hash || url.username) {
        throw invalid(`invalid bind address format: ${s}`);
      }
      const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
      const port = url.port === '' ? DEFAULTS.tlsPort : Number(url.port);
      const shown = host.includes(':') ? `[${host}]` : host;
      return { kind: 'tcp', host, port, addr: `tcp://${shown}:${port}` };
    }
    case 'fd':
      throw invalid(`${s}: fd:// hosts (socket activation) are not supported; use unix:// or tcp://`);
    default:
      throw invalid(`invalid bind address format: ${s}`);
  }
}

function validateMirror(m: string): string {
  return trimUrl(parseServiceUrl(m, 'mirror'));
}

function validateInsecureRegistry(r: string): string {
  if (r.includes('://')) throw invalid(`insecure registry ${r} should not contain '://'`);
  if (r.trim() === '') throw invalid('insecure registry must not be empty');
  return r;
}

function validateLabel(l: string): string {
  const eq = l.indexOf('=');
  if (eq <= 0) throw invalid(`bad attribute format: ${l}: labels are key=value`);
  return l;
}

function validateCgroupParent(p: string): string {
  const v = p.startsWith('/') ? p : `/${p}`;
  if (v.split('/').some((c) => c === '..') || /[\s:]/.test(v) || v === '/') throw invalid(`invalid cgroup parent "${p}": expected a path such as /joey`);
  return v.replace(/\/+$/, '');
}

const CIDR_RE = /^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/;

function validateNetwork(bridge: string, bip: string | undefined, fixedCidr: string | undefined, iptables: boolean, ipv6 = false, fixedCidrV6?: string): NonNullable<EngineConfig['network']> {
  if (bridge !== 'none' && !/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,14}$/.test(bridge)) throw invalid(`invalid bridge name ${JSON.stringify(bridge)}: at most 15 characters of [a-zA-Z0-9_.-]`);
  if (bip !== undefined && !CIDR_RE.test(bip)) throw invalid(`invalid --bip ${JSON.stringify(bip)}: expected an address with a prefix, e.g. 172.30.0.1/16`);
  if (fixedCidr !== undefined && !CIDR_RE.test(fixedCidr)) throw invalid(`invalid --fixed-cidr ${JSON.stringify(fixedCidr)}: expected a CIDR, e.g. 172.30.5.0/24`);
  if (bridge === 'none' && (bip || fixedCidr)) throw invalid('--bip and --fixed-cidr need a bridge: not with --bridge none');
  let v6: string | undefined;
  if (fixedCidrV6 !== undefined) v6 = formatCidr6(parseFixedCidrV6(fixedCidrV6));
  // dockerd 20.10 gives docker0 only a link-local address without
  // --fixed-cidr-v6; joey has no such half-way mode.
  if (ipv6 && !v6) throw invalid('--ipv6 needs --fixed-cidr-v6: the default bridge\'s IPv6 subnet');
  if (ipv6 && bridge === 'none') throw invalid('--ipv6 needs a bridge: not with --bridge none');
  return { bridge, iptables, ...(bip ? { bip } : {}), ...(fixedCidr ? { fixedCidr } : {}), ...(ipv6 && v6 ? { fixedCidrV6: v6 } : {}) };
}

/** What parseDaemonArgs reads from the host; tests pass fakes. */
export interface ConfigIO {
  readFile?: (path: string) => string;
  /** Whether `path` is an executable regular file. */
  executable?: (path: string) => ExecutableStatus;
  /** The PATH that bare runtime names are looked up in. */
  pathEnv?: string;
}

export type ExecutableStatus = 'ok' | 'missing' | 'not-executable';

function executableStatus(path: string): ExecutableStatus {
  try {
    if (!statSync(path).isFile()) return 'not-executable';
    accessSync(path, constants.X_OK);
    return 'ok';
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR' ? 'missing' : 'not-executable';
  }
}

interface FileRuntime {
  path: string;
  runtimeArgs?: string[];
}

/** daemon.json's "runtimes", checked for shape. dockerd's containerd-shim
 * settings (runtimeType, options) have no meaning here: joey runs the binary
 * under conmon, so they are refused rather than ignored. */
function checkFileRuntimes(v: unknown, fail: (msg: string) => Error): void {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw fail(`runtimes must be ${TYPE_NAMES.runtimes}, got ${JSON.stringify(v)}`);
  for (const [name, rt] of Object.entries(v as Record<string, unknown>)) {
    if (rt === null || typeof rt !== 'object' || Array.isArray(rt)) throw fail(`runtime '${name}' must be an object with a "path", got ${JSON.stringify(rt)}`);
    const r = rt as Record<string, unknown>;
    for (const k of Object.keys(r)) {
      if (k === 'runtimeType' || k === 'options') throw fail(`runtime '${name}': "${k}" (a containerd shim) is not supported: joey runs runtimes with runc's command line, give "path"`);
      if (k !== 'path' && k !== 'runtimeArgs') throw fail(`runtime '${name}': unknown key "${k}" (expected "path" and "runtimeArgs")`);
    }
    if (typeof r.path !== 'string' || r.path.trim() === '') throw fail(`runtime '${name}' needs a "path" (a string)`);
    if (r.runtimeArgs !== undefined && !(Array.isArray(r.runtimeArgs) && r.runtimeArgs.every((a) => typeof a === 'string'))) {
      throw fail(`runtime '${name}': "runtimeArgs" must be a list of strings, got ${JSON.stringify(r.runtimeArgs)}`);
    }
  }
}

/** The runtime table: built-in ones, then the user's (from flags or the file,
 * never both: that is a conflict above), each binary resolved and checked now
 * so that a typo fails the daemon's start, not a container's. */
function resolveRuntimes(
  flags: string[] | undefined,
  file: Record<string, FileRuntime> | undefined,
  defaultName: string | undefined,
  executable: (path: string) => ExecutableStatus,
  pathEnv: string,
): { runtimes: Record<string, RuntimeSpec>; defaultRuntime: string } {
  const added = new Map<string, RuntimeSpec>();
  for (const arg of flags ?? []) {
    const eq = arg.indexOf('=');
    const name = (eq < 0 ? '' : arg.slice(0, eq)).trim().toLowerCase();
    const path = eq < 0 ? '' : arg.slice(eq + 1).trim();
    if (name === '' || path === '') throw invalid(`invalid runtime argument: ${arg}: expected --add-runtime NAME=PATH`);
    if (added.has(name)) throw invalid(`runtime '${name}' was already defined`);
    added.set(name, { path });
  }
  for (const [name, r] of Object.entries(file ?? {})) added.set(name, { path: r.path.trim(), ...(r.runtimeArgs?.length ? { runtimeArgs: r.runtimeArgs } : {}) });

  const runtimes: Record<string, RuntimeSpec> = builtinRuntimes((p) => executable(p) === 'ok');
  for (const [name, spec] of added) {
    if (RESERVED_RUNTIME_NAMES.includes(name)) throw invalid(`runtime name '${name}' is reserved`);
    if (!RUNTIME_NAME_RE.test(name)) throw invalid(`invalid runtime name '${name}': only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    runtimes[name] = { ...spec, path: resolveBinary(name, spec.path, executable, pathEnv) };
  }
  const defaultRuntime = defaultName ?? STOCK_RUNTIME;
  if (!(defaultRuntime in runtimes)) {
    throw invalid(`specified default runtime '${defaultRuntime}' does not exist (defined: ${Object.keys(runtimes).sort().join(', ')})`);
  }
  return { runtimes, defaultRuntime };
}

/** An absolute path as it is, a bare name looked up on PATH; either must be an executable file. */
function resolveBinary(name: string, path: string, executable: (path: string) => ExecutableStatus, pathEnv: string): string {
  if (!path.includes('/')) {
    const found = pathEnv.split(delimiter).filter(isAbsolute).map((d) => join(d, path)).find((p) => executable(p) === 'ok');
    if (!found) throw invalid(`runtime '${name}': ${path} not found in PATH`);
    return found;
  }
  if (!isAbsolute(path)) throw invalid(`runtime '${name}': path ${path} must be absolute (or a command name on PATH)`);
  const st = executable(path);
  if (st === 'missing') throw invalid(`runtime '${name}': ${path} does not exist`);
  if (st === 'not-executable') throw invalid(`runtime '${name}': ${path} is not an executable file`);
  return path;
}
