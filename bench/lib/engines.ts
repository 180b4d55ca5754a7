// The engines the benchmarks compare. An instance is one engine started on a
// fresh private directory (daemon, store, sockets, its own cgroup parent);
// stopping it stops every process it started, undoes its mounts and removes
// the directory. bench/pull starts one per pull, so that every timed pull
// starts from an empty store; bench/run and bench/density start one per
// engine and run containers in it. No daemon start is ever timed.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  excerpt,
  killMountNs,
  mountNsOf,
  pidAlive,
  run,
  runOk,
  startDaemon,
  stopDaemon,
  stopPid,
  waitUntil,
  type Daemon,
} from './proc.ts';
import { removeTree, treeBytes, withTmpfsOver } from './fsutil.ts';
import { httpStatus } from './registry.ts';
import { createBridge, deleteBridge, type BridgeSpec } from './hostnet.ts';

export interface Context {
  /** registry host:port */
  registry: string;
  /** the repository root, for bin/joey and bin/joeyd */
  repoRoot: string;
  /**
   * The cgroup the engine's containers go under (/joey-bench-<pid>/<engine>);
   * without it each engine uses its default (/joey, /docker, /libpod_parent, /bench).
   */
  cgroupParent?: string;
  /**
   * bench/run's bridge case: the engine's default bridge network gets this
   * private bridge and subnet (the bridge is deleted when the engine stops).
   * Without it, engines that can run with no bridge at all do (joeyd and
   * dockerd `--bridge none`).
   */
  bridge?: BridgeSpec;
  /** More joeyd flags (bench/lxcfs: --enable-lxcfs and its home). */
  joeydArgs?: string[];
}

export interface Command {
  argv: string[];
  env: NodeJS.ProcessEnv;
}
/** @deprecated the old name of Command */
export type PullCommand = Command;

export interface RunOptions {
  name: string;
  image: string;
  args: string[];
  /** `--rm` and wait (the default), or `-d` */
  detach?: boolean;
  /** `--network` (default none) */
  network?: string;
}

export interface Instance {
  pull(ref: string): Command;
  /**
   * The engine's own client with the given arguments: `joey`, the docker CLI,
   * `podman` (docker's syntax) or `ctr` (its own).
   */
  cli(args: string[]): Command;
  /** `run --rm` (or `-d`) with no network, with whatever flags this host needs */
  runCommand(o: RunOptions): Command;
  /** force-remove the named containers (one command) */
  removeCommand(names: string[]): Command;
  /** list every container, running or not (`ps -a`) */
  psCommand(): Command;
  /** ids of the containers the engine knows, running or not */
  containers(): Promise<string[]>;
  /** the containers' main pids (0 when not running), in the order of names */
  containerPids(names: string[]): Promise<number[]>;
  /** for engines that speak the Docker API: its socket, and the docker CLI against it */
  dockerApi?: { socket: string; cli(args: string[]): Command };
  /** null when the image is in the store with its layers unpacked, else what is wrong */
  verify(ref: string, layers: number): Promise<string | null>;
  /** bytes under the engine's data directories */
  storeBytes(): Promise<number>;
  /** the engine's long-lived processes, whose CPU time counts with the client's */
  daemonPids(): number[];
  /** stop every process, undo mounts, remove the directory */
  stop(): Promise<void>;
}

export interface Engine {
  name: string;
  /** one line for the README and the JSON */
  description: string;
  start(dir: string, ctx: Context): Promise<Instance>;
}

export const DOCKER_CLI = existsSync('/usr/local/bin/docker') ? '/usr/local/bin/docker' : 'docker';

function dockerCliEnv(sock: string, configDir: string): NodeJS.ProcessEnv {
  return { ...process.env, DOCKER_HOST: `unix://${sock}`, DOCKER_CONFIG: configDir };
}

