// A container's binds, volumes and --mount tmpfs (resolved by the volumes
// code) as OCI mounts. Binds are recursive and rprivate unless asked
// otherwise, as dockerd mounts them; read-only is applied by the runtime's
// remount.
import { mergeTmpfsOptions, DEFAULT_TMPFS_OPTIONS } from './tmpfs.ts';
import type { OciMount } from './types.ts';

/** The fields of a resolved container mount that the spec needs. */
export interface MountLike {
  Type: string;
  Source: string;
  Destination: string;
  RW: boolean;
  Propagation: string;
  NonRecursive?: boolean;
  TmpfsOptions?: string[];
}

export function ociMountOf(m: MountLike): OciMount {
  if (m.Type === 'tmpfs') {
    const options = mergeTmpfsOptions([...DEFAULT_TMPFS_OPTIONS, ...(m.TmpfsOptions ?? []), ...(m.RW ? [] : ['ro'])], m.Destination);
    return { destination: m.Destination, type: 'tmpfs', source: 'tmpfs', options };
  }
  const options = [m.NonRecursive ? 'bind' : 'rbind', m.Propagation || 'rprivate'];
  if (!m.RW) options.push('ro');
  return { destination: m.Destination, type: 'bind', source: m.Source, options };
}

export function ociMountsOf(mounts: readonly MountLike[]): OciMount[] {
  return mounts.map(ociMountOf);
}
