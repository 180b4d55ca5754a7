// Mounting and unmounting through the mount(8)/umount(8) binaries, and reading
// the mount table from /proc/self/mountinfo.
import { readFile, realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { internal, invalid, notFound } from '../errdefs/index.ts';
import { run } from './exec.ts';

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
  if (options.length > 0) args.push('-o', options.join(','));
  args.push(m.source, resolve(target));
  await run('mount', args, cwd === undefined ? {} : { cwd });
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
  return (await readMountInfo()).some((m) => m.target === p);
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
  const text = await readFile('/proc/self/mountinfo', 'utf8');
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
