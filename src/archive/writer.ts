// Turns tar tokens into files under a layer directory, in the overlay format.
//
// It runs in an archive worker thread (see worker.ts), so its filesystem
// calls are synchronous: an async call costs tens of microseconds of thread
// pool and event loop hand-offs, several times the system call itself, and
// a small file takes four of them. Only what needs a child process (FIFOs
// during the stream; whiteouts and xattrs at the end) is asynchronous.
//
// What has been created is tracked in memory (the directory starts empty and
// only we write to it), which replaces the lstat calls other unpackers make
// and tells a symlink parent apart without ever following it.
//
// The `plain` format is for a build context, a client's tar of ordinary
// files: the same writer without the overlay forms, with extractInto's rules
// for names and symlink targets, and the sha256 of every file kept, so that
// COPY need not read the files again to checksum them.
import { createHash, type Hash } from 'node:crypto';
import * as fs from 'node:fs';
import { JoeyError, dataLoss, invalid, wrap } from '../errdefs/index.ts';
import { checkSymlinkTarget, entryComponents } from './extract-tree.ts';
import { makeFifo, mknodWhiteouts } from '../sys/mknod.ts';
import { setOpaque, setXattrsBatch } from '../sys/xattr.ts';
import type { XattrItem } from '../sys/xattr.ts';
import { OPAQUE, classify, cleanPath, entryLabel, keptXattrs, q } from './names.ts';
import type { TarEntry, TarToken } from './tar-reader.ts';

const S_ISGID = 0o2000;
const SPECIAL_BITS = 0o7000;
/** O_EXCL: the path is known to be free, and an O_CREAT|O_EXCL open never follows a symlink. */
const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;
const CREATE_FLAGS = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW;

/** Where the writer's warnings go (the worker forwards them to the daemon's log). */
export type Warn = (msg: string, fields: Record<string, unknown>) => void;

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
  /** Explicit directory entries: atime to set (with ino.mtime) once the layer is complete. */
  atime?: number;
  opaque?: boolean;
  xattrs?: Record<string, Buffer>;
}

interface OpenFile {
  fd: number;
  entry: TarEntry;
  chown: boolean;
  chmod: boolean;
  path: string;
  hash: Hash | undefined;
}

export interface WriterOptions {
  /** A plain tree (a build context), not a layer: `.wh.` names are ordinary
   * files, a leading "/" is dropped, ".." may not climb out, relative
   * symlinks must stay inside, devices are refused, the root's own entry
   * is left out, and errors are `invalid`. */
  plain?: boolean;
}

