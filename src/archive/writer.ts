// Turns tar tokens into files under a layer directory, in the overlay format.
//
// What has been created is tracked in memory (the directory starts empty and
// only we write to it), which replaces the lstat calls other unpackers make
// and tells a symlink parent apart without ever following it. Small files and
// symlinks are written by background jobs, a bounded number at a time, so
// that several filesystem calls are in flight on the thread pool; any later
// entry that touches the same path first waits for its job.
import { constants as fsc } from 'node:fs';
import type { Stats } from 'node:fs';
import * as fsp from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { JoeyError, dataLoss, invalid, wrap } from '../errdefs/index.ts';
import { makeFifo, mknodWhiteouts } from '../sys/mknod.ts';
import { setOpaque, setXattrsBatch } from '../sys/xattr.ts';
import type { XattrItem } from '../sys/xattr.ts';
import { log } from '../util/log.ts';
import { OPAQUE, classify, cleanPath, entryLabel, q } from './names.ts';
import type { TarEntry, TarToken } from './tar-reader.ts';

const S_ISGID = 0o2000;
const SPECIAL_BITS = 0o7000;
/** O_EXCL: the path is known to be free, and an O_CREAT|O_EXCL open never follows a symlink. */
const CREATE_FLAGS = fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW;
// More jobs than the thread pool has threads keeps it busy (each async fs
// call otherwise costs a thread wake-up and an event-loop wake-up); many
// more only adds contention on the directory being filled.
const MAX_JOBS = 32;
const MAX_JOB_BYTES = 32 << 20;

/** Ownership, permissions and mtime of an inode, shared by its hardlinks. */
interface Inode {
  uid: number;
  gid: number;
  mode: number;
  mtime: number;
}

interface PathNode {
  kind: 'dir' | 'file' | 'symlink' | 'fifo' | 'whiteout';
  ino: Inode;
  /** Files and symlinks: their creation while it is in flight. */
  job?: Promise<void>;
  /** Explicit directory entries: atime to set (with ino.mtime) once the layer is complete. */
  atime?: number;
  opaque?: boolean;
  xattrs?: Record<string, Buffer>;
}

interface OpenFile {
  fh: FileHandle;
  entry: TarEntry;
  chown: boolean;
  chmod: boolean;
}

export class LayerWriter {
  /** Sum of the regular files' sizes. */
  size = 0;
  /** The entry being applied, for messages. */
  label = 'layer';
  private readonly nodes = new Map<string, PathNode>();
  private root!: PathNode;
  private umask = 0o777;
  private readonly euid = process.geteuid?.() ?? 0;
  private readonly egid = process.getegid?.() ?? 0;
  private readonly jobs = new Set<Promise<void>>();
  private jobBytes = 0;
  private readonly waiters: Array<() => void> = [];
  private failure: unknown;
  private open: OpenFile | undefined;

  /** `dir` must be absolute. */
  constructor(private readonly dir: string) {}

  async init(): Promise<void> {
    let names: string[];
    let st: Stats;
    let status: string;
    try {
      [names, st, status] = await Promise.all([
        fsp.readdir(this.dir),
        fsp.stat(this.dir),
        fsp.readFile('/proc/self/status', 'latin1').catch(() => ''),
      ]);
    } catch (err) {
      throw invalid(`layer directory ${this.dir}: ${(err as Error).message}`, err);
    }
    if (names.length > 0) throw invalid(`layer directory ${this.dir} is not empty`);
    // With the umask known, chmod is needed only where it would strip a bit.
    const m = /^Umask:\s*([0-7]+)$/m.exec(status);
    if (m) this.umask = parseInt(m[1]!, 8);
    this.root = { kind: 'dir', ino: { uid: st.uid, gid: st.gid, mode: st.mode & 0o7777, mtime: NaN } };
    this.nodes.set('', this.root);
  }

  /** Applies one token; the returned promise settles when it is safe to read on. */
  async token(tok: TarToken): Promise<void> {
    if (this.failure) throw this.failure;
    try {
      switch (tok.kind) {
        case 'entry':
          this.label = entryLabel(tok.entry.name);
          return await this.entry(tok.entry, tok.data);
        case 'data':
          if (this.open) await writeAll(this.open.fh, tok.data);
          return;
        case 'entry-end':
          if (this.open) await this.closeOpen();
          return;
        case 'end':
          return;
      }
    } catch (err) {
      throw asJoey(err, this.label);
    }
  }

