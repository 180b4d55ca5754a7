// A CRI server for the CRI tests: a private joeyd with --cri (the default),
// or (CRI_TARGET=containerd) Debian's containerd 1.6 with its built-in CRI
// plugin, its own root, state, socket and CNI config, to check the tests
// (and joey's .proto) against a reference implementation.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { startContainerDaemon, teardownContainerDaemon, type ContainerDaemon } from './containers.ts';
import { LogBuffer, makeTempDir, removeDir, run, runOk, terminate, waitFor } from './proc.ts';
import { REPO_ROOT, mountsUnder } from './daemon.ts';
import { orphansMentioning, pidAlive } from './host.ts';
import { removeCgroupTree } from './cgroups.ts';
import { removeBridgeRules } from './containers.ts';

export type CriTargetName = 'joeyd' | 'containerd';
export const CRI_TARGET: CriTargetName = process.env.CRI_TARGET === 'containerd' ? 'containerd' : 'joeyd';

export interface CriTarget {
  name: CriTargetName;
  socket: string;
  /** The subnet pods get addresses from, as "10.x.y." (a /24). */
  subnetPrefix: string;
  /** The host bridge pods are plugged into. */
  bridge: string;
  /** Loads an image tarball (docker-archive) into the target's image store. */
  loadImage(tar: string): Promise<void>;
  /** Restarts the server on the same state (joeyd only: live restore). */
  restart?(): Promise<void>;
  /** The target's log, for assertion messages. */
  log(): string;
  /** Stops everything, removes what the target made; returns leaks found (mounts, netns). */
  teardown(): Promise<string[]>;
}

export interface CriTargetOptions {
  tag: string;
  /** 10.<octet>.0.0/24 is the pods' subnet. */
  octet: number;
  /** Registries reachable over plain HTTP (host:port). */
  insecureRegistries: string[];
  /** Which server (default: CRI_TARGET); bench/cri starts both side by side. */
  target?: CriTargetName;
  /**
   * containerd's CNI chain (default: bridge + host-local, then portmap).
   * bench/cri asks for joeyd's chain instead: no portmap (its pods publish
   * nothing; joeyd adds portmap only for a pod that does) and hairpin mode on.
   */
  cni?: { portmap?: boolean; hairpinMode?: boolean };
}

export async function startCriTarget(opts: CriTargetOptions): Promise<CriTarget> {
  return (opts.target ?? CRI_TARGET) === 'containerd' ? startContainerd(opts) : startJoeydCri(opts);
}

async function startJoeydCri(opts: CriTargetOptions): Promise<CriTarget> {
  const bridge = `jc${opts.tag}0`;
  const cd: ContainerDaemon = await startContainerDaemon(`cri-${opts.tag}`, { args: ['--bridge', bridge, '--bip', `10.${opts.octet}.0.1/24`, '--cri'] });
  const socket = join(cd.d.execRoot, 'cri.sock');
  await waitFor('the CRI socket', async () => (await run('test', ['-S', socket])).code === 0, 10_000);
  return {
    name: 'joeyd',
    socket,
    subnetPrefix: `10.${opts.octet}.0.`,
    bridge,
    async loadImage(tar) {
      await cd.d.dockerOk(['load', '-i', tar], { timeoutMs: 60_000 });
    },
    async restart() {
      await cd.d.restart();
      await waitFor('the CRI socket', async () => (await run('test', ['-S', socket])).code === 0, 10_000);
    },
    log: () => cd.d.log(),
    async teardown() {
      const leaks: string[] = [];
      const netns = (await run('ls', ['-A', join(cd.d.execRoot, 'netns')])).stdout.split('\n').filter(Boolean);
      leaks.push(...netns.map((n) => `netns ${n}`));
      await teardownContainerDaemon(cd);
      await run('ip', ['link', 'del', bridge]);
      await removeBridgeRules(bridge);
      return leaks;
    },
  };
}

