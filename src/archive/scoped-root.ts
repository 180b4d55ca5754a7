// A directory tree that belongs to a container (its rootfs, an upper dir),
// walked from the host as if it were "/": ".." stops at the root, absolute
// symlink targets restart at the root, and nothing is ever followed out of it.
//
// Node has no openat(2), so every step goes through a directory we hold open:
// "/proc/self/fd/<dirfd>/<name>" looks <name> up in that directory without
// walking any path again, and O_NOFOLLOW keeps the last step from following a
// symlink. A container that swaps a directory for a symlink while we walk
// cannot send us anywhere else. The root itself may be a mount that was
// lazily detached after it was opened (engine/containers/fs-view.ts).
import { constants } from 'node:fs';
import type { BigIntStats, Stats } from 'node:fs';
import * as fsp from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { JoeyError, internal, invalid, notFound } from '../errdefs/index.ts';

const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK } = constants;
const DIR_FLAGS = O_RDONLY | O_DIRECTORY | O_NOFOLLOW;
const MAX_LINKS = 255;

/** A directory of the tree, held open. `path` is where it is in the tree ("/", "/etc"). */
export interface DirRef {
  readonly fh: FileHandle;
  readonly path: string;
}

/** The result of a resolution: `name` inside `dir`, not followed when a symlink.
 * `name` is "." when the path named the directory itself (the root). */
export interface Resolved {
  readonly dir: DirRef;
  readonly name: string;
  /** The path in the tree: `dir.path` joined with `name`. */
  readonly path: string;
  /** lstat of the target, or undefined when it does not exist. */
  readonly stat: Stats | undefined;
  /** Closes `dir` (unless it is the root, which the ScopedRoot owns). */
  release(): Promise<void>;
}

export interface ResolveOptions {
  /** Follow the last component when it is a symlink (in the tree). */
  followLast?: boolean;
  /** Create missing directories on the way (mode 0755, owned by the caller). */
  mkdirParents?: boolean;
}

