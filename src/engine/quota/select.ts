// Which backend a data root gets: btrfs qgroups on btrfs; a loop-mounted ext4
// image anywhere else (ext4, tmpfs, XFS…). XFS and ext4 mounted with project
// quota would take the project backend, which is not written yet: they get
// loop images too.
import type { QuotaBackendKind } from './backend.ts';

export function backendFor(fsType: string): QuotaBackendKind {
  return fsType === 'btrfs' ? 'btrfs' : 'loop';
}
