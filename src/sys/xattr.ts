// Extended attributes, which Node cannot read or set: in-process through
// the native addon (src/sys/native/joey-sys.c) when it was built, else
// through setfattr/getfattr (Debian package attr). Values travel to those as
// base64 arguments, never through a parsed text format, so hostile names and
// values cannot inject anything.
import { closeSync, constants, openSync } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { internal } from '../errdefs/index.ts';
import { run } from './exec.ts';
import { nativeSys } from './native.ts';

/** Whether attributes are read and set in-process (one system call each)
 * rather than by spawning getfattr/setfattr. */
export const inProcessXattrs = (): boolean => nativeSys() !== null;

const GONE = new Set(['ENOENT', 'ENOTDIR', 'ELOOP']);

/** In-process (see inProcessXattrs): the attributes of a descriptor, or of a
 * path whose last component is not followed, that `keep` accepts; undefined
 * when there are none or the entry is gone. */
export function readXattrsIn(target: number | string, keep: (name: string) => boolean): Record<string, Buffer> | undefined {
  const n = nativeSys();
  if (!n) throw internal('reading extended attributes in-process needs the native addon');
  let out: Record<string, Buffer> | undefined;
  try {
    for (const name of n.xattrList(target)) {
      if (!keep(name)) continue;
      const value = n.xattrGet(target, name);
      if (value) (out ??= {})[name] = value;
    }
  } catch (err) {
    if (GONE.has((err as NodeJS.ErrnoException).code ?? '')) return undefined;
    throw internal(`reading extended attributes: ${(err as Error).message}`);
  }
  return out;
}

/** In-process: sets each attribute, past a failure (so one refused attribute
 * does not drop the rest), then throws naming the failures. `unsupported`:
 * what a filesystem without xattrs does (lose them, or fail). */
function setXattrsIn(items: Array<{ target: number | string; attrs: Record<string, Buffer> }>, unsupported: 'skip' | 'fail'): void {
  const n = nativeSys()!;
  const failed: string[] = [];
  items: for (const { target, attrs } of items) {
    for (const [name, value] of Object.entries(attrs)) {
      try {
        n.xattrSet(target, name, value);
      } catch (err) {
        if (unsupported === 'skip' && (err as NodeJS.ErrnoException).code === 'ENOTSUP') continue items;
        failed.push(`${name}: ${(err as Error).message}`);
      }
    }
  }
  if (failed.length > 0) throw internal(`setting extended attributes: ${failed.slice(0, 5).join('; ')}${failed.length > 5 ? ` (and ${failed.length - 5} more)` : ''}`);
}

export interface XattrItem {
  /** Absolute path; symlinks are not followed. */
  path: string;
  attrs: Record<string, Buffer>;
}

// Keeps going past a failure so one refused attribute does not drop the
// rest; the exit status still reports it.
const SET_LOOP =
  'st=0; while [ $# -ge 3 ]; do setfattr -h -n "$1" -v "$2" -- "$3" || st=1; shift 3; done; exit $st';
/** The same, following the last component: for /proc/PID/fd/N paths, whose
 * magic link leads to the open file itself. */
const SET_LOOP_FOLLOW =
  'st=0; while [ $# -ge 3 ]; do setfattr -n "$1" -v "$2" -- "$3" || st=1; shift 3; done; exit $st';

function encode(value: Buffer): string {
  // setfattr reads "0s..." as base64; an empty value needs the quoted form.
  return value.length === 0 ? '""' : '0s' + value.toString('base64');
}

/** Sets attributes on many paths with one shell per ~256 KiB of arguments.
 * `followLast`: the paths are descriptors' /proc/PID/fd/N links. */
export async function setXattrsBatch(items: XattrItem[], opts: { followLast?: boolean } = {}): Promise<void> {
  if (!opts.followLast && inProcessXattrs()) return setXattrsIn(items.map((i) => ({ target: i.path, attrs: i.attrs })), 'fail');
  const triples: string[][] = [];
  for (const { path, attrs } of items) {
    for (const [name, value] of Object.entries(attrs)) triples.push([name, encode(value), path]);
  }
  for (const batch of groupArgs(triples)) {
    const r = await run('sh', ['-c', opts.followLast ? SET_LOOP_FOLLOW : SET_LOOP, 'sh', ...batch.flat()], { allowFailure: true });
    // Not run()'s message: it would carry every base64 value.
    if (r.code !== 0) throw internal(`setfattr: ${r.stderr.trim() || `exit ${r.code}`}`);
  }
}

/** Sets attributes on open descriptors (through their /proc/PID/fd links,
 * which lead to the open file itself, not to whatever a name points at now).
 * A filesystem without xattrs loses them, as with Docker. */
export async function setXattrsOnFds(items: Array<{ fd: number; attrs: Record<string, Buffer> }>): Promise<void> {
  if (inProcessXattrs()) return setXattrsIn(items.map((i) => ({ target: i.fd, attrs: i.attrs })), 'skip');
  await setXattrsBatch(items.map(({ fd, attrs }) => ({ path: `/proc/${process.pid}/fd/${fd}`, attrs })), { followLast: true }).catch((err: unknown) => {
    if (!/Operation not supported/.test((err as Error).message)) throw err;
  });
}

/** Marks each directory opaque for overlayfs (trusted.overlay.opaque=y). */
export async function setOpaque(dirs: string | string[]): Promise<void> {
  const list = typeof dirs === 'string' ? [dirs] : dirs;
  for (const batch of groupArgs(list.map((d) => [d]))) {
    const r = await run('setfattr', ['-h', '-n', 'trusted.overlay.opaque', '-v', 'y', '--', ...batch.flat()], {
      allowFailure: true,
    });
    if (r.code !== 0) throw internal(`setfattr trusted.overlay.opaque: ${r.stderr.trim() || `exit ${r.code}`}`);
  }
}

