// Extracting a tar (from a client: hostile) into a directory of a container,
// for docker cp and PUT /containers/{id}/archive. Paths are resolved in the
// container's tree through a ScopedRoot, as a chroot would: symlinks of the
// container are followed inside it, never out to the host, and nothing is
// changed through a path that the container could swap meanwhile (files are
// changed through descriptors opened with O_NOFOLLOW).
//
// Docker's rules (pkg/archive Unpack): names are cleaned and must stay under
// the destination, missing parents are made (0755), an existing entry is
// replaced unless both are directories, and with noOverwriteDirNonDir a
// directory and a non-directory never replace each other. Hard links must
// point inside the destination, and relative symlinks must too.
import { constants } from 'node:fs';
import { once } from 'node:events';
import * as fsp from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { JoeyError, invalid, wrap } from '../errdefs/index.ts';
import { makeFifo } from '../sys/mknod.ts';
import { setXattrsOnFds } from '../sys/xattr.ts';
import { decompressor, detectCompression, MAGIC_LENGTH, peekHead } from './decompress.ts';
import { ScopedRoot, type Resolved } from './scoped-root.ts';
import { TarReader, type TarEntry, type TarToken } from './tar-reader.ts';
import { keptXattrs } from './names.ts';

const { O_WRONLY, O_RDONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK, O_DIRECTORY } = constants;

export interface ExtractOptions {
  /** Refuse to replace a directory with a non-directory and the reverse. */
  noOverwriteDirNonDir?: boolean;
  /** Owner of everything extracted; otherwise each entry's own uid and gid. */
  chown?: { uid: number; gid: number };
  /** Permission bits of every file and directory extracted (a build's COPY --chmod). */
  chmod?: number;
  /** Creates a FIFO at a path (sys/mknod in the daemon; a fake in tests). */
  makeFifo?: (path: string) => Promise<void>;
}

const q = (s: string): string => JSON.stringify(s);

/** `name` from an archive as components under the destination; refuses a
 * name that climbs out of it. A leading "/" is dropped, as Docker does. */
export function entryComponents(name: string): string[] {
  if (name.includes('\0')) throw invalid(`archive entry ${q(name)}: name contains a NUL byte`);
  const out: string[] = [];
  for (const c of name.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') {
      if (out.length === 0) throw invalid(`archive entry ${q(name)} is outside of the destination`);
      out.pop();
    } else {
      out.push(c);
    }
  }
  return out;
}

/** A relative symlink target must stay under the destination (Docker's
 * breakout check), seen from the link's directory; an absolute one is
 * resolved in the container's root whenever it is used. */
export function checkSymlinkTarget(entry: string[], linkname: string): void {
  if (linkname.startsWith('/')) return;
  let depth = entry.length - 1;
  for (const c of linkname.split('/')) {
    if (c === '' || c === '.') continue;
    if (c !== '..') depth++;
    else if (--depth < 0) throw invalid(`archive entry ${q(entry.join('/'))}: symlink to ${q(linkname)} is outside of the destination`);
  }
}

/** The archive's bytes, decompressed when they are compressed. */
async function* plain(input: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const { head, all } = await peekHead(input, MAGIC_LENGTH);
  const compression = detectCompression(head);
  if (compression === 'none') {
    yield* all;
    return;
  }
  const d = decompressor(compression);
  const feeding = (async () => {
    for await (const c of all) if (!d.write(c)) await once(d, 'drain');
    d.end();
  })();
  feeding.catch((err: unknown) => d.destroy(err as Error));
  for await (const c of d) yield c as Buffer;
  await feeding;
}

/** Tokens of the archive from our own tar reader (binary-safe PAX values,
 * so a file capability survives), pulled as the extractor asks. */
class Tokens {
  private readonly reader = new TarReader();
  private readonly it: AsyncIterator<Buffer>;

  constructor(input: AsyncIterable<Buffer>) {
    this.it = plain(input)[Symbol.asyncIterator]();
  }

  async next(): Promise<TarToken | undefined> {
    for (;;) {
      const tok = this.reader.next();
      if (tok !== undefined) return tok;
      if (this.reader.ended) return undefined;
      const r = await this.it.next();
      if (r.done) {
        this.reader.finish();
        return undefined;
      }
      this.reader.push(r.value);
    }
  }

  /** The data of a large entry, up to its entry-end. */
  async *data(): AsyncGenerator<Buffer> {
    for (;;) {
      const tok = await this.next();
      if (tok === undefined || tok.kind === 'entry-end') return;
      if (tok.kind === 'data') yield tok.data;
    }
  }

  async close(): Promise<void> {
    await this.it.return?.();
  }
}

