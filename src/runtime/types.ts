// The runtime seam: how the engine runs an OCI bundle. conmon + a binary with
// runc's command line (runc, crun, a user's --add-runtime) is the first
// implementation; a VM runtime comes beside it later, so nothing here may
// assume the container is a host process tree that runc manages.

/** The subset of the OCI runtime spec (config.json) joey writes. Kept loose:
 * the spec builder owns its exact shape. */
export type OciSpec = Record<string, unknown> & {
  ociVersion: string;
  process?: OciProcess;
  root?: { path: string; readonly?: boolean };
  hostname?: string;
  mounts?: Array<{ destination: string; type?: string; source?: string; options?: string[] }>;
  hooks?: Record<string, Array<{ path: string; args?: string[]; env?: string[]; timeout?: number }>>;
  annotations?: Record<string, string>;
  linux?: Record<string, unknown>;
};

export interface OciProcess {
  terminal?: boolean;
  consoleSize?: { height: number; width: number };
  user: { uid: number; gid: number; umask?: number; additionalGids?: number[] };
  args: string[];
  env: string[];
  cwd: string;
  capabilities?: { bounding?: string[]; effective?: string[]; inheritable?: string[]; permitted?: string[]; ambient?: string[] };
  rlimits?: Array<{ type: string; hard: number; soft: number }>;
  noNewPrivileges?: boolean;
  oomScoreAdj?: number;
  apparmorProfile?: string;
  selinuxLabel?: string;
}

/** Linux resources as `runc update --resources -` takes them (OCI LinuxResources). */
export type OciResources = Record<string, unknown>;

/** Where a container's runtime files live. */
export interface ContainerPaths {
  /** OCI bundle directory: config.json, and conmon's attach socket, ctl and winsz FIFOs. */
  bundle: string;
  /** Kept across joeyd restarts: conmon's persist dir (exit, oom). */
  persistDir: string;
  /** conmon writes <exitDir>/<id> with the exit code. */
  exitDir: string;
  /** The k8s-file log conmon writes. */
  logPath: string;
}

export interface CreateOptions {
  id: string;
  name: string;
  spec: OciSpec;
  paths: ContainerPaths;
  /** Keep stdin open for attach (-i). */
  stdin: boolean;
  /** Keep the container's stdin open when an attached client goes (not StdinOnce). */
  leaveStdinOpen?: boolean;
  tty: boolean;
  /** Max bytes of the k8s-file log before conmon truncates (a backstop while joeyd is down). */
  logSizeMax?: number;
  /** Run by conmon after the container exits, even when joeyd is down. */
  exitCommand?: string[];
}

export interface Created {
  /** The container's init process on the host (0 for runtimes without one). */
  pid: number;
  /** The monitor process (conmon) that outlives joeyd. */
  monitorPid: number;
}

export type RuntimeStatus = 'creating' | 'created' | 'running' | 'paused' | 'stopped' | 'unknown';

export interface RuntimeState {
  status: RuntimeStatus;
  pid: number;
}

export interface ExecOptions {
  /** The process to run (OCI process object). */
  process: OciProcess;
  tty: boolean;
  stdin: boolean;
  /** Where this exec's exit code and attach socket go. */
  dir: string;
  /** Detached execs just start; attached ones hand back the attach socket. */
  detach: boolean;
  /** Attached execs: runs once the attach socket exists and before the
   * process starts, so that a client connected there misses no output. */
  beforeStart?: (attachSocket: string) => Promise<void>;
}

export interface ExecSession {
  pid: number;
  monitorPid: number;
  /** SOCK_SEQPACKET attach socket for stdio (absent for detached execs). */
  attachSocket?: string;
  /** Resolves with the exit code when the process ends. */
  exited: Promise<number>;
  resize(height: number, width: number): Promise<void>;
  /** Kills the process and every process it started that is still its
   * descendant (SIGKILL); nothing when it has already ended. */
  kill(): Promise<void>;
}

export interface RuntimeStats {
  read: string; // RFC 3339
  cpu: { usageNs: number; userNs: number; systemNs: number; perCpuNs: number[]; throttledPeriods: number; throttledTimeNs: number };
  memory: { usage: number; limit: number; maxUsage: number; cache: number; raw: Record<string, number> };
  pids: { current: number; limit: number };
  blkio: { read: number; write: number };
  network: Record<string, { rxBytes: number; rxPackets: number; rxErrors: number; rxDropped: number; txBytes: number; txPackets: number; txErrors: number; txDropped: number }>;
}

export interface OciRuntime {
  readonly name: string;
  /** Creates the container (not started): conmon + `runc create`. */
  create(opts: CreateOptions): Promise<Created>;
  start(id: string): Promise<void>;
  kill(id: string, signal: string | number, opts?: { all?: boolean }): Promise<void>;
  /** Removes the runtime's record of a stopped container (force: kill first). */
  delete(id: string, opts?: { force?: boolean }): Promise<void>;
  state(id: string): Promise<RuntimeState>;
  pause(id: string): Promise<void>;
  resume(id: string): Promise<void>;
  update(id: string, resources: OciResources): Promise<void>;
  /** Host pids of every process in the container. */
  pids(id: string): Promise<number[]>;
  stats(id: string): Promise<RuntimeStats>;
  exec(id: string, opts: ExecOptions): Promise<ExecSession>;
  /** Terminal size of the container's tty. */
  resize(paths: ContainerPaths, height: number, width: number): Promise<void>;
  /** Asks the monitor to reopen the log file (after joeyd rotated it). */
  reopenLog(paths: ContainerPaths): Promise<void>;
  /** The exit code recorded by the monitor, if the container has exited. */
  exitCode(id: string, paths: ContainerPaths): Promise<number | undefined>;
  /** When the monitor recorded the exit, if it has: an exit while joeyd was
   * down keeps its own time (an upgrade's rollback window goes by it). */
  exitedAt?(id: string, paths: ContainerPaths): Promise<Date | undefined>;
  /** Whether the monitor recorded an OOM kill. */
  oomKilled(paths: ContainerPaths): Promise<boolean>;
  /** Whether the monitor process is still alive (live restore). */
  monitorAlive(monitorPid: number): Promise<boolean>;
  /** Ids of every container the runtime holds state for (start-up reconciliation). */
  list(): Promise<string[]>;
}
