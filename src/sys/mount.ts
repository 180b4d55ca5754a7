// Mounting and unmounting, by mount(2)/umount2(2) from joeyd where the native
// addon is built and the mount is a plain one (overlay, tmpfs, bind), through
// the mount(8)/umount(8) binaries otherwise; reading the mount table from
// /proc/self/mountinfo.
import { readFile, realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { internal, invalid, notFound } from '../errdefs/index.ts';
import { run } from './exec.ts';
import { MNT_DETACH, MS, nativeSys } from './native.ts';

/** Same shape as the snapshotter's Mount; declared here so sys/ imports nothing above it. */
export interface Mount {
  type: string; // "overlay", "bind", "tmpfs", …
  source: string;
  options: string[];
}

export interface MountPoint {
  target: string;
  fstype: string;
  source: string;
  /** Per-mount options ("rw,relatime"). */
  options: string;
  /** The filesystem's own ("rw,lowerdir=…,upperdir=…"). */
  superOptions: string;
  /** Propagation fields ("shared:1", "master:2"), space-separated. */
  optional?: string;
}

/** mount(2) copies at most one page of option data. */
const MAX_OPTION_BYTES = 4095;
const OVERLAY_PATH_OPTIONS = ['lowerdir', 'upperdir', 'workdir'];

export async function mount(m: Mount, target: string): Promise<void> {
  let options = [...m.options];
  for (const o of options) if (o.includes(',')) throw invalid(`mount option ${JSON.stringify(o)} contains a comma`);
  const args: string[] = [];
  if (m.type === 'bind') {
    if (!options.includes('bind') && !options.includes('rbind')) options.unshift('bind');
  } else {
    args.push('-t', m.type);
  }
  let cwd: string | undefined;
  if (m.type === 'overlay' && Buffer.byteLength(options.join(',')) > MAX_OPTION_BYTES) {
    // Long layer chains overflow the page: make the paths relative to their
    // common directory and mount from there (overlayfs resolves them against
    // the mounting process's cwd).
    ({ options, cwd } = shortenOverlayPaths(options));
  }
  if (cwd === undefined && mountNatively(m.type, m.source, resolve(target), options)) return;
  if (options.length > 0) args.push('-o', options.join(','));
  args.push(m.source, resolve(target));
  await run('mount', args, cwd === undefined ? {} : { cwd });
}

/** Option words that are mount(2) flags (set, or cleared by their "no"/"rw" twin). */
const FLAG_OPTIONS: Record<string, { set?: number; clear?: number }> = {
  ro: { set: MS.RDONLY },
  rw: { clear: MS.RDONLY },
  nosuid: { set: MS.NOSUID },
  suid: { clear: MS.NOSUID },
  nodev: { set: MS.NODEV },
  dev: { clear: MS.NODEV },
  noexec: { set: MS.NOEXEC },
  exec: { clear: MS.NOEXEC },
  sync: { set: MS.SYNCHRONOUS },
  async: { clear: MS.SYNCHRONOUS },
  dirsync: { set: MS.DIRSYNC },
  noatime: { set: MS.NOATIME },
  nodiratime: { set: MS.NODIRATIME },
  relatime: { set: MS.RELATIME },
  strictatime: { set: MS.STRICTATIME },
  bind: { set: MS.BIND },
  rbind: { set: MS.BIND | MS.REC },
};

/** The kinds mount(8) would only pass through to mount(2): split into flags and data. */
export function mountCall(type: string, options: string[]): { fstype: string | null; flags: number; data: string[]; remount?: number } | undefined {
  if (type !== 'overlay' && type !== 'tmpfs' && type !== 'bind') return undefined;
  let flags = 0;
  const data: string[] = [];
  for (const o of options) {
    const f = FLAG_OPTIONS[o];
    if (f) flags = (flags | (f.set ?? 0)) & ~(f.clear ?? 0);
    else if (o.includes('=') && type !== 'bind') data.push(o);
    else return undefined; // propagation, "defaults", helpers' options: mount(8) knows them
  }
  if (type !== 'bind') return { fstype: type, flags, data };
  // The kernel ignores all but MS_REC on a bind: the rest takes a remount, as mount(8) does.
  const rest = flags & ~(MS.BIND | MS.REC);
  return { fstype: null, flags: (flags & MS.REC) | MS.BIND, data: [], ...(rest ? { remount: rest | MS.REMOUNT | MS.BIND } : {}) };
}

/** mount(2) from joeyd itself; false when there is no addon or mount(8) must do it. */
function mountNatively(type: string, source: string, target: string, options: string[]): boolean {
  const sys = nativeSys();
  const call = sys ? mountCall(type, options) : undefined;
  if (!sys || !call) return false;
  try {
    sys.mount(source, target, call.fstype, call.flags, call.data.length > 0 ? call.data.join(',') : null);
    if (call.remount !== undefined) {
      try {
        sys.mount('none', target, null, call.remount, null);
      } catch (e) {
        sys.umount(target, MNT_DETACH);
        throw e;
      }
    }
  } catch (e) {
    throw internal(`mount -t ${type} ${source} ${target}: ${(e as Error).message.replace(/^mount \S+: /, '')}`, e);
  }
  return true;
}

function shortenOverlayPaths(options: string[]): { options: string[]; cwd: string } {
  const paths: string[] = [];
  for (const o of options) {
    const [k, v] = splitOption(o);
    if (OVERLAY_PATH_OPTIONS.includes(k) && v !== undefined) paths.push(...v.split(':'));
  }
  if (paths.length === 0 || !paths.every(isAbsolute)) return { options, cwd: process.cwd() };
  let common = dirname(paths[0]!);
  while (!paths.every((p) => p === common || p.startsWith(common === sep ? sep : common + sep))) common = dirname(common);
  const rel = (p: string) => relative(common, p) || '.';
  const out = options.map((o) => {
    const [k, v] = splitOption(o);
    if (!OVERLAY_PATH_OPTIONS.includes(k) || v === undefined) return o;
    return `${k}=${v.split(':').map(rel).join(':')}`;
  });
  return { options: out, cwd: common };
}

function splitOption(o: string): [string, string | undefined] {
  const i = o.indexOf('=');
  return i < 0 ? [o, undefined] : [o.slice(0, i), o.slice(i + 1)];
}

/** Throws `not-found` when nothing is mounted at `target`. A lazy unmount
 * detaches now and lets busy users finish. */
export async function unmount(target: string, opts: { lazy?: boolean } = {}): Promise<void> {
  const sys = nativeSys();
  if (sys) {
    try {
      sys.umount(resolve(target), opts.lazy ? MNT_DETACH : 0);
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EINVAL' || code === 'ENOENT') throw notFound(`nothing is mounted at ${target}`);
      throw internal(`umount ${opts.lazy ? '-l ' : ''}${resolve(target)}: ${(e as Error).message.replace(/^umount \S+: /, '')}`, e);
    }
  }
  const args = opts.lazy ? ['-l', resolve(target)] : [resolve(target)];
  const r = await run('umount', args, { allowFailure: true });
  if (r.code === 0) return;
  if (/not mounted|no mount point specified|not found/i.test(r.stderr)) throw notFound(`nothing is mounted at ${target}`);
  throw internal(`umount ${args.join(' ')}: ${r.stderr.trim() || `exit ${r.code}`}`);
}

/** True when `path` is the root of a filesystem other than its parent's (an
 * overlay or tmpfs mounted there). Two stat calls instead of a mountinfo
 * scan, whose cost grows with every running container; it cannot see a bind
 * mount within one filesystem: use isMountPoint for those. */
export async function isFilesystemRoot(path: string): Promise<boolean> {
  const p = resolve(path);
  try {
    const [self, parent] = await Promise.all([stat(p), stat(dirname(p))]);
    return self.dev !== parent.dev || self.ino === parent.ino;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

export async function isMountPoint(path: string): Promise<boolean> {
  const p = await canonical(path);
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  // Most calls ask about a path that is not there at all: no parse then.
  if (!text.includes(` ${escapeMountPath(p)} `)) return false;
  return parseMountInfo(text).some((m) => m.target === p);
}

/** The inverse of unescape: how mountinfo writes a path. */
function escapeMountPath(p: string): string {
  return p.replace(/[ \t\n\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
}

/** Mounts at or below `prefix`, the deepest and the latest first: the order in
 * which to unmount them. */
export async function mountsUnder(prefix: string): Promise<MountPoint[]> {
  const p = await canonical(prefix);
  const under = (await readMountInfo()).filter((m) => m.target === p || m.target.startsWith(p === sep ? sep : p + sep)).reverse();
  const depth = (t: string) => t.split(sep).length;
  return under.sort((a, b) => depth(b.target) - depth(a.target));
}

async function canonical(path: string): Promise<string> {
  return realpath(path).catch(() => resolve(path));
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export async function readMountInfo(): Promise<MountPoint[]> {
  return parseMountInfo(await readFile('/proc/self/mountinfo', 'utf8'));
}

function parseMountInfo(text: string): MountPoint[] {
  const out: MountPoint[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    // id parent major:minor root target options [optional…] - fstype source superoptions
    const fields = line.split(' ');
    const dash = fields.indexOf('-', 6);
    if (dash < 0 || fields.length < dash + 3) continue;
    out.push({
      target: unescape(fields[4]!),
      options: fields[5]!,
      fstype: fields[dash + 1]!,
      source: unescape(fields[dash + 2]!),
      superOptions: fields[dash + 3] ?? '',
      optional: fields.slice(6, dash).join(' '),
    });
  }
  return out;
}

/** The propagation of the mount that holds `path` (the deepest mount whose
 * target is a prefix of its real path), as Docker checks a bind source
 * before a shared or slave bind. */
export async function propagationOf(path: string): Promise<{ mountpoint: string; shared: boolean; slave: boolean }> {
  const p = await canonical(path);
  let best: MountPoint | undefined;
  for (const m of await readMountInfo()) {
    const inside = p === m.target || p.startsWith(m.target === sep ? sep : m.target + sep);
    if (inside && (!best || m.target.length >= best.target.length)) best = m;
  }
  const opt = best?.optional ?? '';
  return { mountpoint: best?.target ?? '/', shared: /(^| )shared:/.test(opt), slave: /(^| )master:/.test(opt) };
}
