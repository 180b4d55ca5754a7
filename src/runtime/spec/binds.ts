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
  ReadOnlyForceRecursive?: boolean;
  TmpfsOptions?: string[];
}

export function ociMountOf(m: MountLike): OciMount {
  if (m.Type === 'tmpfs') {
    const options = mergeTmpfsOptions([...DEFAULT_TMPFS_OPTIONS, ...(m.TmpfsOptions ?? []), ...(m.RW ? [] : ['ro'])], m.Destination);
    return { destination: m.Destination, type: 'tmpfs', source: 'tmpfs', options };
  }
  const options = [m.NonRecursive ? 'bind' : 'rbind', m.Propagation || 'rprivate'];
  if (!m.RW) options.push(m.ReadOnlyForceRecursive ? 'rro' : 'ro');
  return { destination: m.Destination, type: 'bind', source: m.Source, options };
}

/** linux.rootfsPropagation as dockerd sets it: shared when a mount is
 * shared, else slave when one is a slave, so that the mounts can propagate. */
export function rootfsPropagationOf(mounts: readonly OciMount[]): string | undefined {
  const opts = mounts.flatMap((m) => m.options ?? []);
  if (opts.some((o) => o === 'shared' || o === 'rshared')) return 'rshared';
  if (opts.some((o) => o === 'slave' || o === 'rslave')) return 'rslave';
  return undefined;
}

export function ociMountsOf(mounts: readonly MountLike[]): OciMount[] {
  return mounts.map(ociMountOf);
}