  /** Waits for background work and throws the first failure. */
  async settle(): Promise<void> {
    while (this.jobs.size > 0) await Promise.all([...this.jobs]);
    if (this.failure) throw this.failure;
  }

  /** Once every entry is applied: whiteouts, xattrs, then directory times. */
  async finish(): Promise<void> {
    await this.settle();
    this.label = 'layer';
    try {
      await this.finishing();
    } catch (err) {
      throw asJoey(err, 'finishing layer');
    }
  }

  private async finishing(): Promise<void> {
    const whiteouts: string[] = [];
    const opaque: string[] = [];
    const xattrs: XattrItem[] = [];
    const dirs: Array<[string, PathNode]> = [];
    for (const [p, n] of this.nodes) {
      if (n.kind === 'whiteout') whiteouts.push(p);
      if (n.opaque) opaque.push(this.abs(p));
      if (n.xattrs) xattrs.push({ path: this.abs(p), attrs: n.xattrs });
      if (n.kind === 'dir' && n.atime !== undefined) dirs.push([p, n]);
    }
    await mknodWhiteouts(this.dir, whiteouts);
    // tar made them root-owned; Docker gives them the entry's owner.
    await pool(
      [...this.nodes].filter(([, n]) => n.kind === 'whiteout' && (n.ino.uid !== 0 || n.ino.gid !== 0)),
      ([p, n]) => fsp.lchown(this.abs(p), n.ino.uid, n.ino.gid),
    );
    if (opaque.length > 0) await setOpaque(opaque);
    if (xattrs.length > 0) {
      try {
        await setXattrsBatch(xattrs);
      } catch (err) {
        // As Docker does: a filesystem without xattr support loses them with a warning.
        if (!/not supported/i.test((err as Error).message)) throw err;
        log.warn('layer xattrs not supported by the filesystem', { dir: this.dir, err });
      }
    }
    // Last, as every creation above changed its parent's mtime; deepest first.
    dirs.sort((a, b) => depth(b[0]) - depth(a[0]));
    await pool(dirs, ([p, n]) => fsp.lutimes(this.abs(p), n.atime!, n.ino.mtime));
  }

  /** After a failure: closes what is open and lets background jobs end. */
  async abort(): Promise<void> {
    const open = this.open;
    this.open = undefined;
    await open?.fh.close().catch(() => {});
    while (this.jobs.size > 0) await Promise.all([...this.jobs]);
  }

  private async entry(e: TarEntry, data: Buffer | undefined): Promise<void> {
    const t = classify(e.name);
    switch (t.kind) {
      case 'ignore':
        return;
      case 'opaque':
        // The marker's parent: created if missing, refused if it is a symlink.
        (await this.parentOf(t.dir === '' ? OPAQUE : `${t.dir}/${OPAQUE}`)).opaque = true;
        return;
      case 'whiteout':
        return this.whiteout(t.path, e);
    }
    const p = t.path;
    if (p === '') return this.rootEntry(e);
    switch (e.type) {
      case 'directory':
        return this.directory(p, e);
      case 'file':
        return this.file(p, e, data);
      case 'symlink':
        return this.symlink(p, e);
      case 'link':
        return this.hardlink(p, e);
      case 'fifo':
        return this.fifo(p, e);
      case 'char':
        // A 0/0 character device is already an overlay whiteout.
        if (e.devmajor === 0 && e.devminor === 0) return this.whiteout(p, e);
        throw dataLoss(`device node ${q(e.name)} is not allowed in a layer`);
      case 'block':
        throw dataLoss(`device node ${q(e.name)} is not allowed in a layer`);
      case 'unsupported':
        throw dataLoss(`${this.label}: unsupported entry type ${q(e.typeflag)}`);
    }
  }

  private async rootEntry(e: TarEntry): Promise<void> {
    if (e.type !== 'directory') throw dataLoss(`${this.label}: the layer root can only be a directory`);
    await this.updateDir('', this.root, e);
  }

