// What the OCI spec builder takes and gives back. The builder is a pure
// function of these plus a few reads of the rootfs and the host (user files,
// device nodes, kernel facts), so the engine can call it at create (to fail
// early, as Docker does) and again at every start.
import type { ContainerConfig, HostConfig } from '../../engine/containers/types.ts';
import type { ImageConfigFile } from '../../images/oci.ts';
import type { OciSpec } from '../types.ts';

export type OciMount = NonNullable<OciSpec['mounts']>[number];

/** Names Docker accepts in --ulimit. */
export const ULIMIT_NAMES = [
  'as', 'core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice',
  'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack',
] as const;
export type UlimitName = (typeof ULIMIT_NAMES)[number];

/** The daemon's own hard limits (Infinity = unlimited). A container cannot be
 * given more: joeyd may lack CAP_SYS_RESOURCE (it does on the test hosts). */
export type HostLimits = { nofileHard: number } & Partial<Record<`${UlimitName}Hard`, number>>;

/** Facts about the host that change what Docker allows or warns about.
 * Detected once (see host.ts); tests pass their own. */
export interface HostFacts {
  /** Pure cgroup v2 (unified) host; hybrid v1 hosts are false. */
  cgroupV2: boolean;
  /** /proc/sys/kernel/cap_last_cap */
  capLastCap: number;
  /** The daemon's capability bounding set (names): the most a container gets (--privileged, --cap-add ALL). */
  capBounding: string[];
  /** CPUs usable by containers (for --cpus validation). */
  ncpu: number;
  /** Online CPUs and memory nodes in cpuset list form ("0-3"). */
  cpusOnline: string;
  memsOnline: string;
  /** Kernel release, e.g. "6.1.0-18-amd64" (seccomp minKernel). */
  kernel: string;
  /** Node's process.arch of the daemon (x64, arm64, …). */
  arch: string;
  /** False when the kernel is built without the x32 ABI (x86_64 only): a
   * seccomp filter then leaves SCMP_ARCH_X32 out. Unknown counts as true. */
  x32?: boolean;
  /** The host's hostname (host network / UTS). */
  hostname: string;
  /** Swap accounting (memsw) is available. */
  swapLimit: boolean;
  /** blkio/io weight is available. */
  blkioWeight: boolean;
  /** cpu.rt_runtime_us is available (cgroup v1 with RT group scheduling). */
  cpuRealtime: boolean;
  /** Character and block devices of the host (for --privileged). */
  hostDevices: () => OciDevice[];
}

export interface OciDevice {
  path: string;
  type: 'c' | 'b' | 'p' | 'u';
  major: number;
  minor: number;
  fileMode?: number;
  uid?: number;
  gid?: number;
}

export interface OciDeviceRule {
  allow: boolean;
  type?: 'a' | 'c' | 'b';
  major?: number;
  minor?: number;
  access?: string;
}

export interface SpecInput {
  id: string;
  /** The mounted rootfs (host path). */
  rootfs: string;
  /** The image's config (Entrypoint, Cmd, Env, User, WorkingDir …). */
  image: ImageConfigFile['config'];
  /** Docker's create body Config (already merged with the image's or not: merging again changes nothing). */
  config: ContainerConfig;
  hostConfig: HostConfig;
  hostname: string;
  /** Host files bind-mounted over /etc/hosts, /etc/hostname, /etc/resolv.conf; empty or absent = not mounted. */
  files: { hosts?: string; hostname?: string; resolvConf?: string };
  /** linux.cgroupsPath, e.g. "/joey/<id>" (cgroupfs driver). */
  cgroupsPath: string;
  /** Host path of a static init (catatonit, tini-static) used for HostConfig.Init. */
  initPath?: string;
  /** The default seccomp profile, already parsed (Docker/containers-common or OCI format). */
  seccompProfile?: object;
  hostLimits: HostLimits;
  /** Mounts owned by the volumes code (Binds, Mounts, Volumes), in OCI form. */
  extraMounts?: OciMount[];
  /** Namespace paths for the "container:<id>" modes and a prepared network namespace. */
  netnsPath?: string;
  pidnsPath?: string;
  ipcnsPath?: string;
  utsnsPath?: string;
  /** Host path to bind at /dev/shm (IpcMode shareable or container:<id>). */
  shmPath?: string;
  /** Shown in annotations. */
  name?: string;
  imageRef?: string;
  /** Overrides of detected host facts (tests, or a daemon that knows better). */
  host?: Partial<HostFacts>;
}

export interface BuiltSpec {
  spec: OciSpec;
  /** Things Docker warns about at create; the engine returns them as Warnings. */
  warnings: string[];
}

/** A user resolved against the container's /etc/passwd and /etc/group. */
export interface ResolvedUser {
  uid: number;
  gid: number;
  /** Supplementary groups: the primary gid, /etc/group membership (implicit group form only), then GroupAdd. */
  additionalGids: number[];
  /** From passwd, "/" when unknown. */
  home: string;
}
