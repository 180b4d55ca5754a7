// HostConfig.Tmpfs ({"/run": "rw,size=64m"}) → tmpfs mounts with Docker's
// defaults (noexec, nosuid, nodev), where a later option overrides an earlier
// one of the same kind (so "exec" undoes the default "noexec").
import { posix } from 'node:path';
import { invalid } from '../../errdefs/index.ts';
import type { OciMount } from './types.ts';

// Each flag's group: flags of one group override each other.
const FLAG_GROUPS: Record<string, string> = {};
for (const [group, flags] of Object.entries({
  rw: ['rw', 'ro'], exec: ['exec', 'noexec'], suid: ['suid', 'nosuid'], dev: ['dev', 'nodev'],
  sync: ['sync', 'async'], dirsync: ['dirsync'], mand: ['mand', 'nomand'], atime: ['atime', 'noatime'],
  diratime: ['diratime', 'nodiratime'], relatime: ['relatime', 'norelatime'], strictatime: ['strictatime', 'nostrictatime'],
  propagation: ['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave', 'unbindable', 'runbindable'],
  inode: ['inode64', 'inode32'], noswap: ['noswap'], tmpcopyup: ['tmpcopyup', 'notmpcopyup'],
})) {
  for (const f of flags) FLAG_GROUPS[f] = group;
}

export const DEFAULT_TMPFS_OPTIONS = ['noexec', 'nosuid', 'nodev', 'rprivate'];

function checkData(key: string, value: string, where: string): void {
  const bad = (why: string): never => {
    throw invalid(`invalid tmpfs option ${key}=${value} for ${where}: ${why}`);
  };
  if (key === 'size' && !/^[0-9]+[kKmMgGtTpPeE%]?$/.test(value)) bad('expected a size like 64m, 1g or 50%');
  if (key === 'mode' && !/^[0-7]{1,4}$/.test(value)) bad('expected an octal mode like 1777');
  if ((key === 'uid' || key === 'gid' || key === 'nr_inodes' || key === 'nr_blocks') && !/^[0-9]+[kKmMgG]?$/.test(value)) bad('expected a number');
}

/** Merges option lists: for flags, the last of a group wins; for key=value, the last value of a key. */
export function mergeTmpfsOptions(options: string[], where: string): string[] {
  const merged = new Map<string, string>();
  for (const raw of options) {
    const opt = raw.trim();
    if (opt === '') continue;
    let key: string;
    const eq = opt.indexOf('=');
    if (eq >= 0) {
      key = opt.slice(0, eq);
      if (!/^[a-z0-9_]+$/.test(key)) throw invalid(`invalid tmpfs option ${JSON.stringify(opt)} for ${where}`);
      checkData(key, opt.slice(eq + 1), where);
      key = `data:${key}`;
    } else {
      const group = FLAG_GROUPS[opt];
      if (!group) throw invalid(`invalid tmpfs option ${JSON.stringify(opt)} for ${where}`);
      key = `flag:${group}`;
    }
    merged.delete(key); // re-inserted at the end: keeps the order the user gave
    merged.set(key, opt);
  }
  return [...merged.values()];
}

export function buildTmpfsMounts(tmpfs: Record<string, string> | null | undefined): OciMount[] {
  const out: OciMount[] = [];
  for (const [dest, data] of Object.entries(tmpfs ?? {})) {
    if (!dest.startsWith('/')) throw invalid(`invalid tmpfs mount point ${JSON.stringify(dest)}: must be an absolute path`);
    const destination = posix.normalize(dest).replace(/(.)\/$/, '$1');
    if (destination === '/') throw invalid(`invalid tmpfs mount point ${JSON.stringify(dest)}: cannot mount over /`);
    if (typeof data !== 'string') throw invalid(`invalid tmpfs options for ${dest}: expected a string like "rw,size=64m"`);
    const options = mergeTmpfsOptions([...DEFAULT_TMPFS_OPTIONS, ...data.split(',')], destination);
    out.push({ destination, type: 'tmpfs', source: 'tmpfs', options });
  }
  return out;
}
