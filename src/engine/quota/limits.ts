// Disk-quota requests, PouchContainer's forms: Config.DiskQuota maps a path
// in the container to a limit.
//   "/"      the container's rootfs (its writable layer): `--disk-quota 10g`
//   "/data"  the volume mounted at /data: `--disk-quota /data=5g`
//   ".*"     the rootfs and each volume, each on its own: `--disk-quota .*=1g`
// A limit is a size (bytes, or with a k/m/g/t unit, powers of 1024), optionally
// followed by ":N", an inode count: "10g:100000".
import { invalid } from '../../errdefs/index.ts';

export interface QuotaLimit {
  bytes: number;
  inodes?: number;
}

export const ROOTFS_KEY = '/';
export const EACH_KEY = '.*';

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** "20m", "1.5g", "1048576", "10GiB", "10gb" → bytes. */
export function parseQuotaSize(s: string, what = 'disk quota'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([bkmgt]?)(?:i?b)?\s*$/i.exec(s);
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw invalid(`invalid ${what} size ${JSON.stringify(s)}: expected a size such as 512m or 10g`);
  const bytes = Math.floor(Number(m[1]) * unit);
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw invalid(`invalid ${what} size ${JSON.stringify(s)}: it must be greater than zero`);
  return bytes;
}

/** "10g" or "10g:100000". */
export function parseQuotaLimit(s: string, what = 'disk quota'): QuotaLimit {
  if (typeof s !== 'string') throw invalid(`invalid ${what}: expected a string such as "10g", got ${JSON.stringify(s)}`);
  const [size, inodes, extra] = s.split(':');
  if (extra !== undefined) throw invalid(`invalid ${what} ${JSON.stringify(s)}: expected SIZE or SIZE:INODES`);
  const limit: QuotaLimit = { bytes: parseQuotaSize(size!, what) };
  if (inodes !== undefined) {
    if (!/^[1-9]\d*$/.test(inodes) || !Number.isSafeInteger(Number(inodes))) throw invalid(`invalid ${what} inode count ${JSON.stringify(inodes)} in ${JSON.stringify(s)}: expected a positive integer`);
    limit.inodes = Number(inodes);
  }
  return limit;
}

/** The container's DiskQuota, checked: which limit goes where. */
export interface DiskQuotaPlan {
  rootfs?: QuotaLimit;
  /** Volume destination → its limit (an exact path, or ".*" for every one). */
  mounts: Map<string, QuotaLimit>;
  each?: QuotaLimit;
}

/** Checks Config.DiskQuota (a map, or a bare size string meaning the rootfs,
 * as PouchContainer's API took it). Undefined or empty: no quota. */
export function planDiskQuota(dq: Record<string, string> | string | undefined | null): DiskQuotaPlan | undefined {
  if (dq === undefined || dq === null || dq === '') return undefined;
  const map = typeof dq === 'string' ? { [ROOTFS_KEY]: dq } : dq;
  if (typeof map !== 'object' || Array.isArray(map)) throw invalid('invalid DiskQuota: expected an object of path to size');
  const plan: DiskQuotaPlan = { mounts: new Map() };
  for (const [rawKey, value] of Object.entries(map)) {
    const key = rawKey === EACH_KEY ? rawKey : normalizePath(rawKey);
    const limit = parseQuotaLimit(value, `disk quota for ${rawKey}`);
    if (key === EACH_KEY) plan.each = limit;
    else if (key === ROOTFS_KEY) plan.rootfs = limit;
    else plan.mounts.set(key, limit);
  }
  // An explicit path beats ".*", as a longer match would.
  if (plan.each && !plan.rootfs) plan.rootfs = plan.each;
  if (!plan.rootfs && plan.mounts.size === 0 && !plan.each) return undefined;
  return plan;
}

function normalizePath(p: string): string {
  if (!p.startsWith('/')) {
    throw invalid(`invalid disk quota path ${JSON.stringify(p)}: expected "/" (the rootfs), an absolute path where a volume is mounted, or ".*" (each of them); other patterns are not supported`);
  }
  if (p.split('/').includes('..')) throw invalid(`invalid disk quota path ${JSON.stringify(p)}: ".." is not allowed`);
  const clean = p.replace(/\/+/g, '/').replace(/\/\.(?=\/|$)/g, '');
  return clean.length > 1 ? clean.replace(/\/$/, '') : '/';
}

/** The limit for a volume at `destination`, if the plan has one. */
export function limitForMount(plan: DiskQuotaPlan, destination: string): QuotaLimit | undefined {
  return plan.mounts.get(destination) ?? plan.each;
}

/** PouchContainer's QuotaID: "" or "-1" (pick one) or a project id, which
 * only the project-quota backend could honour. */
export function checkQuotaId(id: string | undefined, projectQuota: boolean): void {
  if (id === undefined || id === '' || id === '-1') return;
  if (!/^[1-9]\d*$/.test(id) || Number(id) > 0xffffffff) throw invalid(`invalid QuotaID ${JSON.stringify(id)}: expected a project id (a positive integer) or -1`);
  if (!projectQuota) throw invalid(`QuotaID ${id} needs project quota (XFS or ext4 with prjquota), which this data root does not have`);
}

/** Back to the form the user wrote: 20971520 → "20m". */
export function formatSize(bytes: number): string {
  for (const [u, n] of [['t', 1024 ** 4], ['g', 1024 ** 3], ['m', 1024 ** 2], ['k', 1024]] as const) {
    if (bytes % n === 0) return `${bytes / n}${u}`;
  }
  return String(bytes);
}