/**
 * Extracts `input` into the directory `destPath` of `root` (a tree path that
 * the caller resolved and found to be a directory). Throws invalid for a
 * hostile or unfitting archive; what was extracted before stays.
 */
export async function extractInto(root: ScopedRoot, destPath: string, input: AsyncIterable<Buffer> | Readable, opts: ExtractOptions = {}): Promise<void> {
  const tokens = new Tokens(input as AsyncIterable<Buffer>);
  const ex = new Extractor(root, destPath, opts);
  try {
    for (let tok = await tokens.next(); tok !== undefined && tok.kind !== 'end'; tok = await tokens.next()) {
      if (tok.kind !== 'entry') continue;
      if (tok.data !== undefined) {
        await ex.entry(tok.entry, [tok.data]);
        continue;
      }
      const data = tokens.data();
      await ex.entry(tok.entry, data);
      // What the extractor did not read (a skipped type) is read past here.
      for await (const _ of data) {
        // discarded
      }
    }
    await ex.finish();
  } catch (err) {
    if (err instanceof JoeyError && err.kind === 'data-loss') throw invalid(`invalid tar archive: ${err.message.replace(/\blayer\b/g, 'archive')}`, err);
    if (err instanceof JoeyError) throw err;
    throw wrap(err, 'extracting archive');
  } finally {
    await tokens.close();
  }
}

class Extractor {
  private readonly dirTimes: Array<[string, Date]> = [];
  private readonly root0: boolean = process.geteuid?.() === 0;
  /** File capabilities and user.* attributes, set once owners are (a chown
   * drops a file's capability) and the data is written. */
  private readonly xattrs: Array<{ path: string; attrs: Record<string, Buffer> }> = [];

  constructor(
    private readonly root: ScopedRoot,
    private readonly dest: string,
    private readonly opts: ExtractOptions,
  ) {}

  async entry(h: TarEntry, data: AsyncIterable<Buffer> | Iterable<Buffer>): Promise<void> {
    const type = h.type;
    const parts = entryComponents(h.name);
    if (parts.length === 0) return; // "." or "/": the destination itself is left as it is
    const path = posix.join(this.dest, ...parts);
    let r: Resolved;
    try {
      r = await this.root.resolve(path, { followLast: false, mkdirParents: true });
    } catch (err) {
      throw err instanceof JoeyError && err.kind === 'not-found' ? invalid(`archive entry ${q(h.name)}: ${err.message}`, err) : err;
    }
    try {
      await this.apply(h, type, parts, r, data);
    } catch (err) {
      if (err instanceof JoeyError) throw err;
      throw invalid(`archive entry ${q(h.name)}: ${(err as Error).message}`, err);
    } finally {
      await r.release();
    }
  }