  private async directory(p: string, e: TarEntry): Promise<void> {
    const parent = await this.parentOf(p);
    const existing = this.nodes.get(p);
    if (existing?.kind === 'dir') return this.updateDir(p, existing, e);
    if (existing) await this.remove(p, existing);
    const node = await this.mkdir(p, parent, e.mode, e.uid, e.gid);
    node.atime = atimeOf(e);
    node.ino.mtime = clampTime(e.mtime);
    node.xattrs = keptXattrs(e);
  }

  /** A directory entry for a directory that exists: it keeps its content and takes the new metadata. */
  private async updateDir(p: string, node: PathNode, e: TarEntry): Promise<void> {
    const abs = this.abs(p);
    const chown = e.uid !== node.ino.uid || e.gid !== node.ino.gid;
    if (chown) await fsp.lchown(abs, e.uid, e.gid);
    if (e.mode !== node.ino.mode || (chown && e.mode & SPECIAL_BITS)) await fsp.chmod(abs, e.mode);
    node.ino = { uid: e.uid, gid: e.gid, mode: e.mode, mtime: clampTime(e.mtime) };
    node.atime = atimeOf(e);
    const x = keptXattrs(e);
    if (x) node.xattrs = { ...node.xattrs, ...x };
  }

  private async file(p: string, e: TarEntry, data: Buffer | undefined): Promise<void> {
    const parent = await this.prepare(p);
    this.size += e.size;
    const ino = { uid: e.uid, gid: e.gid, mode: e.mode, mtime: clampTime(e.mtime) };
    const node: PathNode = { kind: 'file', ino, xattrs: keptXattrs(e) };
    this.nodes.set(p, node);
    const abs = this.abs(p);
    const chown = this.needsChown(e, parent);
    // Set-id bits do not survive chown, and open() applies the umask.
    const chmod = (e.mode & SPECIAL_BITS) !== 0 || (e.mode & this.umask) !== 0;
    if (data !== undefined) {
      await this.slot(data.length);
      node.job = this.spawn(data.length, writeFile(abs, data, e, chown, chmod));
      return;
    }
    const fh = await fsp.open(abs, CREATE_FLAGS, e.mode & 0o777);
    this.open = { fh, entry: e, chown, chmod };
  }

  private async closeOpen(): Promise<void> {
    const { fh, entry, chown, chmod } = this.open!;
    this.open = undefined;
    try {
      await finishFile(fh, entry, chown, chmod);
    } finally {
      await fh.close();
    }
  }

  private async symlink(p: string, e: TarEntry): Promise<void> {
    if (e.linkname === '') throw dataLoss(`${this.label}: symlink with an empty target`);
    if (e.linkname.includes('\0')) throw dataLoss(`${this.label}: symlink target contains a NUL byte`);
    const parent = await this.prepare(p);
    const node: PathNode = { kind: 'symlink', ino: { uid: e.uid, gid: e.gid, mode: 0o777, mtime: clampTime(e.mtime) } };
    this.nodes.set(p, node);
    const abs = this.abs(p);
    const chown = this.needsChown(e, parent);
    await this.slot(0);
    node.job = this.spawn(
      0,
      (async () => {
        await fsp.symlink(e.linkname, abs); // the target is kept as is and never resolved
        if (chown) await fsp.lchown(abs, e.uid, e.gid);
        await fsp.lutimes(abs, atimeOf(e), node.ino.mtime);
      })(),
    );
  }