/** Of a plain tree: a regular file's sha256 (hex) and size, by path. */
export type FileDigests = Map<string, { digest: string; size: number }>;

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
  private open: OpenFile | undefined;
  /** Plain trees only. */
  readonly digests: FileDigests = new Map();

  /** `dir` must be absolute. */
  constructor(
    private readonly dir: string,
    private readonly warn: Warn,
    private readonly opts: WriterOptions = {},
  ) {}

  init(): void {
    let names: string[];
    let st: fs.Stats;
    try {
      names = fs.readdirSync(this.dir);
      st = fs.statSync(this.dir);
    } catch (err) {
      throw invalid(`layer directory ${this.dir}: ${(err as Error).message}`, err);
    }
    if (names.length > 0) throw invalid(`layer directory ${this.dir} is not empty`);
    // With the umask known, chmod is needed only where it would strip a bit.
    let status = '';
    try {
      status = fs.readFileSync('/proc/self/status', 'latin1');
    } catch {
      // keep the worst case: every mode is set explicitly
    }
    const m = /^Umask:\s*([0-7]+)$/m.exec(status);
    if (m) this.umask = parseInt(m[1]!, 8);
    this.root = { kind: 'dir', ino: { uid: st.uid, gid: st.gid, mode: st.mode & 0o7777, mtime: NaN } };
    this.nodes.set('', this.root);
  }

  /** Applies one token. A promise comes back only for the rare entries that
   * need a child process (FIFOs); wait for it before the next token. */
  token(tok: TarToken): void | Promise<void> {
    try {
      switch (tok.kind) {
        case 'entry': {
          const label = (this.label = this.opts.plain ? `archive entry ${q(tok.entry.name)}` : entryLabel(tok.entry.name));
          const pending = this.opts.plain ? this.plainEntry(tok.entry, tok.data) : this.entry(tok.entry, tok.data);
          return pending?.catch((err: unknown) => {
            throw asJoey(err, label);
          });
        }
        case 'data':
          if (this.open) {
            writeAll(this.open.fd, tok.data);
            this.open.hash?.update(tok.data);
          }
          return;
        case 'entry-end':
          if (this.open) this.closeOpen();
          return;
        case 'end':
          return;
      }
    } catch (err) {
      throw asJoey(err, this.label);
    }
  }

  /** Once every entry is applied: whiteouts, xattrs, then directory times. */
  async finish(): Promise<void> {
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
    for (const p of whiteouts) {
      const { uid, gid } = this.nodes.get(p)!.ino;
      if (uid !== 0 || gid !== 0) fs.lchownSync(this.abs(p), uid, gid);
    }
    if (opaque.length > 0) await setOpaque(opaque);
    if (xattrs.length > 0) {
      try {
        await setXattrsBatch(xattrs);
      } catch (err) {
        // As Docker does: a filesystem without xattr support loses them with a warning.
        if (!/not supported/i.test((err as Error).message)) throw err;
        this.warn('layer xattrs not supported by the filesystem', { dir: this.dir, err: (err as Error).message });
      }
    }
    // Last, as every creation above changed its parent's mtime; deepest first.
    dirs.sort((a, b) => depth(b[0]) - depth(a[0]));
    for (const [p, n] of dirs) fs.lutimesSync(this.abs(p), n.atime!, n.ino.mtime);
  }

  /** After a failure: closes what is open. */
  abort(): void {
    const open = this.open;
    this.open = undefined;
    if (open) {
      try {
        fs.closeSync(open.fd);
      } catch {
        // nothing more to do for it
      }
    }
  }

  private entry(e: TarEntry, data: Buffer | undefined): void | Promise<void> {
    const t = classify(e.name);
    switch (t.kind) {
      case 'ignore':
        return;
      case 'opaque':
        // The marker's parent: created if missing, refused if it is a symlink.
        this.parentOf(t.dir === '' ? OPAQUE : `${t.dir}/${OPAQUE}`).opaque = true;
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

  /** An entry of a plain tree, by extractInto's rules (extract-tree.ts). */
  private plainEntry(e: TarEntry, data: Buffer | undefined): void | Promise<void> {
    const parts = entryComponents(e.name);
    if (parts.length === 0) return; // "." or "/": the destination itself is left as it is
    const p = parts.join('/');
    switch (e.type) {
      case 'directory':
        return this.directory(p, e);
      case 'file':
        return this.file(p, e, data);
      case 'symlink':
        checkSymlinkTarget(parts, e.linkname);
        return this.symlink(p, e);
      case 'link':
        return this.hardlink(p, e);
      case 'fifo':
        return this.fifo(p, e);
      case 'char':
      case 'block':
        throw invalid(`${this.label}: device nodes cannot be copied into a container`);
      case 'unsupported':
        return; // sockets, vendor extensions: skipped, as extractInto does
    }
  }

  private rootEntry(e: TarEntry): void {
    if (e.type !== 'directory') throw dataLoss(`${this.label}: the layer root can only be a directory`);
    this.updateDir('', this.root, e);
  }

  private directory(p: string, e: TarEntry): void {
    const parent = this.parentOf(p);
    const existing = this.nodes.get(p);
    if (existing?.kind === 'dir') return this.updateDir(p, existing, e);
    if (existing) this.remove(p, existing);
    const node = this.mkdir(p, parent, e.mode, e.uid, e.gid);
    node.atime = atimeOf(e);
    node.ino.mtime = clampTime(e.mtime);
    node.xattrs = this.xattrsOf(e);
  }

  /** A directory entry for a directory that exists: it keeps its content and takes the new metadata. */
  private updateDir(p: string, node: PathNode, e: TarEntry): void {
    const abs = this.abs(p);
    const chown = e.uid !== node.ino.uid || e.gid !== node.ino.gid;
    if (chown) fs.lchownSync(abs, e.uid, e.gid);
    if (e.mode !== node.ino.mode || (chown && e.mode & SPECIAL_BITS)) fs.chmodSync(abs, e.mode);
    node.ino = { uid: e.uid, gid: e.gid, mode: e.mode, mtime: clampTime(e.mtime) };
    node.atime = atimeOf(e);
    const x = this.xattrsOf(e);
    if (x) node.xattrs = { ...node.xattrs, ...x };
  }

  private file(p: string, e: TarEntry, data: Buffer | undefined): void {
    const parent = this.prepare(p);
    this.size += e.size;
    const ino = { uid: e.uid, gid: e.gid, mode: e.mode, mtime: clampTime(e.mtime) };
    this.nodes.set(p, { kind: 'file', ino, xattrs: this.xattrsOf(e) });
    const chown = this.needsChown(e, parent);
    // Set-id bits do not survive chown, and open() applies the umask.
    const chmod = (e.mode & SPECIAL_BITS) !== 0 || (e.mode & this.umask) !== 0;
    const fd = fs.openSync(this.abs(p), CREATE_FLAGS, e.mode & 0o777);
    const hash = this.opts.plain ? createHash('sha256') : undefined;
    if (data === undefined) {
      // A big file: its data tokens follow.
      this.open = { fd, entry: e, chown, chmod, path: p, hash };
      return;
    }
    try {
      writeAll(fd, data);
      finishFile(fd, e, chown, chmod);
    } finally {
      fs.closeSync(fd);
    }
    if (hash) this.digests.set(p, { digest: hash.update(data).digest('hex'), size: data.length });
  }

  private closeOpen(): void {
    const { fd, entry, chown, chmod, path, hash } = this.open!;
    this.open = undefined;
    try {
      finishFile(fd, entry, chown, chmod);
    } finally {
      fs.closeSync(fd);
    }
    if (hash) this.digests.set(path, { digest: hash.digest('hex'), size: entry.size });
  }

  private symlink(p: string, e: TarEntry): void {
    if (e.linkname === '') throw dataLoss(`${this.label}: symlink with an empty target`);
    if (e.linkname.includes('\0')) throw dataLoss(`${this.label}: symlink target contains a NUL byte`);
    const parent = this.prepare(p);
    const mtime = clampTime(e.mtime);
    this.nodes.set(p, { kind: 'symlink', ino: { uid: e.uid, gid: e.gid, mode: 0o777, mtime } });
    const abs = this.abs(p);
    fs.symlinkSync(e.linkname, abs); // the target is kept as is and never resolved
    if (this.needsChown(e, parent)) fs.lchownSync(abs, e.uid, e.gid);
    fs.lutimesSync(abs, atimeOf(e), mtime);
  }

  private hardlink(p: string, e: TarEntry): void {
    const what = `${this.label}: hardlink target ${q(e.linkname)}`;
    const target = this.opts.plain ? entryComponents(e.linkname).join('/') : cleanPath(e.linkname, what);
    const tnode = this.nodes.get(target);
    if (target === p) throw dataLoss(`${what} is the entry itself`);
    if (tnode === undefined || tnode.kind === 'whiteout') throw dataLoss(`${what} is not an earlier entry of this layer`);
    if (tnode.kind === 'dir') throw dataLoss(`${what} is a directory`);
    this.prepare(p);
    // Replacing `p` may have removed a directory holding the target.
    if (this.nodes.get(target) !== tnode) throw dataLoss(`${what} was removed by this entry`);
    const abs = this.abs(p);
    fs.linkSync(this.abs(target), abs); // link(2) does not follow a symlink target
    const ino = tnode.ino;
    this.nodes.set(p, { kind: tnode.kind, ino, xattrs: this.xattrsOf(e) });
    const digest = this.digests.get(target);
    if (digest) this.digests.set(p, digest);
    // The entry's metadata applies to the shared inode, as in Docker; skip what already matches.
    const chown = e.uid !== ino.uid || e.gid !== ino.gid;
    if (chown) fs.lchownSync(abs, e.uid, e.gid);
    if (tnode.kind !== 'symlink' && (e.mode !== ino.mode || (chown && ino.mode & SPECIAL_BITS))) {
      fs.chmodSync(abs, e.mode);
      ino.mode = e.mode;
    }
    const mtime = clampTime(e.mtime);
    if (mtime !== ino.mtime) fs.lutimesSync(abs, atimeOf(e), mtime);
    Object.assign(ino, { uid: e.uid, gid: e.gid, mtime });
  }

  private async fifo(p: string, e: TarEntry): Promise<void> {
    const parent = this.prepare(p);
    const abs = this.abs(p);
    this.nodes.set(p, { kind: 'fifo', ino: { uid: e.uid, gid: e.gid, mode: e.mode, mtime: clampTime(e.mtime) } });
    await makeFifo(abs);
    const chown = this.needsChown(e, parent);
    if (chown) fs.lchownSync(abs, e.uid, e.gid);
    if (e.mode !== (0o666 & ~this.umask) || (chown && e.mode & SPECIAL_BITS)) fs.chmodSync(abs, e.mode);
    fs.lutimesSync(abs, atimeOf(e), clampTime(e.mtime));
  }

  /** Records a whiteout for `p`; all are created together at the end. */
  private whiteout(p: string, e: TarEntry): void {
    this.prepare(p);
    this.nodes.set(p, { kind: 'whiteout', ino: { uid: e.uid, gid: e.gid, mode: 0, mtime: NaN } });
  }

  /** Makes `p` free: parents exist as directories and nothing is at `p`. Returns the parent. */
  private prepare(p: string): PathNode {
    const parent = this.parentOf(p);
    const existing = this.nodes.get(p);
    if (existing) this.remove(p, existing);
    return parent;
  }

  /** The parent directory of `p`, created like `mkdir -p` (0755, root) when missing. */
  private parentOf(p: string): PathNode {
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
      parent = this.mkdir(cur, parent, 0o755, 0, 0);
    }
    return parent;
  }

  private mkdir(p: string, parent: PathNode, mode: number, uid: number, gid: number): PathNode {
    const abs = this.abs(p);
    fs.mkdirSync(abs, mode & 0o1777);
    // A set-group-id parent hands its group and its S_ISGID bit down.
    const inherit = (parent.ino.mode & S_ISGID) !== 0;
    const diskGid = inherit ? parent.ino.gid : this.egid;
    const diskMode = (mode & 0o1777 & ~this.umask) | (inherit ? S_ISGID : 0);
    const chown = uid !== this.euid || gid !== diskGid;
    if (chown) fs.lchownSync(abs, uid, gid);
    if (diskMode !== mode || (chown && mode & SPECIAL_BITS)) fs.chmodSync(abs, mode);
    const node: PathNode = { kind: 'dir', ino: { uid, gid, mode, mtime: NaN } };
    this.nodes.set(p, node);
    return node;
  }

  /** Removes what an earlier entry put at `p`, so that a later one replaces it. */
  private remove(p: string, n: PathNode): void {
    this.nodes.delete(p);
    this.digests.delete(p);
    if (n.kind === 'whiteout') return; // not on disk yet
    if (n.kind === 'dir') {
      fs.rmSync(this.abs(p), { recursive: true, force: true }); // never follows symlinks
      const prefix = `${p}/`;
      for (const k of this.nodes.keys()) if (k.startsWith(prefix)) this.nodes.delete(k);
      return;
    }
    fs.unlinkSync(this.abs(p));
  }

  private xattrsOf(e: TarEntry): Record<string, Buffer> | undefined {
    // A build context keeps them too: the docker CLI sends file capabilities.
    return keptXattrs(e.xattrs);
  }

  private needsChown(e: TarEntry, parent: PathNode): boolean {
    const diskGid = parent.ino.mode & S_ISGID ? parent.ino.gid : this.egid;
    return e.uid !== this.euid || e.gid !== diskGid;
  }

  private abs(p: string): string {
    return p === '' ? this.dir : `${this.dir}/${p}`;
  }
}

function finishFile(fd: number, e: TarEntry, chown: boolean, chmod: boolean): void {
  if (chown) fs.fchownSync(fd, e.uid, e.gid);
  if (chmod) fs.fchmodSync(fd, e.mode); // after chown, which clears set-id bits
  fs.futimesSync(fd, atimeOf(e), clampTime(e.mtime));
}

function writeAll(fd: number, data: Buffer): void {
  let off = 0;
  while (off < data.length) off += fs.writeSync(fd, data, off, data.length - off);
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
