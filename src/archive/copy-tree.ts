// A build's COPY, run in an archive worker with synchronous calls: a source
// tree (the context, or a stage's rootfs) copied into a container's
// writable view, doing what packTree (merged) piped into extractInto does,
// entry for entry, without a tar in between and without the ~20 awaited
// calls per file that cost more than the copy itself. Both trees are walked
// as ScopedRoot walks them (sync-scope.ts): the destination's symlinks are
// followed inside it, never out, and files are changed only through
// descriptors opened with O_NOFOLLOW. Extended attributes (file
// capabilities, user.*) go with the files, as through a layer: one getfattr
// reads the source's, one setfattr writes them through the copies'
// descriptors once everything else (chown clears capabilities) is done.
import * as fs from 'node:fs';
import type { Stats } from 'node:fs';
import { posix } from 'node:path';
import { JoeyError, invalid, wrap } from '../errdefs/index.ts';
import { makeFifo } from '../sys/mknod.ts';
import { inProcessXattrs, setXattrsOnFds } from '../sys/xattr.ts';
import { checkSymlinkTarget, entryComponents } from './extract-tree.ts';
import { keptXattrsAt, listKeptXattrs } from './names.ts';
import { SyncScope, at, type SyncDir, type SyncResolved } from './sync-scope.ts';

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK, O_DIRECTORY } = fs.constants;
const CHUNK = 256 * 1024;

export interface CopySpec {
  /** Host paths of the two trees' roots, as the daemon holds them open
   * ("/proc/self/fd/N/."). */
  srcRoot: string;
  destRoot: string;
  /** The source's tree path; its last component is followed when a symlink. */
  src: string;
  /** Where the source goes in the destination, as packTree's entryName:
   * "app/tree"; "" puts a directory's content into the root. */
  entryName: string;
  /** Owner of everything copied; otherwise the sources' own. */
  chown?: { uid: number; gid: number };
  /** Permission bits of everything copied; otherwise the sources' own. */
  chmod?: number;
}

/** What a tar header of packTree would carry. */
interface Entry {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  /** Whole seconds, as a tar header has them. */
  mtime: number;
  xattrs?: Record<string, Buffer> | undefined;
}

const q = (s: string): string => JSON.stringify(s);

