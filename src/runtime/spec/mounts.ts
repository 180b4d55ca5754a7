// The container's mounts: Docker's defaults (/proc, /dev, /sys, cgroup,
// mqueue, shm), the network files, --tmpfs, the volumes code's mounts, and
// the init binary. A user mount replaces a default at the same place.
import { posix } from 'node:path';
import { invalid } from '../../errdefs/index.ts';
import type { HostConfig } from '../../engine/containers/types.ts';
import type { NamespacePlan } from './namespaces.ts';
import { INIT_PATH_IN_CONTAINER } from './process.ts';
import { buildTmpfsMounts } from './tmpfs.ts';
import type { OciMount } from './types.ts';

export const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;

export interface MountInput {
  hostConfig: HostConfig;
  plan: NamespacePlan;
  files: { hosts?: string; hostname?: string; resolvConf?: string };
  initPath?: string;
  extraMounts?: OciMount[];
  writableCgroups: boolean;
}

const depth = (p: string): number => p.split('/').filter(Boolean).length;

function defaultMounts(hc: HostConfig, plan: NamespacePlan, writableCgroups: boolean): OciMount[] {
  const privileged = !!hc.Privileged;
  const ro = (on: boolean): string[] => (on ? ['ro'] : []);
  const shmSize = hc.ShmSize ?? 0;
  if (!Number.isSafeInteger(shmSize) || shmSize < 0) throw invalid(`SHM size can not be less than 0: ShmSize ${JSON.stringify(hc.ShmSize)}`);
  const mounts: OciMount[] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    // Without its own network namespace sysfs cannot be mounted afresh: bind the host's.
    plan.hostNetwork
      ? { destination: '/sys', type: 'bind', source: '/sys', options: ['rbind', 'rprivate', 'nosuid', 'noexec', 'nodev', ...ro(!privileged)] }
      : { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', ...ro(!privileged)] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: [...ro(!privileged && !writableCgroups), 'nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
  ];
  if (plan.shm.kind === 'tmpfs') {
    mounts.push({ destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${shmSize || DEFAULT_SHM_SIZE}`] });
  } else if (plan.shm.kind === 'bind') {
    mounts.push({ destination: '/dev/shm', type: 'bind', source: plan.shm.source, options: ['rbind', 'rprivate'] });
  }
  return mounts;
}

function networkFileMounts(files: MountInput['files'], readonly: boolean): OciMount[] {
  const out: OciMount[] = [];
  // dockerd makes them read-only along with a read-only rootfs.
  const options = ['rbind', 'rprivate', ...(readonly ? ['ro'] : [])];
  for (const [dest, source] of [['/etc/resolv.conf', files.resolvConf], ['/etc/hostname', files.hostname], ['/etc/hosts', files.hosts]] as const) {
    if (source) out.push({ destination: dest, type: 'bind', source, options: [...options] });
  }
  return out;
}

export function buildMounts(input: MountInput): OciMount[] {
  const hc = input.hostConfig;
  const user = [...buildTmpfsMounts(hc.Tmpfs), ...(input.extraMounts ?? [])];
  const seen = new Set<string>();
  for (const m of user) {
    if (!m.destination?.startsWith('/')) throw invalid(`invalid mount point ${JSON.stringify(m.destination ?? '')}: must be an absolute path`);
    const d = posix.normalize(m.destination).replace(/(.)\/$/, '$1');
    if (seen.has(d)) throw invalid(`Duplicate mount point: ${d}`);
    seen.add(d);
  }
  const overridden = (dest: string): boolean => seen.has(dest) || (seen.has('/dev') && dest.startsWith('/dev/'));
  const defaults = [...defaultMounts(hc, input.plan, input.writableCgroups), ...networkFileMounts(input.files, !!hc.ReadonlyRootfs)].filter((m) => !overridden(m.destination));
  // Parents before children, as dockerd sorts; stable, so equal depths keep the given order.
  const sortedUser = user.map((m, i) => ({ m, i })).sort((a, b) => depth(a.m.destination) - depth(b.m.destination) || a.i - b.i).map((x) => x.m);
  const mounts = [...defaults, ...sortedUser];
  if (input.initPath && hc.Init) {
    mounts.push({ destination: INIT_PATH_IN_CONTAINER, type: 'bind', source: input.initPath, options: ['bind', 'ro'] });
  }
  return mounts;
}
