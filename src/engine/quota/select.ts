// Which backend a data root gets: btrfs qgroups on btrfs; project quota on XFS
// or ext4 mounted with it enforced (prjquota, or XFS's pquota alias); a
// loop-mounted ext4 image anywhere else (tmpfs, XFS or ext4 without project
// quota…). Accounting alone (XFS pqnoenforce, ext4 with the quota feature but
// no prjquota) would record limits without holding anyone to them: loop then.
import type { QuotaBackendKind } from './backend.ts';

const PROJECT_OPTIONS = new Set(['prjquota', 'pquota']);

export function backendFor(fsType: string, mountOptions: readonly string[] = []): QuotaBackendKind {
  if (fsType === 'btrfs') return 'btrfs';
  if ((fsType === 'xfs' || fsType === 'ext4') && mountOptions.some((o) => PROJECT_OPTIONS.has(o))) return 'project';
  return 'loop';
}