/** A Docker-API engine's client commands, given its CLI, the flags `run` needs and those `rm -f` needs to kill at once. */
function dockerLike(cli: (args: string[]) => Command, runFlags: string[] = [], rmFlags: string[] = []) {
  return {
    cli,
    runCommand: (o: RunOptions) =>
      cli(['run', o.detach ? '-d' : '--rm', '--network', o.network ?? 'none', '--name', o.name, ...runFlags, o.image, ...o.args]),
    removeCommand: (names: string[]) => cli(['rm', '-f', ...rmFlags, ...names]),
    psCommand: () => cli(['ps', '-a']),
    async containers() {
      const c = cli(['ps', '-aq', '--no-trunc']);
      const r = await run(c.argv, { env: c.env, timeoutSeconds: 120 });
      if (r.code !== 0) throw new Error(`ps -aq failed: ${excerpt(r.stderr || r.stdout)}`);
      return r.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
    },
    async containerPids(names: string[]) {
      if (names.length === 0) return [];
      const c = cli(['inspect', '--format', '{{.State.Pid}}', ...names]);
      const r = await run(c.argv, { env: c.env, timeoutSeconds: 300 });
      if (r.code !== 0) throw new Error(`inspect failed: ${excerpt(r.stderr || r.stdout)}`);
      const pids = r.stdout.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => Number.parseInt(l, 10));
      if (pids.length !== names.length) throw new Error(`inspect gave ${pids.length} pids for ${names.length} containers`);
      return pids;
    },
  };
}

function dockerCli(sock: string, configDir: string): (args: string[]) => Command {
  const env = dockerCliEnv(sock, configDir);
  return (args) => ({ argv: [DOCKER_CLI, ...args], env });
}

async function pingSocket(sock: string): Promise<boolean> {
  return (await httpStatus({ socketPath: sock, path: '/_ping' })) === 200;
}

/** Layers of ref as the Docker API reports them, through the docker CLI. */
async function dockerApiVerify(env: NodeJS.ProcessEnv, ref: string, layers: number): Promise<string | null> {
  const r = await run([DOCKER_CLI, 'image', 'inspect', '--format', '{{len .RootFS.Layers}}', ref], { env });
  if (r.code !== 0) return `image inspect failed: ${excerpt(r.stderr || r.stdout)}`;
  const n = Number.parseInt(r.stdout.trim(), 10);
  return n === layers ? null : `image has ${r.stdout.trim()} layers, expected ${layers}`;
}

// ---- containerd ------------------------------------------------------------

interface Containerd {
  sock: string;
  daemon: Daemon;
}

/**
 * A containerd with root, state, sockets and the opt plugin's directory under
 * dir. It runs in a private mount namespace with a tmpfs over /run: its shims
 * keep their sockets in /run/containerd/s and runc's state in
 * /run/containerd/runc whatever the config says, and `ctr run` makes its
 * FIFOs in /run/containerd/fifo; the clients join that namespace (nsenter).
 */
async function startContainerd(dir: string): Promise<Containerd> {
  const sock = join(dir, 'containerd.sock');
  await mkdir(dir, { recursive: true });
  const config = [
    'version = 2',
    `root = "${join(dir, 'root')}"`,
    `state = "${join(dir, 'state')}"`,
    'disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]',
    '',
    '[grpc]',
    `  address = "${sock}"`,
    '',
    '[ttrpc]',
    `  address = "${sock}.ttrpc"`,
    '',
    '[debug]',
    '  address = ""',
    '  level = "warn"',
    '',
    '[metrics]',
    '  address = ""',
    '',
    '[plugins."io.containerd.internal.v1.opt"]',
    `  path = "${join(dir, 'opt')}"`,
    '',
  ].join('\n');
  const configPath = join(dir, 'containerd.toml');
  await writeFile(configPath, config);
  const daemon = startDaemon(withTmpfsOver(['/run'], ['containerd', '--config', configPath]), join(dir, 'containerd.log'));
  await waitUntil(
    'containerd',
    async () => (await run(['ctr', '-a', sock, 'version'], { timeoutSeconds: 5 })).code === 0,
    30,
    daemon,
  );
  return { sock, daemon };
}