export function codeOf(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/** A component replaced by a symlink or a non-directory between its lstat and its open. */
export function raceError(err: unknown, where: string): unknown {
  return codeOf(err) === 'ELOOP' || codeOf(err) === 'ENOTDIR' ? invalid(`${where} changed while being resolved`) : err;
}

/** What a failed resolution of `path` throws: joey's own errors as they are,
 * a permission error as bad input, anything else as internal. */
export function resolveFailure(err: unknown, path: string): JoeyError {
  if (err instanceof JoeyError) return err;
  if (codeOf(err) === 'EACCES' || codeOf(err) === 'EPERM') return invalid(`resolving ${JSON.stringify(path)}: ${(err as Error).message}`, err);
  return internal(`resolving ${JSON.stringify(path)}: ${(err as Error).message}`, err);
}

export function joinTree(dir: string, name: string): string {
  if (name === '.' || name === '') return dir;
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

/** Components of a path in the tree, without "" and ".". */
export function components(path: string): string[] {
  if (path.includes('\0')) throw invalid(`path ${JSON.stringify(path)} contains a NUL byte`);
  return path.split('/').filter((c) => c !== '' && c !== '.');
}

export class ScopedRoot {
  private closed = false;

  private constructor(
    readonly root: DirRef,
    private readonly onClose?: () => Promise<void>,
  ) {}

  /** Opens the directory at the host path `hostPath` (the engine's own path,
   * trusted). `onClose` runs after the root is closed (e.g. to unmount it). */
  static async open(hostPath: string, onClose?: () => Promise<void>): Promise<ScopedRoot> {
    const fh = await fsp.open(hostPath, O_RDONLY | O_DIRECTORY);
    return new ScopedRoot({ fh, path: '/' }, onClose);
  }

  /** "/proc/self/fd/N/name": `name` looked up in the open directory `dir`. */
  static at(dir: DirRef | FileHandle, name: string): string {
    const fd = 'fh' in dir ? dir.fh.fd : dir.fd;
    // "N/." and not "N": lstat would see the magic link itself.
    return `/proc/self/fd/${fd}/${name}`;
  }

  /** The same, for a child process (which has its own /proc/self). */
  static atForChild(dir: DirRef, name: string): string {
    return `/proc/${process.pid}/fd/${dir.fh.fd}/${name}`;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.root.fh.close();
    } finally {
      await this.onClose?.();
    }
  }

  /** Opens the directory `name` of `dir`, refusing a symlink. */
  async openDir(dir: DirRef, name: string): Promise<DirRef> {
    if (name === '.') return { fh: await fsp.open(ScopedRoot.at(dir, '.'), DIR_FLAGS), path: dir.path };
    return { fh: await fsp.open(ScopedRoot.at(dir, name), DIR_FLAGS), path: joinTree(dir.path, name) };
  }

  /** Opens the regular file `name` of `dir` for reading, or undefined when it
   * is (by now) something else. O_NONBLOCK: a FIFO swapped in cannot hang us. */
  async openFile(dir: DirRef, name: string): Promise<{ fh: FileHandle; stat: Stats } | undefined> {
    let fh: FileHandle;
    try {
      fh = await fsp.open(ScopedRoot.at(dir, name), O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
    } catch (err) {
      if (['ELOOP', 'ENOENT', 'ENXIO', 'EACCES', 'EPERM', 'ENOTDIR'].includes(codeOf(err) ?? '')) return undefined;
      throw err;
    }
    const stat = await fh.stat();
    if (!stat.isFile()) {
      await fh.close();
      return undefined;
    }
    return { fh, stat };
  }

  async lstat(dir: DirRef, name: string): Promise<Stats | undefined> {
    try {
      return await fsp.lstat(ScopedRoot.at(dir, name));
    } catch (err) {
      if (codeOf(err) === 'ENOENT' || codeOf(err) === 'ENOTDIR') return undefined;
      throw err;
    }
  }

  async lstatBig(dir: DirRef, name: string): Promise<BigIntStats> {
    return fsp.lstat(ScopedRoot.at(dir, name), { bigint: true });
  }

  async readlink(dir: DirRef, name: string): Promise<string> {
    return fsp.readlink(ScopedRoot.at(dir, name));
  }

  async readdir(dir: DirRef): Promise<string[]> {
    return fsp.readdir(ScopedRoot.at(dir, '.'));
  }

  /**
   * Resolves `path` (absolute in the tree; a relative one is taken from the
   * root) the way a chroot would. Every component but the last must exist and
   * be a directory, after following symlinks (unless `mkdirParents`). The
   * last is followed only with `followLast`, and may be missing.
   * Throws not-found for a missing or non-directory parent.
   */
  async resolve(path: string, opts: ResolveOptions = {}): Promise<Resolved> {
    let todo = components(path);
    const stack: DirRef[] = [this.root];
    let links = 0;
    const release = async (keep?: DirRef): Promise<void> => {
      for (const d of stack) if (d !== this.root && d !== keep) await d.fh.close().catch(() => undefined);
    };
    const top = (): DirRef => stack[stack.length - 1]!;
    try {
      for (;;) {
        if (todo.length === 0) {
          // The path named a directory we hold: return it as "." of itself.
          const dir = top();
          stack.pop();
          await release();
          return this.result(dir, '.', await this.lstat(dir, '.'));
        }
        const c = todo.shift()!;
        if (c === '..') {
          if (stack.length > 1) await stack.pop()!.fh.close();
          continue;
        }
        const dir = top();
        const last = todo.length === 0;
        let st = await this.lstat(dir, c);
        if (st?.isSymbolicLink() && (!last || opts.followLast)) {
          if (++links > MAX_LINKS) throw invalid(`too many levels of symbolic links in ${JSON.stringify(path)}`);
          const target = await this.readlink(dir, c);
          if (target.startsWith('/')) {
            while (stack.length > 1) await stack.pop()!.fh.close();
          }
          todo = [...components(target), ...todo];
          continue;
        }
        if (last) {
          stack.pop();
          await release();
          return this.result(dir, c, st);
        }
        if (!st && opts.mkdirParents) {
          await fsp.mkdir(ScopedRoot.at(dir, c), 0o755).catch((err: unknown) => {
            if (codeOf(err) !== 'EEXIST') throw err;
          });
          st = await this.lstat(dir, c);
        }
        if (!st) throw notFound(`${joinTree(dir.path, c)}: no such file or directory`);
        if (!st.isDirectory()) throw notFound(`${joinTree(dir.path, c)}: not a directory`);
        try {
          stack.push(await this.openDir(dir, c));
        } catch (err) {
          // Replaced between the lstat and the open: a race we refuse.
          throw raceError(err, joinTree(dir.path, c));
        }
      }
    } catch (err) {
      await release();
      throw resolveFailure(err, path);
    }
  }

  private result(dir: DirRef, name: string, stat: Stats | undefined): Resolved {
    const root = this.root;
    return {
      dir,
      name,
      path: joinTree(dir.path, name),
      stat,
      release: async () => {
        if (dir !== root) await dir.fh.close().catch(() => undefined);
      },
    };
  }

  /** The content of the regular file at `path` (symlinks followed in the
   * tree), at most `maxBytes`; undefined when there is none. */
  async readFile(path: string, maxBytes = 16 << 20): Promise<Buffer | undefined> {
    let r: Resolved;
    try {
      r = await this.resolve(path, { followLast: true });
    } catch (err) {
      if (err instanceof JoeyError && err.kind === 'not-found') return undefined;
      throw err;
    }
    try {
      if (!r.stat?.isFile()) return undefined;
      const opened = await this.openFile(r.dir, r.name);
      if (!opened) return undefined;
      try {
        const buf = Buffer.alloc(Math.min(opened.stat.size, maxBytes));
        const { bytesRead } = await opened.fh.read(buf, 0, buf.length, 0);
        return buf.subarray(0, bytesRead);
      } finally {
        await opened.fh.close();
      }
    } finally {
      await r.release();
    }
  }

  /** Removes `name` from `dir`: a file, or a directory and everything in it,
   * walking through held directories only. */
  async removeAll(dir: DirRef, name: string): Promise<void> {
    const st = await this.lstat(dir, name);
    if (!st) return;
    if (st.isDirectory()) {
      const sub = await this.openDir(dir, name);
      try {
        for (const child of await this.readdir(sub)) await this.removeAll(sub, child);
      } finally {
        await sub.fh.close();
      }
      await fsp.rmdir(ScopedRoot.at(dir, name));
    } else {
      await fsp.unlink(ScopedRoot.at(dir, name));
    }
  }
}
