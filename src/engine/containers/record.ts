// A container's record, as stored (metadata/schema.ts, table containers), and
// the paths derived from its id.
import { join } from 'node:path';
import type { ContainerConfig, ContainerState, HostConfig } from './types.ts';

export interface ContainerRecord {
  id: string;
  name: string;
  imageId: string;
  imageRef: string;
  createdAt: string;
  config: ContainerConfig;
  hostConfig: HostConfig;
  state: ContainerState;
  runtime: string;
  restartCount: number;
  monitorPid: number | null;
  monitorStart: number | null;
  manuallyStopped: boolean;
}

export interface Roots {
  dataRoot: string;
  execRoot: string;
}

export interface Paths {
  /** data-root/containers/<id>: logs, hosts, hostname, resolv.conf (kept across reboots). */
  dir: string;
  /** exec-root/containers/<id>: the OCI bundle (config.json, attach, ctl, winsz). */
  bundle: string;
  /** Where the rootfs is mounted. */
  rootfs: string;
  persistDir: string;
  /** Shared by all containers of a daemon: conmon writes <exitDir>/<id>. */
  exitDir: string;
  logPath: string;
  hostsPath: string;
  hostnamePath: string;
  resolvConfPath: string;
}

export function pathsOf(roots: Roots, id: string): Paths {
  const dir = join(roots.dataRoot, 'containers', id);
  const bundle = join(roots.execRoot, 'containers', id);
  return {
    dir,
    bundle,
    rootfs: join(bundle, 'rootfs'),
    persistDir: join(bundle, 'persist'),
    exitDir: join(roots.execRoot, 'exits'),
    logPath: join(dir, 'container.log'),
    hostsPath: join(dir, 'hosts'),
    hostnamePath: join(dir, 'hostname'),
    resolvConfPath: join(dir, 'resolv.conf'),
  };
}

/** Where conmon writes the container's log: its own file, or the one a
 * k8s-file log config names (the CRI's log_path, read by kubelet). */
export function logPathOf(c: Pick<ContainerRecord, 'hostConfig'>, paths: Paths): string {
  const lc = c.hostConfig.LogConfig;
  return lc?.Type === 'k8s-file' && lc.Config?.['path'] ? lc.Config['path'] : paths.logPath;
}

export const ZERO_TIME = '0001-01-01T00:00:00Z';

export function initialState(): ContainerState {
  return {
    Status: 'created',
    Running: false,
    Paused: false,
    Restarting: false,
    OOMKilled: false,
    Dead: false,
    Pid: 0,
    ExitCode: 0,
    Error: '',
    StartedAt: ZERO_TIME,
    FinishedAt: ZERO_TIME,
  };
}