export const ctrEngine: Engine = {
  name: 'ctr',
  description:
    'containerd 1.6 (private root/state/socket, default overlayfs snapshotter, private mount namespace with tmpfs on /run) + `ctr` (run through `nsenter --mount` into that namespace): `ctr images pull --plain-http` (fetch and unpack), `ctr run --rm IMAGE ID true` (no network: a new network namespace with no interface)',
  async start(dir, ctx) {
    const cd = await startContainerd(dir);
    const cli = (args: string[]): Command => ({
      argv: ['nsenter', `--mount=/proc/${cd.daemon.pid}/ns/mnt`, '--', 'ctr', '-a', cd.sock, '-n', 'bench', ...args],
      env: process.env,
    });
    const lines = async (args: string[]) => {
      const c = cli(args);
      const r = await run(c.argv, { env: c.env, timeoutSeconds: 120 });
      if (r.code !== 0) throw new Error(`ctr ${args.join(' ')} failed: ${excerpt(r.stderr || r.stdout)}`);
      return r.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
    };
    return {
      pull: (ref) => cli(['images', 'pull', '--plain-http', ref]),
      cli,
      runCommand(o) {
        if (o.detach) throw new Error('ctr: detached runs are not supported by this benchmark');
        // ctr's --cgroup is the container's whole cgroup path
        const cg = ctx.cgroupParent ? ['--cgroup', `${ctx.cgroupParent}/${o.name}`] : [];
        return cli(['run', '--rm', ...cg, o.image, o.name, ...o.args]);
      },
      removeCommand: (names) => cli(['containers', 'rm', ...names]),
      psCommand: () => cli(['containers', 'ls']),
      containers: () => lines(['containers', 'ls', '-q']),
      async containerPids(names) {
        const tasks = await lines(['tasks', 'ls']);
        return names.map((n) => Number.parseInt(tasks.find((l) => l.split(/\s+/)[0] === n)?.split(/\s+/)[1] ?? '0', 10));
      },
      async verify(ref, layers) {
        const img = await run(cli(['images', 'ls', '-q']).argv);
        if (!img.stdout.split('\n').includes(ref)) return `image ${ref} not listed: ${excerpt(img.stdout + img.stderr)}`;
        const snaps = await run(cli(['snapshots', '--snapshotter', 'overlayfs', 'ls']).argv);
        const committed = snaps.stdout.split('\n').filter((l) => /\bCommitted\b/.test(l)).length;
        return committed === layers ? null : `${committed} committed snapshots, expected ${layers} (not unpacked?)`;
      },
      storeBytes: () => treeBytes(join(dir, 'root')),
      daemonPids: () => [cd.daemon.pid],
      async stop() {
        const ns = mountNsOf(cd.daemon.pid);
        await stopDaemon(cd.daemon);
        // shims of containers that were not removed outlive containerd
        if (ns) await killMountNs(ns);
        await removeTree(dir);
      },
    };
  },
};

// ---- dockerd ---------------------------------------------------------------