  private async hardlink(p: string, e: TarEntry): Promise<void> {
    const what = `${this.label}: hardlink target ${q(e.linkname)}`;
    const target = cleanPath(e.linkname, what);
    const tnode = this.nodes.get(target);
    if (target === p) throw dataLoss(`${what} is the entry itself`);
    if (tnode === undefined || tnode.kind === 'whiteout') throw dataLoss(`${what} is not an earlier entry of this layer`);
    if (tnode.kind === 'dir') throw dataLoss(`${what} is a directory`);
    await tnode.job;
    if (this.failure) throw this.failure;
    await this.prepare(p);
    // Replacing `p` may have removed a directory holding the target.
    if (this.nodes.get(target) !== tnode) throw dataLoss(`${what} was removed by this entry`);
    const abs = this.abs(p);
    await fsp.link(this.abs(target), abs); // link(2) does not follow a symlink target
    const ino = tnode.ino;
    this.nodes.set(p, { kind: tnode.kind, ino, xattrs: keptXattrs(e) });
    // The entry's metadata applies to the shared inode, as in Docker; skip what already matches.
    const chown = e.uid !== ino.uid || e.gid !== ino.gid;
    if (chown) await fsp.lchown(abs, e.uid, e.gid);
    if (tnode.kind !== 'symlink' && (e.mode !== ino.mode || (chown && ino.mode & SPECIAL_BITS))) {
      await fsp.chmod(abs, e.mode);
      ino.mode = e.mode;
    }
    const mtime = clampTime(e.mtime);
    if (mtime !== ino.mtime) await fsp.lutimes(abs, atimeOf(e), mtime);
    Object.assign(ino, { uid: e.uid, gid: e.gid, mtime });
  }

  private async fifo(p: string, e: TarEntry): Promise<void> {
    const parent = await this.prepare(p);
    const abs = this.abs(p);
    this.nodes.set(p, { kind: 'fifo', ino: { uid: e.uid, gid: e.gid, mode: e.mode, mtime: clampTime(e.mtime) } });
    await makeFifo(abs);
    const chown = this.needsChown(e, parent);
    if (chown) await fsp.lchown(abs, e.uid, e.gid);
    if (e.mode !== (0o666 & ~this.umask) || (chown && e.mode & SPECIAL_BITS)) await fsp.chmod(abs, e.mode);
    await fsp.lutimes(abs, atimeOf(e), clampTime(e.mtime));
  }

  /** Records a whiteout for `p`; all are created together at the end. */
  private async whiteout(p: string, e: TarEntry): Promise<void> {
    await this.prepare(p);
    this.nodes.set(p, { kind: 'whiteout', ino: { uid: e.uid, gid: e.gid, mode: 0, mtime: NaN } });
  }

  /** Makes `p` free: parents exist as directories and nothing is at `p`. Returns the parent. */
  private async prepare(p: string): Promise<PathNode> {
    const parent = await this.parentOf(p);
    const existing = this.nodes.get(p);
    if (existing) await this.remove(p, existing);
    return parent;
  }

  /** The parent directory of `p`, created like `mkdir -p` (0755, root) when missing. */
  private async parentOf(p: string): Promise<PathNode> {
    const slash = p.lastIndexOf('/');
    const dp = slash === -1 ? '' : p.slice(0, slash);
    const direct = this.nodes.get(dp);
    // A directory in the map has only directories above it (see remove()).
    if (direct?.kind === 'dir') return direct;
    let parent = this.root;
    let cur = '';
    for (const c of dp.split('/')) {
      cur = cur === '' ? c : `${cur}/${c}`;
      const n = this.nodes.get(cur);
      if (n?.kind === 'dir') {
        parent = n;
        continue;
      }
      if (n?.kind === 'symlink') throw dataLoss(`${this.label}: parent ${q(cur)} is a symlink`);
      if (n && n.kind !== 'whiteout') throw dataLoss(`${this.label}: parent ${q(cur)} is not a directory`);
      if (n) this.nodes.delete(cur); // a whiteout not yet made: the directory supersedes it
      parent = await this.mkdir(cur, parent, 0o755, 0, 0);
    }
    return parent;
  }

  private async mkdir(p: string, parent: PathNode, mode: number, uid: number, gid: number): Promise<PathNode> {
    const abs = this.abs(p);
    await fsp.mkdir(abs, mode & 0o1777);
    // A set-group-id parent hands its group and its S_ISGID bit down.
    const inherit = (parent.ino.mode & S_ISGID) !== 0;
    const diskGid = inherit ? parent.ino.gid : this.egid;
    const diskMode = (mode & 0o1777 & ~this.umask) | (inherit ? S_ISGID : 0);
    const chown = uid !== this.euid || gid !== diskGid;
    if (chown) await fsp.lchown(abs, uid, gid);
    if (diskMode !== mode || (chown && mode & SPECIAL_BITS)) await fsp.chmod(abs, mode);
    const node: PathNode = { kind: 'dir', ino: { uid, gid, mode, mtime: NaN } };
    this.nodes.set(p, node);
    return node;
  }

