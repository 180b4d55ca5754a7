// A directory tree of a container as a tar stream, read through a ScopedRoot
// (nothing is followed out of the tree) and streamed: files are read in
// chunks as the consumer pulls, never held whole.
//
// Two formats: `merged` writes what it finds (docker export, docker cp);
// `layer` reads an overlay upper dir and writes an OCI layer, turning
// whiteouts (0/0 character devices) into `.wh.NAME` files and opaque
// directories into a `.wh..wh..opq` marker (docker commit).
import type { Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { inProcessXattrs } from '../sys/xattr.ts';
import { OPAQUE, WHITEOUT_PREFIX, keptXattrsAt, listKeptXattrs } from './names.ts';
import { ScopedRoot, joinTree } from './scoped-root.ts';
import type { DirRef } from './scoped-root.ts';
import { encodeHeader, endOfArchive, padding, type TarHeader } from './tar-header.ts';

export interface PackOptions {
  format: 'merged' | 'layer';
  /** Tree paths ("/etc") of opaque directories (layer format). */
  opaque?: ReadonlySet<string>;
  /** Tree paths to leave out, with everything below them. */
  exclude?: (path: string) => boolean;
  /** Extended attributes to write, by tree path ("/" for the root). Without
   * them, the packer reads the kept ones (names.ts) of each file and
   * directory as it goes, or, without the native addon, in one getfattr walk
   * of the tree first. */
  xattrs?: ReadonlyMap<string, Record<string, Buffer>>;
}

const CHUNK = 256 * 1024;

/** Major and minor numbers of a Linux dev_t. */
export function splitDev(rdev: number): { major: number; minor: number } {
  const d = BigInt(rdev);
  const major = Number(((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn));
  const minor = Number((d & 0xffn) | ((d >> 12n) & ~0xffn));
  return { major, minor };
}

export function isWhiteout(st: Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

/**
 * Tars `name` of `dir` (a directory and everything below it, or one entry),
 * naming it `entryName` in the archive. An empty `entryName` leaves the
 * directory itself out and names its content from the top ("bin/sh"), as
 * docker export does.
 */
export function packTree(root: ScopedRoot, dir: DirRef, name: string, entryName: string, opts: PackOptions): Readable {
  return Readable.from(new TreePacker(root, opts).run(dir, name, entryName), { objectMode: false, highWaterMark: 1 << 20 });
}

class TreePacker {
  /** First archive name of each inode with several links. */
  private readonly links = new Map<string, string>();
  private xattrs: ReadonlyMap<string, Record<string, Buffer>>;
  /** Each entry's attributes read as it is packed, not from `xattrs`. */
  private readonly perEntry: boolean;

  constructor(
    private readonly root: ScopedRoot,
    private readonly opts: PackOptions,
  ) {
    this.xattrs = opts.xattrs ?? new Map();
    this.perEntry = !opts.xattrs && inProcessXattrs();
  }

  async *run(dir: DirRef, name: string, entryName: string): AsyncGenerator<Buffer> {
    const st = await this.root.lstat(dir, name);
    if (st) {
      const treePath = joinTree(dir.path, name);
      if (!this.opts.xattrs && !this.perEntry) this.xattrs = await this.readXattrs(dir, name, treePath);
      if (entryName === '' && st.isDirectory()) yield* this.children(dir, name, treePath, '');
      else yield* this.entry(dir, name, st, treePath, entryName);
    }
    yield endOfArchive();
  }

  /** The kept attributes under `name`, by tree path. getfattr walks the
   * tree through this process's open directory, so it sees what the packer
   * sees and follows no symlink. */
  private async readXattrs(dir: DirRef, name: string, treePath: string): Promise<Map<string, Record<string, Buffer>>> {
    const out = new Map<string, Record<string, Buffer>>();
    for (const [rel, kept] of await listKeptXattrs(ScopedRoot.atForChild(dir, name))) out.set(rel === '' ? treePath : joinTree(treePath, rel), kept);
    return out;
  }

  private async *children(dir: DirRef, name: string, treePath: string, prefix: string): AsyncGenerator<Buffer> {
    let sub: DirRef;
    try {
      sub = await this.root.openDir(dir, name);
    } catch (err) {
      if (gone(err)) return;
      throw err;
    }
    try {
      const names = (await this.root.readdir(sub)).sort();
      for (const child of names) {
        const childPath = joinTree(treePath, child);
        if (this.opts.exclude?.(childPath)) continue;
        const st = await this.root.lstat(sub, child);
        if (!st) continue; // removed while we walked
        yield* this.entry(sub, child, st, childPath, prefix + child);
      }
    } finally {
      await sub.fh.close();
    }
  }

  private async *entry(dir: DirRef, name: string, st: Stats, treePath: string, entryName: string): AsyncGenerator<Buffer> {
    const xattrs = !this.perEntry ? this.xattrs.get(treePath) : st.isFile() || st.isDirectory() ? keptXattrsAt(dir.fh.fd, name) : undefined;
    const base: Omit<TarHeader, 'name' | 'type'> = {
      mode: st.mode & 0o7777,
      uid: st.uid,
      gid: st.gid,
      size: 0,
      mtime: Math.floor(st.mtimeMs / 1000),
      ...(xattrs ? { xattrs } : {}),
    };
    const layer = this.opts.format === 'layer';
    if (st.isDirectory()) {
      yield encodeHeader({ ...base, name: entryName + '/', type: 'dir' });
      if (layer && this.opts.opaque?.has(treePath)) {
        yield encodeHeader({ ...base, mode: 0, name: `${entryName}/${OPAQUE}`, type: 'file', xattrs: undefined });
      }
      yield* this.children(dir, name, treePath, entryName + '/');
      return;
    }
    if (layer && isWhiteout(st)) {
      const slash = entryName.lastIndexOf('/');
      const wh = `${entryName.slice(0, slash + 1)}${WHITEOUT_PREFIX}${entryName.slice(slash + 1)}`;
      yield encodeHeader({ ...base, mode: 0, name: wh, type: 'file', xattrs: undefined });
      return;
    }
    if (st.nlink > 1) {
      const key = `${st.dev}:${st.ino}`;
      const first = this.links.get(key);
      if (first !== undefined) {
        yield encodeHeader({ ...base, name: entryName, type: 'link', linkname: first, xattrs: undefined });
        return;
      }
      this.links.set(key, entryName);
    }
    if (st.isSymbolicLink()) {
      let target: string;
      try {
        target = await this.root.readlink(dir, name);
      } catch (err) {
        if (gone(err)) return;
        throw err;
      }
      yield encodeHeader({ ...base, name: entryName, type: 'symlink', linkname: target });
    } else if (st.isFile()) {
      const opened = await this.root.openFile(dir, name);
      if (!opened) return; // replaced by something else meanwhile
      try {
        const size = opened.stat.size;
        yield encodeHeader({ ...base, name: entryName, type: 'file', size });
        yield* readExactly(opened.fh, size);
        yield padding(size);
      } finally {
        await opened.fh.close();
      }
    } else if (st.isCharacterDevice() || st.isBlockDevice()) {
      const { major, minor } = splitDev(st.rdev);
      yield encodeHeader({ ...base, name: entryName, type: st.isCharacterDevice() ? 'char' : 'block', devmajor: major, devminor: minor });
    } else if (st.isFIFO()) {
      yield encodeHeader({ ...base, name: entryName, type: 'fifo' });
    }
    // Sockets are left out, as Docker does.
  }
}

/** `size` bytes of the file: the header promised that many, so a file that
 * shrank meanwhile is padded with zeros and one that grew is cut. */
async function* readExactly(fh: FileHandle, size: number): AsyncGenerator<Buffer> {
  let pos = 0;
  while (pos < size) {
    const buf = Buffer.allocUnsafe(Math.min(CHUNK, size - pos));
    const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
    if (bytesRead === 0) {
      for (; pos < size; pos += CHUNK) yield Buffer.alloc(Math.min(CHUNK, size - pos));
      break;
    }
    pos += bytesRead;
    yield bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
  }
}

function gone(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP';
}