export const dockerEngine: Engine = {
  name: 'docker',
  description:
    'dockerd 20.10 (private data-root/exec-root/socket, overlay2, its own managed containerd, no bridge, --cgroup-parent) + docker CLI 28',
  async start(dir, ctx) {
    const data = join(dir, 'data');
    const exec = join(dir, 'exec');
    const sock = join(dir, 'docker.sock');
    const cliConfig = join(dir, 'cli');
    await mkdir(data, { recursive: true });
    await mkdir(exec, { recursive: true });
    await mkdir(cliConfig, { recursive: true });
    const daemonJson = join(dir, 'daemon.json');
    // the trust key goes to /etc/docker/key.json unless moved (a config-file key only)
    await writeFile(daemonJson, JSON.stringify({ 'deprecated-key-path': join(dir, 'key.json') }) + '\n');
    const argv = [
      'dockerd',
      '--data-root',
      data,
      '--exec-root',
      exec,
      '-H',
      `unix://${sock}`,
      '--pidfile',
      join(dir, 'docker.pid'),
      '--config-file',
      daemonJson,
      '--storage-driver',
      'overlay2',
      // bridge case: dockerd 20.10 refuses -b with --bip and only creates a
      // bridge named docker0, so it adopts one made here with its gateway address
      ...(ctx.bridge
        ? ['--bridge', ctx.bridge.name, '--iptables=true', '--ip-masq=true']
        : ['--bridge', 'none', '--iptables=false', '--ip-masq=false']),
      '--ip6tables=false',
      '--userland-proxy=false',
      '--insecure-registry',
      ctx.registry,
      ...(ctx.cgroupParent ? ['--cgroup-parent', ctx.cgroupParent] : []),
      '--log-level',
      'warn',
    ];
    // dockerd 20.10 creates /run/docker/plugins, uses a containerd at
    // /run/containerd/containerd.sock if there is one, and its managed containerd
    // creates /opt/containerd. It runs in a private mount namespace with tmpfs
    // over /run and /opt, so it starts its own containerd (root under data-root,
    // state under exec-root) and leaves nothing on the host; the mounts it makes
    // go away with the namespace.
    const bridge = ctx.bridge;
    if (bridge) await createBridge(bridge);
    const daemon = startDaemon(withTmpfsOver(['/run', '/opt'], argv), join(dir, 'dockerd.log'));
    let managedPid = -1;
    let ns: string | null = null;
    const stop = async () => {
      if (managedPid < 0) managedPid = readPid(join(exec, 'containerd', 'containerd.pid'));
      ns ??= mountNsOf(daemon.pid);
      await stopDaemon(daemon, 30);
      if (managedPid > 0 && pidAlive(managedPid) && cmdline(managedPid).includes(exec)) await stopPid(managedPid);
      // shims of containers that were not removed outlive containerd
      if (ns) await killMountNs(ns);
      if (bridge) await reportBridgeLeft(bridge.name);
      await removeTree(dir);
    };
    try {
      await waitUntil('dockerd', () => pingSocket(sock), 60, daemon);
      ns = mountNsOf(daemon.pid);
      // check that the managed containerd is the private one
      managedPid = readPid(join(exec, 'containerd', 'containerd.pid'));
      const cl = cmdline(managedPid);
      if (managedPid <= 0 || !cl.includes(exec)) {
        throw new Error(`dockerd's managed containerd is not under ${exec} (pid ${managedPid}: ${cl || 'none'})`);
      }
      const toml = readFileSync(join(exec, 'containerd', 'containerd.toml'), 'utf8');
      if (!toml.includes(join(data, 'containerd'))) {
        throw new Error(`dockerd's managed containerd has its root outside ${data}`);
      }
    } catch (e) {
      await stop();
      throw e;
    }
    const env = dockerCliEnv(sock, cliConfig);
    const cli = dockerCli(sock, cliConfig);
    return {
      pull: (ref) => cli(['pull', ref]),
      ...dockerLike(cli),
      dockerApi: { socket: sock, cli },
      verify: (ref, layers) => dockerApiVerify(env, ref, layers),
      storeBytes: () => treeBytes(data),
      daemonPids: () => [daemon.pid, managedPid],
      stop,
    };
  },
};

function readPid(path: string): number {
  try {
    return Number.parseInt(readFileSync(path, 'utf8').trim(), 10) || -1;
  } catch {
    return -1;
  }
}