  private async apply(h: TarEntry, type: TarEntry['type'], parts: string[], r: Resolved, data: AsyncIterable<Buffer> | Iterable<Buffer>): Promise<void> {
    const isDir = type === 'directory';
    const existing = r.stat;
    const at = ScopedRoot.at(r.dir, r.name);
    if (existing) {
      if (this.opts.noOverwriteDirNonDir && existing.isDirectory() && !isDir) {
        throw invalid(`cannot overwrite directory ${q(r.path)} with non-directory ${q(h.name)}`);
      }
      if (this.opts.noOverwriteDirNonDir && !existing.isDirectory() && isDir) {
        throw invalid(`cannot overwrite non-directory ${q(r.path)} with directory ${q(h.name)}`);
      }
      if (!(existing.isDirectory() && isDir)) await this.root.removeAll(r.dir, r.name);
    }
    const mode = this.opts.chmod ?? h.mode & 0o7777;
    const mtime = new Date(h.mtime * 1000);
    const owner = this.opts.chown ?? { uid: h.uid, gid: h.gid };
    const xattrs = keptXattrs(h.xattrs);
    if (xattrs && (type === 'file' || type === 'directory')) this.xattrs.push({ path: r.path, attrs: xattrs });
    switch (type) {
      case 'directory': {
        if (!existing?.isDirectory()) await fsp.mkdir(at, 0o700);
        const fh = await fsp.open(at, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
        try {
          await this.own(fh, owner, mode);
        } finally {
          await fh.close();
        }
        this.dirTimes.push([r.path, mtime]);
        return;
      }
      case 'file': {
        const fh = await fsp.open(at, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
        try {
          for await (const chunk of data) await fh.write(chunk);
          await this.own(fh, owner, mode);
          await fh.utimes(mtime, mtime);
        } finally {
          await fh.close();
        }
        return;
      }
      case 'symlink': {
        const target = h.linkname;
        checkSymlinkTarget(parts, target);
        await fsp.symlink(target, at);
        await this.lchown(at, owner);
        await fsp.lutimes(at, mtime, mtime);
        return;
      }
      case 'link': {
        const targetParts = entryComponents(h.linkname ?? '');
        if (targetParts.length === 0) throw invalid(`archive entry ${q(h.name)}: hard link to the destination itself`);
        const t = await this.root.resolve(posix.join(this.dest, ...targetParts), { followLast: false }).catch((err: unknown) => {
          if (err instanceof JoeyError && err.kind === 'not-found') throw invalid(`archive entry ${q(h.name)}: hard link target ${q(h.linkname ?? '')} does not exist`, err);
          throw err;
        });
        try {
          if (!t.stat) throw invalid(`archive entry ${q(h.name)}: hard link target ${q(h.linkname ?? '')} does not exist`);
          if (t.stat.isDirectory()) throw invalid(`archive entry ${q(h.name)}: hard link to a directory`);
          await fsp.link(ScopedRoot.at(t.dir, t.name), at);
        } finally {
          await t.release();
        }
        return;
      }
      case 'fifo': {
        await (this.opts.makeFifo ?? makeFifo)(ScopedRoot.atForChild(r.dir, r.name));
        const fh = await fsp.open(at, O_RDONLY | O_NONBLOCK | O_NOFOLLOW);
        try {
          if (!(await fh.stat()).isFIFO()) throw invalid(`archive entry ${q(h.name)} changed while being extracted`);
          await this.own(fh, owner, mode);
          await fh.utimes(mtime, mtime);
        } finally {
          await fh.close();
        }
        return;
      }
      case 'char':
      case 'block':
        throw invalid(`archive entry ${q(h.name)}: device nodes cannot be copied into a container`);
      default:
        // Other types (sockets, vendor extensions) are skipped.
        return;
    }
  }

  private async setXattrs(batch: Array<{ path: string; attrs: Record<string, Buffer> }>): Promise<void> {
    const opened: Array<{ fh: FileHandle; attrs: Record<string, Buffer> }> = [];
    try {
      for (const x of batch) {
        const r = await this.root.resolve(x.path, { followLast: false }).catch(() => undefined);
        if (!r) continue;
        try {
          // Only on what the archive made: a file or directory, not a symlink put there since.
          if (!r.stat?.isFile() && !r.stat?.isDirectory()) continue;
          const flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | (r.stat.isDirectory() ? O_DIRECTORY : 0);
          const fh = await fsp.open(ScopedRoot.at(r.dir, r.name), flags).catch(() => undefined);
          if (fh) opened.push({ fh, attrs: x.attrs });
        } finally {
          await r.release();
        }
      }
      if (opened.length > 0) {
        await setXattrsOnFds(opened.map(({ fh, attrs }) => ({ fd: fh.fd, attrs }))).catch((err: unknown) => {
          throw invalid(`cannot set the archive's extended attributes: ${(err as Error).message}`, err);
        });
      }
    } finally {
      for (const { fh } of opened) await fh.close();
    }
  }

  /** chown then chmod (chown clears the set-id bits). Not being root, only
   * what we may do. */
  private async own(fh: FileHandle, owner: { uid: number; gid: number }, mode: number): Promise<void> {
    try {
      await fh.chown(owner.uid, owner.gid);
    } catch (err) {
      if (this.root0 || (err as NodeJS.ErrnoException).code !== 'EPERM') throw err;
    }
    await fh.chmod(mode);
  }

  private async lchown(at: string, owner: { uid: number; gid: number }): Promise<void> {
    try {
      await fsp.lchown(at, owner.uid, owner.gid);
    } catch (err) {
      if (this.root0 || (err as NodeJS.ErrnoException).code !== 'EPERM') throw err;
    }
  }

  /** Attributes, then directory times last, once nothing more is written into them. */
  async finish(): Promise<void> {
    for (let i = 0; i < this.xattrs.length; i += 128) await this.setXattrs(this.xattrs.slice(i, i + 128));
    for (const [path, mtime] of this.dirTimes.reverse()) {
      const r = await this.root.resolve(path, { followLast: false }).catch(() => undefined);
      if (!r) continue;
      try {
        if (r.stat?.isDirectory()) {
          const fh = await fsp.open(ScopedRoot.at(r.dir, r.name), O_RDONLY | O_DIRECTORY | O_NOFOLLOW).catch(() => undefined);
          await fh?.utimes(mtime, mtime).finally(() => fh.close());
        }
      } finally {
        await r.release();
      }
    }
  }
}