  /** Removes what an earlier entry put at `p`, so that a later one replaces it. */
  private async remove(p: string, n: PathNode): Promise<void> {
    this.nodes.delete(p);
    if (n.kind === 'whiteout') return; // not on disk yet
    if (n.kind === 'dir') {
      // Jobs may be writing below it; this is rare, so wait for all of them.
      await this.settle();
      await fsp.rm(this.abs(p), { recursive: true, force: true }); // never follows symlinks
      const prefix = `${p}/`;
      for (const k of this.nodes.keys()) if (k.startsWith(prefix)) this.nodes.delete(k);
      return;
    }
    await n.job;
    if (this.failure) throw this.failure;
    await fsp.unlink(this.abs(p));
  }

  private needsChown(e: TarEntry, parent: PathNode): boolean {
    const diskGid = parent.ino.mode & S_ISGID ? parent.ino.gid : this.egid;
    return e.uid !== this.euid || e.gid !== diskGid;
  }

  private abs(p: string): string {
    return p === '' ? this.dir : `${this.dir}/${p}`;
  }

  /** Waits until a job of `bytes` may start. */
  private async slot(bytes: number): Promise<void> {
    while (this.jobs.size >= MAX_JOBS || (this.jobs.size > 0 && this.jobBytes + bytes > MAX_JOB_BYTES)) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  private spawn(bytes: number, work: Promise<void>): Promise<void> {
    const label = this.label;
    this.jobBytes += bytes;
    const job: Promise<void> = work
      .catch((err: unknown) => {
        this.failure ??= asJoey(err, label);
      })
      .finally(() => {
        this.jobs.delete(job);
        this.jobBytes -= bytes;
        this.waiters.shift()?.();
      });
    this.jobs.add(job);
    return job;
  }
}

async function writeFile(abs: string, data: Buffer, e: TarEntry, chown: boolean, chmod: boolean): Promise<void> {
  const fh = await fsp.open(abs, CREATE_FLAGS, e.mode & 0o777);
  try {
    if (data.length > 0) await writeAll(fh, data);
    await finishFile(fh, e, chown, chmod);
  } finally {
    await fh.close();
  }
}

async function finishFile(fh: FileHandle, e: TarEntry, chown: boolean, chmod: boolean): Promise<void> {
  if (chown) await fh.chown(e.uid, e.gid);
  if (chmod) await fh.chmod(e.mode); // after chown, which clears set-id bits
  await fh.utimes(atimeOf(e), clampTime(e.mtime));
}

async function writeAll(fh: FileHandle, data: Buffer): Promise<void> {
  let off = 0;
  while (off < data.length) {
    const { bytesWritten } = await fh.write(data, off, data.length - off, null);
    off += bytesWritten;
  }
}

/** Only these xattrs come from a layer; trusted.* (overlay's own) and the rest are dropped. */
function keptXattrs(e: TarEntry): Record<string, Buffer> | undefined {
  if (!e.xattrs) return undefined;
  let out: Record<string, Buffer> | undefined;
  for (const [k, v] of e.xattrs) {
    if (k.startsWith('user.') || k === 'security.capability') (out ??= {})[k] = v;
  }
  return out;
}

/** Times outside what the kernel takes become the epoch, as in Docker. */
function clampTime(t: number): number {
  return Number.isFinite(t) && t >= 0 && t < 9223372036 ? t : 0;
}

function atimeOf(e: TarEntry): number {
  const m = clampTime(e.mtime);
  return e.atime !== undefined && clampTime(e.atime) > m ? clampTime(e.atime) : m;
}

function depth(p: string): number {
  if (p === '') return -1;
  let d = 0;
  for (let i = 0; i < p.length; i++) if (p.charCodeAt(i) === 47) d++;
  return d;
}

function asJoey(err: unknown, label: string): JoeyError {
  return err instanceof JoeyError ? err : wrap(err, label);
}

/** Runs `fn` over `items`, 16 at a time. */
async function pool<T>(items: T[], fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(16, items.length) }, lane));
}