/** One attribute's value, or undefined when the path does not have it. */
export async function getXattr(path: string, name: string): Promise<Buffer | undefined> {
  const r = await run('getfattr', ['-h', '--absolute-names', '-e', 'hex', '-n', name, '--', path], {
    allowFailure: true,
  });
  if (r.code !== 0) {
    if (/No such attribute/i.test(r.stderr)) return undefined;
    throw internal(`getfattr ${name} ${path}: ${r.stderr.trim() || `exit ${r.code}`}`);
  }
  const line = r.stdout.split('\n').find((l) => l.startsWith(`${name}=`));
  if (line === undefined) return undefined;
  const hex = line.slice(name.length + 1);
  return hex === '' || hex === '0x' ? Buffer.alloc(0) : Buffer.from(hex.replace(/^0x/, ''), 'hex');
}

/** Groups argument tuples so that no command line passes ~256 KiB. */
function groupArgs(tuples: string[][]): string[][][] {
  const out: string[][][] = [];
  let cur: string[][] = [];
  let bytes = 0;
  for (const t of tuples) {
    const n = t.reduce((s, a) => s + Buffer.byteLength(a) + 1, 0);
    if (cur.length > 0 && bytes + n > 256 * 1024) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(t);
    bytes += n;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/** getfattr escapes special characters of names as \ooo (and "\" as "\\"). */
function unescapeName(s: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\' && /^[0-7]{3}$/.test(s.slice(i + 1, i + 4))) {
      bytes.push(parseInt(s.slice(i + 1, i + 4), 8));
      i += 3;
    } else if (s[i] === '\\' && s[i + 1] === '\\') {
      bytes.push(0x5c);
      i++;
    } else {
      bytes.push(...Buffer.from(s[i]!));
    }
  }
  return Buffer.from(bytes).toString();
}

/** Every attribute whose name matches `pattern` (getfattr's -m regular
 * expression) of every path under `root` (itself included; symlinks not
 * followed), by path relative to `root` ("" for root itself). One getfattr
 * walks the whole tree. A filesystem without xattrs has none. */
export async function listXattrs(root: string, pattern: string): Promise<Map<string, Record<string, Buffer>>> {
  const dir = root.length > 1 ? root.replace(/\/+$/, '') : root;
  if (inProcessXattrs()) return walkXattrsIn(dir, new RegExp(pattern));
  const r = await run('getfattr', ['-R', '-P', '-h', '-d', '--absolute-names', '-m', pattern, '-e', 'hex', '--', dir], { allowFailure: true });
  if (r.code !== 0) {
    // A filesystem without xattrs, or an entry gone during the walk (a
    // running container's tree), is not a failure: what was read stands.
    const errors = r.stderr.split('\n').filter((l) => l.trim() !== '' && !/Operation not supported|No such file or directory/.test(l));
    if (errors.length > 0) throw internal(`getfattr -R ${root}: ${errors.join('; ')}`);
  }
  return parseGetfattrAll(r.stdout, dir);
}

/** listXattrs in-process: each directory is opened without following a
 * symlink and its entries are reached through that descriptor, so a tree
 * that changes meanwhile (a running container's) cannot lead the walk out
 * of it. Yields to the event loop now and then: a daemon's walk. */
async function walkXattrsIn(root: string, re: RegExp): Promise<Map<string, Record<string, Buffer>>> {
  const out = new Map<string, Record<string, Buffer>>();
  const keep = (name: string): boolean => re.test(name);
  let seen = 0;
  const visit = async (path: string, rel: string, isDir: boolean): Promise<void> => {
    const attrs = readXattrsIn(path, keep);
    if (attrs) out.set(rel, attrs);
    if (++seen % 512 === 0) await new Promise((r) => setImmediate(r));
    if (!isDir) return;
    let fd: number;
    try {
      fd = openSync(path, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
    } catch (err) {
      if (GONE.has((err as NodeJS.ErrnoException).code ?? '')) return;
      throw internal(`reading extended attributes under ${root}: ${(err as Error).message}`);
    }
    try {
      const at = `/proc/${process.pid}/fd/${fd}`;
      for (const e of await readdir(at, { withFileTypes: true })) await visit(`${at}/${e.name}`, rel === '' ? e.name : `${rel}/${e.name}`, e.isDirectory());
    } finally {
      closeSync(fd);
    }
  };
  const st = await lstat(root).catch((err: NodeJS.ErrnoException) => {
    if (GONE.has(err.code ?? '')) return undefined;
    throw err;
  });
  if (st) await visit(root, '', st.isDirectory());
  return out;
}

export function parseGetfattrAll(out: string, root: string): Map<string, Record<string, Buffer>> {
  const found = new Map<string, Record<string, Buffer>>();
  const base = root.replace(/\/+$/, '');
  let attrs: Record<string, Buffer> | undefined;
  for (const line of out.split('\n')) {
    if (line.startsWith('# file: ')) {
      const file = unescapeName(line.slice('# file: '.length));
      const rel = file === base ? '' : file.startsWith(base + '/') ? file.slice(base.length + 1) : undefined;
      attrs = undefined;
      if (rel !== undefined) found.set(rel, (attrs = {}));
      continue;
    }
    const eq = line.indexOf('=');
    if (attrs === undefined || line.startsWith('#') || eq <= 0) continue;
    const hex = line.slice(eq + 1).replace(/^0x/, '');
    attrs[unescapeName(line.slice(0, eq))] = Buffer.from(hex, 'hex');
  }
  for (const [rel, a] of found) if (Object.keys(a).length === 0) found.delete(rel);
  return found;
}