function cmdline(pid: number): string {
  if (pid <= 0) return '';
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

// ---- podman ----------------------------------------------------------------

// podman 4.3 with runc on this host: crun (its default) refuses hybrid
// cgroups, and the default rlimits are above root's hard limits here.
const PODMAN_RUN_FLAGS = ['--ulimit', 'nofile=20000:20000', '--ulimit', 'nproc=32768:32768'];

export const podmanEngine: Engine = {
  name: 'podman',
  description:
    'podman 4.3 (private --root/--runroot/--tmpdir, overlay driver, cgroupfs, --runtime runc, TMPDIR in the run dir; run with --ulimit nofile=20000:20000 --ulimit nproc=32768:32768 --cgroup-parent); no daemon, storage initialised before timing',
  async start(dir, ctx) {
    const tmp = join(dir, 'tmp');
    for (const d of ['root', 'runroot', 'libpod-tmp', 'networks', tmp]) await mkdir(join(dir, d), { recursive: true });
    const base = [
      'podman',
      '--root',
      join(dir, 'root'),
      '--runroot',
      join(dir, 'runroot'),
      '--tmpdir',
      join(dir, 'libpod-tmp'),
      '--network-config-dir',
      join(dir, 'networks'),
      '--storage-driver',
      'overlay',
      '--cgroup-manager',
      'cgroupfs',
      '--events-backend',
      'file',
      '--runtime',
      'runc',
    ];
    // c/image keeps big temporary files in TMPDIR (default /var/tmp, same filesystem here)
    const env = { ...process.env, TMPDIR: tmp };
    // podman 4.3 keeps c/image's blob-info cache in /var/lib/containers/cache
    // whatever --root says: pulls run with a tmpfs over /var/lib (an empty
    // cache each time, as in an empty store). Other commands run as they are:
    // the wrapper would cost a mount namespace per command, and they write
    // nothing there.
    const pullArgv = (args: string[]) => withTmpfsOver(['/var/lib'], [...base, ...args]);
    const cli = (args: string[]): Command => ({ argv: [...base, ...args], env });
    const runFlags = [...PODMAN_RUN_FLAGS, ...(ctx.cgroupParent ? ['--cgroup-parent', ctx.cgroupParent] : [])];
    const bridge = ctx.bridge;
    // bridge case: podman's default network is named `podman`; a conflist of
    // that name in the private network config dir replaces the built-in one
    // (cni-podman0, 10.88.0.0/16), so `--network bridge` gets this bridge and
    // subnet, with host-local's leases under dir rather than /var/lib/cni
    if (bridge) await writeFile(join(dir, 'networks', 'podman.conflist'), podmanConflist(bridge, join(dir, 'cni-ipam')));
    const stop = async () => {
      if (bridge) await reportBridgeLeft(bridge.name);
      await removeTree(dir);
    };
    try {
      // create the store (database, overlay checks) outside the timed section
      await runOk(pullArgv(['images']), { env, timeoutSeconds: 60 });
    } catch (e) {
      await stop();
      throw e;
    }
    return {
      pull: (ref) => ({ argv: pullArgv(['pull', '--tls-verify=false', ref]), env }),
      // `podman rm -f` stops with SIGTERM and a 10 s grace period (sleep as
      // pid 1 ignores SIGTERM); --time 0 kills at once, as `docker rm -f` does
      ...dockerLike(cli, runFlags, ['--time', '0']),
      async verify(ref, layers) {
        const r = await run(cli(['image', 'inspect', '--format', '{{len .RootFS.Layers}}', ref]).argv, { env });
        if (r.code !== 0) return `image inspect failed: ${excerpt(r.stderr || r.stdout)}`;
        return Number.parseInt(r.stdout.trim(), 10) === layers ? null : `image has ${r.stdout.trim()} layers`;
      },
      storeBytes: () => treeBytes(join(dir, 'root')),
      daemonPids: () => [],
      stop,
    };
  },
};

/** What podman 4.3 writes for `podman network create` with the CNI backend, with a private IPAM data dir. */
function podmanConflist(b: BridgeSpec, ipamDir: string): string {
  return (
    JSON.stringify(
      {
        cniVersion: '0.4.0',
        name: 'podman',
        plugins: [
          {
            type: 'bridge',
            bridge: b.name,
            isGateway: true,
            ipMasq: true,
            hairpinMode: true,
            ipam: {
              type: 'host-local',
              routes: [{ dst: '0.0.0.0/0' }],
              ranges: [[{ subnet: b.subnet, gateway: b.gateway }]],
              dataDir: ipamDir,
            },
          },
          { type: 'portmap', capabilities: { portMappings: true } },
          { type: 'firewall', backend: '' },
          { type: 'tuning' },
        ],
      },
      null,
      2,
    ) + '\n'
  );
}

/** Deletes the engine's bench bridge after it stopped; a failure is logged, not thrown. */
async function reportBridgeLeft(name: string): Promise<void> {
  const why = await deleteBridge(name);
  if (why) process.stderr.write(`warning: bridge ${name}: ${why}\n`);
}

// ---- joey ------------------------------------------------------------------

interface Joeyd {
  data: string;
  sock: string;
  cliConfig: string;
  pid: number;
  stop(): Promise<void>;
}

async function startJoeyd(dir: string, ctx: Context): Promise<Joeyd> {
  const data = join(dir, 'data');
  const exec = join(dir, 'exec');
  const sock = join(dir, 'joey.sock');
  const cliConfig = join(dir, 'cli');
  await mkdir(data, { recursive: true });
  await mkdir(exec, { recursive: true });
  await mkdir(cliConfig, { recursive: true });
  // an empty config file, so that the host's /etc/joey/daemon.json never applies
  const configFile = join(dir, 'daemon.json');
  await writeFile(configFile, '{}\n');
  const joeyd = join(ctx.repoRoot, 'bin', 'joeyd');
  const daemon = startDaemon(
    [
      joeyd,
      '--data-root',
      data,
      '--exec-root',
      exec,
      '-H',
      `unix://${sock}`,
      '--pidfile',
      join(dir, 'joey.pid'),
      '--config-file',
      configFile,
      '--insecure-registry',
      ctx.registry,
      ...(ctx.cgroupParent ? ['--cgroup-parent', ctx.cgroupParent] : []),
      // its own default bridge in the bridge case, else none (joeyd would make
      // joey0, which stays after it exits, as docker0 does)
      ...(ctx.bridge ? ['--bridge', ctx.bridge.name, '--bip', `${ctx.bridge.gateway}/${ctx.bridge.prefix}`] : ['--bridge', 'none']),
      ...(ctx.joeydArgs ?? []),
    ],
    join(dir, 'joeyd.log'),
  );
  const stop = async () => {
    await stopDaemon(daemon, 30);
    if (ctx.bridge) await reportBridgeLeft(ctx.bridge.name);
    await removeTree(dir);
  };
  try {
    await waitUntil('joeyd', () => pingSocket(sock), 60, daemon);
  } catch (e) {
    await stop();
    throw e;
  }
  return { data, sock, cliConfig, stop, pid: daemon.pid };
}

function joeyInstance(j: Joeyd, ctx: Context, client: 'joey' | 'docker'): Instance {
  const joey = join(ctx.repoRoot, 'bin', 'joey');
  const env = dockerCliEnv(j.sock, j.cliConfig);
  const docker = dockerCli(j.sock, j.cliConfig);
  const cli = client === 'joey' ? (args: string[]): Command => ({ argv: [joey, '-H', `unix://${j.sock}`, ...args], env: process.env }) : docker;
  return {
    pull: (ref) => cli(['pull', ref]),
    ...dockerLike(cli),
    dockerApi: { socket: j.sock, cli: docker },
    verify: (ref, layers) => dockerApiVerify(env, ref, layers),
    storeBytes: () => treeBytes(j.data),
    daemonPids: () => [j.pid],
    stop: j.stop,
  };
}

export const joeyEngine: Engine = {
  name: 'joey',
  description: 'joeyd (private data-root/exec-root/socket, --cgroup-parent) + the joey CLI',
  start: async (dir, ctx) => joeyInstance(await startJoeyd(dir, ctx), ctx, 'joey'),
};

export const joeyDockerEngine: Engine = {
  name: 'joey-docker',
  description: 'joeyd (private data-root/exec-root/socket, --cgroup-parent) + docker CLI 28',
  start: async (dir, ctx) => joeyInstance(await startJoeyd(dir, ctx), ctx, 'docker'),
};

export const ENGINES: Engine[] = [joeyEngine, joeyDockerEngine, dockerEngine, ctrEngine, podmanEngine];

async function commandExists(cmd: string): Promise<boolean> {
  return (await run(['sh', '-c', `command -v "${cmd}"`])).code === 0;
}

/** Why an engine cannot run on this machine, or null. */
export async function unavailable(e: Engine, repoRoot: string): Promise<string | null> {
  const need: Record<string, string[]> = {
    docker: ['dockerd', 'unshare'],
    ctr: ['containerd', 'ctr', 'unshare', 'nsenter'],
    podman: ['podman', 'unshare'],
  };
  for (const c of need[e.name] ?? []) if (!(await commandExists(c))) return `${c} not installed`;
  if (e.name === 'docker' || e.name === 'joey-docker') {
    if (!existsSync('/usr/local/bin/docker') && !(await commandExists('docker'))) return 'docker CLI not installed';
  }
  if (e.name.startsWith('joey') && !existsSync(join(repoRoot, 'dist', 'joeyd.mjs'))) {
    return 'not built: dist/joeyd.mjs is missing (run `make build`)';
  }
  return null;
}

/** Engines that are not joey: the peers whose best median is the yardstick. */
export function isPeer(e: Engine): boolean {
  return !e.name.startsWith('joey');
}
