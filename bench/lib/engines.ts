// The engines the pull benchmark compares. Each run of each engine gets a
// fresh private directory: a daemon is started on it before the timed pull
// and stopped (mounts undone, directory removed) after it, so that every
// timed pull starts from an empty store and no daemon start is timed.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pidAlive, run, runOk, startDaemon, stopDaemon, stopPid, waitUntil, excerpt, type Daemon } from './proc.ts';
import { removeTree, treeBytes, withTmpfsOver } from './fsutil.ts';
import { httpStatus } from './registry.ts';

export interface Context {
  /** registry host:port */
  registry: string;
  /** the repository root, for bin/joey and bin/joeyd */
  repoRoot: string;
}

export interface PullCommand {
  argv: string[];
  env: NodeJS.ProcessEnv;
}

export interface Instance {
  pull(ref: string): PullCommand;
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

const DOCKER_CLI = existsSync('/usr/local/bin/docker') ? '/usr/local/bin/docker' : 'docker';

function dockerCliEnv(sock: string, configDir: string): NodeJS.ProcessEnv {
  return { ...process.env, DOCKER_HOST: `unix://${sock}`, DOCKER_CONFIG: configDir };
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

/** A containerd with root, state, sockets and the opt plugin's directory under dir. */
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
  const daemon = startDaemon(['containerd', '--config', configPath], join(dir, 'containerd.log'));
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
    'containerd 1.6 (private root/state/socket, default overlayfs snapshotter) + `ctr images pull --plain-http` (fetch and unpack)',
  async start(dir) {
    const cd = await startContainerd(dir);
    const ctr = ['ctr', '-a', cd.sock, '-n', 'bench'];
    return {
      pull: (ref) => ({ argv: [...ctr, 'images', 'pull', '--plain-http', ref], env: process.env }),
      async verify(ref, layers) {
        const img = await run([...ctr, 'images', 'ls', '-q']);
        if (!img.stdout.split('\n').includes(ref)) return `image ${ref} not listed: ${excerpt(img.stdout + img.stderr)}`;
        const snaps = await run([...ctr, 'snapshots', '--snapshotter', 'overlayfs', 'ls']);
        const committed = snaps.stdout.split('\n').filter((l) => /\bCommitted\b/.test(l)).length;
        return committed === layers ? null : `${committed} committed snapshots, expected ${layers} (not unpacked?)`;
      },
      storeBytes: () => treeBytes(join(dir, 'root')),
      daemonPids: () => [cd.daemon.pid],
      async stop() {
        await stopDaemon(cd.daemon);
        await removeTree(dir);
      },
    };
  },
};

// ---- dockerd ---------------------------------------------------------------

export const dockerEngine: Engine = {
  name: 'docker',
  description:
    'dockerd 20.10 (private data-root/exec-root/socket, overlay2, its own managed containerd) + docker CLI 28 `docker pull`',
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
      '--bridge',
      'none',
      '--iptables=false',
      '--ip6tables=false',
      '--ip-masq=false',
      '--userland-proxy=false',
      '--insecure-registry',
      ctx.registry,
      '--log-level',
      'warn',
    ];
    // dockerd 20.10 creates /run/docker/plugins, uses a containerd at
    // /run/containerd/containerd.sock if there is one, and its managed containerd
    // creates /opt/containerd. It runs in a private mount namespace with tmpfs
    // over /run and /opt, so it starts its own containerd (root under data-root,
    // state under exec-root) and leaves nothing on the host; the mounts it makes
    // go away with the namespace.
    const daemon = startDaemon(withTmpfsOver(['/run', '/opt'], argv), join(dir, 'dockerd.log'));
    let managedPid = -1;
    const stop = async () => {
      if (managedPid < 0) managedPid = readPid(join(exec, 'containerd', 'containerd.pid'));
      await stopDaemon(daemon, 30);
      if (managedPid > 0 && pidAlive(managedPid) && cmdline(managedPid).includes(exec)) await stopPid(managedPid);
      await removeTree(dir);
    };
    try {
      await waitUntil('dockerd', () => pingSocket(sock), 60, daemon);
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
    return {
      pull: (ref) => ({ argv: [DOCKER_CLI, 'pull', ref], env }),
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

export const podmanEngine: Engine = {
  name: 'podman',
  description:
    'podman 4.3 (private --root/--runroot/--tmpdir, overlay driver, TMPDIR in the run dir) `podman pull --tls-verify=false`; no daemon, storage initialised before timing',
  async start(dir) {
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
    ];
    // podman 4.3 keeps c/image's blob-info cache in /var/lib/containers/cache
    // whatever --root says: every podman command runs with a tmpfs over /var/lib
    // (an empty cache each time, as in an empty store)
    const podman = (args: string[]) => withTmpfsOver(['/var/lib'], [...base, ...args]);
    // c/image keeps big temporary files in TMPDIR (default /var/tmp, same filesystem here)
    const env = { ...process.env, TMPDIR: tmp };
    const stop = () => removeTree(dir);
    try {
      // create the store (database, overlay checks) outside the timed section
      await runOk(podman(['images']), { env, timeoutSeconds: 60 });
    } catch (e) {
      await stop();
      throw e;
    }
    return {
      pull: (ref) => ({ argv: podman(['pull', '--tls-verify=false', ref]), env }),
      async verify(ref, layers) {
        const r = await run(podman(['image', 'inspect', '--format', '{{len .RootFS.Layers}}', ref]), { env });
        if (r.code !== 0) return `image inspect failed: ${excerpt(r.stderr || r.stdout)}`;
        return Number.parseInt(r.stdout.trim(), 10) === layers ? null : `image has ${r.stdout.trim()} layers`;
      },
      storeBytes: () => treeBytes(join(dir, 'root')),
      daemonPids: () => [],
      stop,
    };
  },
};

// ---- joey ------------------------------------------------------------------

async function startJoeyd(dir: string, ctx: Context) {
  const data = join(dir, 'data');
  const exec = join(dir, 'exec');
  const sock = join(dir, 'joey.sock');
  const cliConfig = join(dir, 'cli');
  await mkdir(data, { recursive: true });
  await mkdir(exec, { recursive: true });
  await mkdir(cliConfig, { recursive: true });
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
      '--insecure-registry',
      ctx.registry,
    ],
    join(dir, 'joeyd.log'),
  );
  const stop = async () => {
    await stopDaemon(daemon, 30);
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

export const joeyEngine: Engine = {
  name: 'joey',
  description: 'joeyd (private data-root/exec-root/socket) + `joey pull`',
  async start(dir, ctx) {
    const j = await startJoeyd(dir, ctx);
    const joey = join(ctx.repoRoot, 'bin', 'joey');
    const env = dockerCliEnv(j.sock, j.cliConfig);
    return {
      pull: (ref) => ({ argv: [joey, '-H', `unix://${j.sock}`, 'pull', ref], env: process.env }),
      verify: (ref, layers) => dockerApiVerify(env, ref, layers),
      storeBytes: () => treeBytes(j.data),
      daemonPids: () => [j.pid],
      stop: j.stop,
    };
  },
};

export const joeyDockerEngine: Engine = {
  name: 'joey-docker',
  description: 'joeyd (private data-root/exec-root/socket) + docker CLI 28 `docker pull`',
  async start(dir, ctx) {
    const j = await startJoeyd(dir, ctx);
    const env = dockerCliEnv(j.sock, j.cliConfig);
    return {
      pull: (ref) => ({ argv: [DOCKER_CLI, 'pull', ref], env }),
      verify: (ref, layers) => dockerApiVerify(env, ref, layers),
      storeBytes: () => treeBytes(j.data),
      daemonPids: () => [j.pid],
      stop: j.stop,
    };
  },
};

export const ENGINES: Engine[] = [joeyEngine, joeyDockerEngine, dockerEngine, ctrEngine, podmanEngine];

/** Engines that are not joey: the peers whose best median is the yardstick. */
export function isPeer(e: Engine): boolean {
  return !e.name.startsWith('joey');
}