function codeOf(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/** Copies `spec.src` into the destination; a hostile or unfitting source
 * fails with `invalid`, and what was copied before stays. */
export async function copyTree(spec: CopySpec): Promise<void> {
  const src = new SyncScope(spec.srcRoot);
  let dest: SyncScope | undefined;
  try {
    dest = new SyncScope(spec.destRoot);
    await new Copier(src, dest, spec).run();
  } catch (err) {
    if (err instanceof JoeyError) throw err;
    throw wrap(err, 'copying');
  } finally {
    src.close();
    dest?.close();
  }
}

class Copier {
  /** First entry name of each inode with several links. */
  private readonly links = new Map<string, string>();
  private readonly dirTimes: Array<[string, number]> = [];
  /** Kept xattrs of the source, by path below spec.src ("" for itself). */
  private srcXattrs = new Map<string, Record<string, Buffer>>();
  /** Destination tree paths and the xattrs to give them. */
  private readonly destXattrs: Array<[string, Record<string, Buffer>]> = [];
  private readonly root0 = process.geteuid?.() === 0;
  /** Each source entry's attributes read as it is copied (see inProcessXattrs), not from srcXattrs. */
  private readonly perEntry = inProcessXattrs();

  constructor(
    private readonly src: SyncScope,
    private readonly dest: SyncScope,
    private readonly spec: CopySpec,
  ) {}

  async run(): Promise<void> {
    const r = this.src.resolve(this.spec.src, { followLast: true });
    try {
      const st = this.src.lstat(r.dir, r.name);
      if (st) {
        if ((st.isDirectory() || st.isFile()) && !this.perEntry) this.srcXattrs = await listKeptXattrs(`/proc/${process.pid}/fd/${r.dir.fd}/${r.name}`);
        if (this.spec.entryName === '' && st.isDirectory()) await this.children(r.dir, r.name, '', '');
        else await this.entry(r.dir, r.name, st, this.spec.entryName, '');
      }
    } finally {
      r.release();
    }
    this.finish();
    await this.setXattrs();
  }

  // ---- the source side: packTree's walk ----

  /** `rel`: the path below spec.src, which names the source's xattrs. */
  private async children(dir: SyncDir, name: string, prefix: string, relPrefix: string): Promise<void> {
    let sub: SyncDir;
    try {
      sub = this.src.openDir(dir, name);
    } catch (err) {
      if (gone(err)) return;
      throw err;
    }
    try {
      for (const child of this.src.readdir(sub).sort()) {
        const st = this.src.lstat(sub, child);
        if (!st) continue;
        await this.entry(sub, child, st, prefix + child, relPrefix + child);
      }
    } finally {
      fs.closeSync(sub.fd);
    }
  }

  private async entry(dir: SyncDir, name: string, st: Stats, entryName: string, rel: string): Promise<void> {
    const e: Entry = { name: entryName, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: Math.floor(st.mtimeMs / 1000), xattrs: !this.perEntry ? this.srcXattrs.get(rel) : st.isFile() || st.isDirectory() ? keptXattrsAt(dir.fd, name) : undefined };
    if (st.isDirectory()) {
      await this.write({ ...e, name: entryName + '/' }, 'dir');
      await this.children(dir, name, entryName + '/', rel === '' ? '' : rel + '/');
      return;
    }
    if (st.nlink > 1) {
      const key = `${st.dev}:${st.ino}`;
      const first = this.links.get(key);
      if (first !== undefined) return this.write(e, 'link', { linkname: first });
      this.links.set(key, entryName);
    }
    if (st.isSymbolicLink()) {
      let target: string;
      try {
        target = fs.readlinkSync(at(dir.fd, name));
      } catch (err) {
        if (gone(err)) return;
        throw err;
      }
      return this.write(e, 'symlink', { linkname: target });
    }
    if (st.isFile()) {
      let fd: number;
      try {
        fd = fs.openSync(at(dir.fd, name), O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
      } catch (err) {
        if (['ELOOP', 'ENOENT', 'ENXIO', 'EACCES', 'EPERM', 'ENOTDIR'].includes(codeOf(err) ?? '')) return;
        throw err;
      }
      try {
        const fst = fs.fstatSync(fd);
        if (!fst.isFile()) return;
        return await this.write(e, 'file', { from: fd, size: fst.size });
      } finally {
        fs.closeSync(fd);
      }
    }
    if (st.isCharacterDevice() || st.isBlockDevice()) return this.write(e, 'device');
    if (st.isFIFO()) return this.write(e, 'fifo');
    // Sockets are left out, as Docker does.
  }

  // ---- the destination side: extractInto's rules ----

  private async write(e: Entry, type: 'dir' | 'file' | 'symlink' | 'link' | 'fifo' | 'device', extra: { linkname?: string; from?: number; size?: number } = {}): Promise<void> {
    const parts = entryComponents(e.name);
    if (parts.length === 0) return; // the destination itself is left as it is
    let r: SyncResolved;
    try {
      r = this.dest.resolve(posix.join('/', ...parts), { followLast: false, mkdirParents: true });
    } catch (err) {
      throw err instanceof JoeyError && err.kind === 'not-found' ? invalid(`archive entry ${q(e.name)}: ${err.message}`, err) : err;
    }
    try {
      await this.apply(e, type, parts, r, extra);
      if (e.xattrs && (type === 'file' || type === 'dir')) this.destXattrs.push([r.path, e.xattrs]);
    } catch (err) {
      if (err instanceof JoeyError) throw err;
      throw invalid(`archive entry ${q(e.name)}: ${(err as Error).message}`, err);
    } finally {
      r.release();
    }
  }

  private async apply(e: Entry, type: string, parts: string[], r: SyncResolved, extra: { linkname?: string; from?: number; size?: number }): Promise<void> {
    const isDir = type === 'dir';
    const existing = r.stat;
    const path = at(r.dir.fd, r.name);
    if (existing && !(existing.isDirectory() && isDir)) this.dest.removeAll(r.dir, r.name);
    const mode = this.spec.chmod ?? e.mode;
    const owner = this.spec.chown ?? { uid: e.uid, gid: e.gid };
    switch (type) {
      case 'dir': {
        if (!existing?.isDirectory()) fs.mkdirSync(path, 0o700);
        const fd = fs.openSync(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
        try {
          this.own(fd, owner, mode);
        } finally {
          fs.closeSync(fd);
        }
        this.dirTimes.push([r.path, e.mtime]);
        return;
      }
      case 'file': {
        const fd = fs.openSync(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
        try {
          copyBytes(extra.from!, fd, extra.size!);
          this.own(fd, owner, mode);
          fs.futimesSync(fd, e.mtime, e.mtime);
        } finally {
          fs.closeSync(fd);
        }
        return;
      }
      case 'symlink': {
        const target = extra.linkname ?? '';
        checkSymlinkTarget(parts, target);
        fs.symlinkSync(target, path);
        try {
          fs.lchownSync(path, owner.uid, owner.gid);
        } catch (err) {
          if (this.root0 || codeOf(err) !== 'EPERM') throw err;
        }
        fs.lutimesSync(path, e.mtime, e.mtime);
        return;
      }
      case 'link': {
        const linkname = extra.linkname ?? '';
        const targetParts = entryComponents(linkname);
        if (targetParts.length === 0) throw invalid(`archive entry ${q(e.name)}: hard link to the destination itself`);
        let t: SyncResolved;
        try {
          t = this.dest.resolve(posix.join('/', ...targetParts), { followLast: false });
        } catch (err) {
          if (err instanceof JoeyError && err.kind === 'not-found') throw invalid(`archive entry ${q(e.name)}: hard link target ${q(linkname)} does not exist`, err);
          throw err;
        }
        try {
          if (!t.stat) throw invalid(`archive entry ${q(e.name)}: hard link target ${q(linkname)} does not exist`);
          if (t.stat.isDirectory()) throw invalid(`archive entry ${q(e.name)}: hard link to a directory`);
          fs.linkSync(at(t.dir.fd, t.name), path);
        } finally {
          t.release();
        }
        return;
      }
      case 'fifo': {
        // mknod needs a child process, which has its own /proc/self.
        await makeFifo(`/proc/${process.pid}/fd/${r.dir.fd}/${r.name}`);
        const fd = fs.openSync(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW);
        try {
          if (!fs.fstatSync(fd).isFIFO()) throw invalid(`archive entry ${q(e.name)} changed while being extracted`);
          this.own(fd, owner, mode);
          fs.futimesSync(fd, e.mtime, e.mtime);
        } finally {
          fs.closeSync(fd);
        }
        return;
      }
      case 'device':
        throw invalid(`archive entry ${q(e.name)}: device nodes cannot be copied into a container`);
    }
  }

  /** chown then chmod (chown clears the set-id bits). */
  private own(fd: number, owner: { uid: number; gid: number }, mode: number): void {
    try {
      fs.fchownSync(fd, owner.uid, owner.gid);
    } catch (err) {
      if (this.root0 || codeOf(err) !== 'EPERM') throw err;
    }
    fs.fchmodSync(fd, mode);
  }

  /** The sources' xattrs onto the copies, through descriptors opened
   * without following a link, a batch at a time. */
  private async setXattrs(): Promise<void> {
    for (let i = 0; i < this.destXattrs.length; i += 256) {
      const fds: number[] = [];
      const items: Array<{ fd: number; attrs: Record<string, Buffer> }> = [];
      try {
        for (const [path, attrs] of this.destXattrs.slice(i, i + 256)) {
          let r: SyncResolved;
          try {
            r = this.dest.resolve(path, { followLast: false });
          } catch {
            continue;
          }
          try {
            if (!r.stat?.isFile() && !r.stat?.isDirectory()) continue;
            const fd = fs.openSync(at(r.dir.fd, r.name), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | (r.stat.isDirectory() ? O_DIRECTORY : 0));
            fds.push(fd);
            items.push({ fd, attrs });
          } finally {
            r.release();
          }
        }
        await setXattrsOnFds(items).catch((err: unknown) => {
          throw invalid(`copying extended attributes: ${(err as Error).message}`, err);
        });
      } finally {
        for (const fd of fds) fs.closeSync(fd);
      }
    }
  }

  /** Directory times last, once nothing more is written into them. */
  private finish(): void {
    for (const [path, mtime] of this.dirTimes.reverse()) {
      let r: SyncResolved;
      try {
        r = this.dest.resolve(path, { followLast: false });
      } catch {
        continue;
      }
      try {
        if (!r.stat?.isDirectory()) continue;
        let fd: number;
        try {
          fd = fs.openSync(at(r.dir.fd, r.name), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
        } catch {
          continue;
        }
        try {
          fs.futimesSync(fd, mtime, mtime);
        } finally {
          fs.closeSync(fd);
        }
      } finally {
        r.release();
      }
    }
  }
}

/** `size` bytes from `from` to `to`, as packTree's readExactly puts them in
 * the tar: a file that shrank meanwhile is padded with zeros, one that grew
 * is cut. */
function copyBytes(from: number, to: number, size: number): void {
  const buf = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(size, 1)));
  let pos = 0;
  while (pos < size) {
    const want = Math.min(buf.length, size - pos);
    const n = fs.readSync(from, buf, 0, want, pos);
    if (n === 0) {
      buf.fill(0);
      for (; pos < size; pos += Math.min(buf.length, size - pos)) writeAll(to, buf, Math.min(buf.length, size - pos));
      return;
    }
    writeAll(to, buf, n);
    pos += n;
  }
}

function writeAll(fd: number, buf: Buffer, n: number): void {
  for (let off = 0; off < n; ) off += fs.writeSync(fd, buf, off, n - off);
}

/** The kept xattrs (isKeptXattr) of `path` and everything below it, by
 * path below it; `path` reaches the source through a descriptor. */
function gone(err: unknown): boolean {
  const code = codeOf(err);
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP';
}