async function startContainerd(opts: CriTargetOptions): Promise<CriTarget> {
  const dir = await makeTempDir('joey-it-containerd-');
  const socket = join(dir, 'containerd.sock');
  const bridge = `jk${opts.tag}0`;
  const cniDir = join(dir, 'cni');
  await mkdir(cniDir, { recursive: true });
  await writeFile(join(cniDir, '10-pods.conflist'), JSON.stringify({
    cniVersion: '0.4.0',
    name: `joey-it-${opts.tag}`,
    plugins: [
      { type: 'bridge', bridge, isGateway: true, ipMasq: false, ...(opts.cni?.hairpinMode ? { hairpinMode: true } : {}), ipam: { type: 'host-local', ranges: [[{ subnet: `10.${opts.octet}.0.0/24` }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: join(dir, 'ipam') } },
      ...(opts.cni?.portmap === false ? [] : [{ type: 'portmap', capabilities: { portMappings: true } }]),
    ],
  }));
  const mirrors = opts.insecureRegistries.map((r) => `[plugins."io.containerd.grpc.v1.cri".registry.mirrors."${r}"]\n  endpoint = ["http://${r}"]\n`).join('');
  const config = `version = 2
root = "${dir}/root"
state = "${dir}/state"
disabled_plugins = ["io.containerd.internal.v1.tracing", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "${socket}"
[ttrpc]
  address = "${socket}.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "${dir}/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${PAUSE_IMAGE}"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  netns_mounts_under_state_dir = true
  # root lacks CAP_SYS_RESOURCE here: no negative oom_score_adj (the sandbox's -998)
  restrict_oom_score_adj = true
[plugins."io.containerd.grpc.v1.cri".cni]
  bin_dir = "/usr/lib/cni"
  conf_dir = "${cniDir}"
[plugins."io.containerd.grpc.v1.cri".containerd]
  snapshotter = "overlayfs"
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
  Root = "${dir}/runc"
${mirrors}`;
  await writeFile(join(dir, 'config.toml'), config);
  const log = new LogBuffer(4 << 20);
  const child: ChildProcess = spawn('containerd', ['--config', join(dir, 'config.toml')], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (b: Buffer) => log.push(b.toString()));
  child.stderr!.on('data', (b: Buffer) => log.push(b.toString()));
  await waitFor('containerd\'s socket', async () => (await run('ctr', ['-a', socket, 'version'])).code === 0, 20_000);
  return {
    name: 'containerd',
    socket,
    subnetPrefix: `10.${opts.octet}.0.`,
    bridge,
    async loadImage(tar) {
      await runOk('ctr', ['-a', socket, '-n', 'k8s.io', 'images', 'import', tar], { timeoutMs: 60_000 });
    },
    log: () => log.tail(),
    async teardown() {
      await terminate(child);
      // Shims outlive containerd by design.
      for (const o of await orphansMentioning(dir)) {
        try {
          process.kill(o.pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      await waitFor('shims to exit', async () => {
        for (const o of await orphansMentioning(dir)) if (await pidAlive(o.pid)) return false;
        return true;
      }, 10_000).catch(() => undefined);
      const leaks = await mountsUnder(dir);
      for (const m of [...leaks].reverse()) await run('umount', ['-l', m]);
      await removeDir(dir);
      await run('ip', ['link', 'del', bridge]);
      // containerd 1.6 keeps its shims' sockets under /run/containerd/s whatever
      // its state dir: those dirs go when nothing else is left in them.
      for (const d of ['/run/containerd/runc/k8s.io', '/run/containerd/runc', '/run/containerd/s', '/run/containerd']) await run('rmdir', [d]);
      return leaks.map((m) => `mount ${m}`);
    },
  };
}

export { removeCgroupTree };

/** The sandbox image containerd is configured with. */
export const PAUSE_IMAGE = 'joey.local/pause:it';

/** joey-pause (dist/native, what joeyd's own sandboxes run) as PAUSE_IMAGE in
 * a docker-archive under `dir`, for containerd, which cannot make one.
 * skopeo runs in a private mount namespace with a tmpfs over /var/lib, so
 * that its blob-info cache stays off the host. */
export async function pauseArchive(dir: string): Promise<string> {
  const layout = join(dir, 'pause-layout');
  const bundle = join(dir, 'pause-bundle');
  await runOk('umoci', ['init', '--layout', layout]);
  await runOk('umoci', ['new', '--image', `${layout}:it`]);
  await runOk('umoci', ['unpack', '--image', `${layout}:it`, bundle]);
  await runOk('install', ['-m', '0755', join(REPO_ROOT, 'dist/native/joey-pause'), join(bundle, 'rootfs/pause')]);
  await runOk('umoci', ['repack', '--image', `${layout}:it`, bundle]);
  await runOk('umoci', ['config', '--image', `${layout}:it`, '--config.entrypoint', '/pause']);
  const tar = join(dir, 'pause.tar');
  await runOk('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', 'mount -t tmpfs -o mode=755,size=256m joey-test /var/lib && exec "$@"', 'sh',
    'skopeo', '--insecure-policy', 'copy', '--quiet', `oci:${layout}:it`, `docker-archive:${tar}:${PAUSE_IMAGE}`], { env: { ...process.env, TMPDIR: dir } });
  await removeDir(bundle);
  return tar;
}
