// linux.namespaces from NetworkMode, PidMode, IpcMode, UTSMode, CgroupnsMode
// and UsernsMode. "container:<id>" modes join a path the engine looked up.
import { conflict, invalid } from '../../errdefs/index.ts';
import type { ContainerConfig, HostConfig } from '../../engine/containers/types.ts';

export interface Namespace {
  type: 'mount' | 'network' | 'uts' | 'pid' | 'ipc' | 'cgroup' | 'user';
  path?: string;
}

export interface NamespacePlan {
  namespaces: Namespace[];
  hostNetwork: boolean;
  /** Joins another container's network namespace. */
  sharedNetwork: boolean;
  hostIpc: boolean;
  hostUts: boolean;
  /** Joins another container's UTS namespace (a pod's containers, the CRI): its hostname is that one's. */
  sharedUts: boolean;
  /** What goes at /dev/shm. */
  shm: { kind: 'tmpfs' } | { kind: 'bind'; source: string } | { kind: 'none' };
}

export interface NamespaceInput {
  hostConfig: HostConfig;
  config: ContainerConfig;
  cgroupV2: boolean;
  netnsPath?: string;
  pidnsPath?: string;
  ipcnsPath?: string;
  utsnsPath?: string;
  shmPath?: string;
}

/** "container:<id>" → "<id>", undefined for other modes. */
function containerOf(mode: string, field: string): string | undefined {
  if (!mode.startsWith('container:')) return undefined;
  const id = mode.slice('container:'.length);
  if (!id) throw invalid(`invalid ${field} ${JSON.stringify(mode)}: no container named after "container:"`);
  return id;
}

function joined(type: Namespace['type'], path: string | undefined, id: string, what: string): Namespace {
  if (!path) throw conflict(`cannot join the ${what} of container ${id}: it is not running`);
  return { type, path };
}

export function buildNamespaces(input: NamespaceInput): NamespacePlan {
  const hc = input.hostConfig;
  const namespaces: Namespace[] = [{ type: 'mount' }];

  // Network. Named networks and bridge get a new namespace, or the one the
  // network code prepared (netnsPath).
  const net = hc.NetworkMode ?? '';
  const netPeer = containerOf(net, 'NetworkMode');
  const hostNetwork = net === 'host' && !input.config.NetworkDisabled;
  if (netPeer !== undefined) namespaces.push(joined('network', input.netnsPath, netPeer, 'network namespace'));
  else if (!hostNetwork) {
    const useNew = net === 'none' || input.config.NetworkDisabled || !input.netnsPath;
    namespaces.push(useNew ? { type: 'network' } : { type: 'network', path: input.netnsPath! });
  }

  // UTS
  // UTS ("container:<id>" is joey's, for pods: Docker has no such mode)
  const uts = hc.UTSMode ?? '';
  const utsPeer = containerOf(uts, 'UTSMode');
  if (utsPeer === undefined && uts !== '' && uts !== 'host') throw invalid(`invalid UTS mode: ${uts}`);
  const hostUts = uts === 'host';
  if (utsPeer !== undefined) namespaces.push(joined('uts', input.utsnsPath, utsPeer, 'UTS namespace'));
  else if (!hostUts) namespaces.push({ type: 'uts' });

  // PID
  const pid = hc.PidMode ?? '';
  const pidPeer = containerOf(pid, 'PidMode');
  if (pidPeer !== undefined) namespaces.push(joined('pid', input.pidnsPath, pidPeer, 'PID namespace'));
  else if (pid === '') namespaces.push({ type: 'pid' });
  else if (pid !== 'host') throw invalid(`invalid PID mode: ${pid}`);

  // IPC (Docker's default is private).
  const ipc = hc.IpcMode ?? '';
  const ipcPeer = containerOf(ipc, 'IpcMode');
  let shm: NamespacePlan['shm'] = input.shmPath ? { kind: 'bind', source: input.shmPath } : { kind: 'tmpfs' };
  const hostIpc = ipc === 'host';
  if (ipcPeer !== undefined) namespaces.push(joined('ipc', input.ipcnsPath, ipcPeer, 'IPC namespace'));
  else if (hostIpc) shm = { kind: 'bind', source: '/dev/shm' };
  else if (['', 'private', 'shareable', 'none'].includes(ipc)) {
    namespaces.push({ type: 'ipc' });
    if (ipc === 'none') shm = { kind: 'none' };
  } else throw invalid(`invalid IPC mode: ${ipc}`);

  // cgroup: Docker's default is private on cgroup v2 and host on v1.
  const cg = hc.CgroupnsMode ?? '';
  if (!['', 'private', 'host'].includes(cg)) throw invalid(`invalid cgroup namespace mode: ${cg}`);
  if (cg === 'private' || (cg === '' && input.cgroupV2)) namespaces.push({ type: 'cgroup' });

  const userns = hc.UsernsMode ?? '';
  if (userns !== '' && userns !== 'host') throw invalid(`UsernsMode ${JSON.stringify(userns)} is not supported: joey runs containers without user namespaces`);

  return { namespaces, hostNetwork, sharedNetwork: netPeer !== undefined, hostIpc, hostUts, sharedUts: utsPeer !== undefined, shm };
}
