// ScopedRoot's walk (scoped-root.ts) with synchronous calls, for code that
// runs in an archive worker: ".." stops at the root, absolute symlink
// targets restart there, every step goes through a directory held open
// ("/proc/self/fd/<fd>/<name>") and the last one is never followed unless
// asked. A worker shares the daemon's descriptor table, so it can open a
// tree the daemon holds (a detached mount) through that descriptor's path.
import * as fs from 'node:fs';
import type { Stats } from 'node:fs';
import { invalid, notFound } from '../errdefs/index.ts';
import { codeOf, components, joinTree, raceError, resolveFailure, type ResolveOptions } from './scoped-root.ts';

const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW } = fs.constants;
const DIR_FLAGS = O_RDONLY | O_DIRECTORY | O_NOFOLLOW;
const MAX_LINKS = 255;

/** A directory of the tree, held open; `path` is where it is in the tree. */
export interface SyncDir {
  readonly fd: number;
  readonly path: string;
}

export interface SyncResolved {
  readonly dir: SyncDir;
  /** "." when the path named a directory (the root, or the end of a walk). */
  readonly name: string;
  readonly path: string;
  readonly stat: Stats | undefined;
  release(): void;
}

/** "/proc/self/fd/N/name": `name` looked up in the open directory `fd`. */
export function at(fd: number, name: string): string {
  return `/proc/self/fd/${fd}/${name}`;
}

export class SyncScope {
  readonly root: SyncDir;

  /** Opens the directory at `hostPath` (the engine's own, trusted). */
  constructor(hostPath: string) {
    this.root = { fd: fs.openSync(hostPath, O_RDONLY | O_DIRECTORY), path: '/' };
  }

  close(): void {
    fs.closeSync(this.root.fd);
  }

  lstat(dir: SyncDir, name: string): Stats | undefined {
    try {
      return fs.lstatSync(at(dir.fd, name));
    } catch (err) {
      if (codeOf(err) === 'ENOENT' || codeOf(err) === 'ENOTDIR') return undefined;
      throw err;
    }
  }

  openDir(dir: SyncDir, name: string): SyncDir {
    return { fd: fs.openSync(at(dir.fd, name), DIR_FLAGS), path: joinTree(dir.path, name) };
  }

  readdir(dir: SyncDir): string[] {
    return fs.readdirSync(at(dir.fd, '.'));
  }

  /** As ScopedRoot.resolve. */
  resolve(path: string, opts: ResolveOptions = {}): SyncResolved {
    let todo = components(path);
    const stack: SyncDir[] = [this.root];
    let links = 0;
    const closeAll = (): void => {
      for (const d of stack) if (d !== this.root) fs.closeSync(d.fd);
      stack.length = 0;
    };
    try {
      for (;;) {
        const dir = stack[stack.length - 1]!;
        if (todo.length === 0) {
          const st = this.lstat(dir, '.');
          stack.pop();
          closeAll();
          return this.result(dir, '.', st);
        }
        const c = todo.shift()!;
        if (c === '..') {
          if (stack.length > 1) fs.closeSync(stack.pop()!.fd);
          continue;
        }
        const last = todo.length === 0;
        let st = this.lstat(dir, c);
        if (st?.isSymbolicLink() && (!last || opts.followLast)) {
          if (++links > MAX_LINKS) throw invalid(`too many levels of symbolic links in ${JSON.stringify(path)}`);
          const target = fs.readlinkSync(at(dir.fd, c));
          if (target.startsWith('/')) while (stack.length > 1) fs.closeSync(stack.pop()!.fd);
          todo = [...components(target), ...todo];
          continue;
        }
        if (last) {
          stack.pop();
          closeAll();
          return this.result(dir, c, st);
        }
        if (!st && opts.mkdirParents) {
          try {
            fs.mkdirSync(at(dir.fd, c), 0o755);
          } catch (err) {
            if (codeOf(err) !== 'EEXIST') throw err;
          }
          st = this.lstat(dir, c);
        }
        if (!st) throw notFound(`${joinTree(dir.path, c)}: no such file or directory`);
        if (!st.isDirectory()) throw notFound(`${joinTree(dir.path, c)}: not a directory`);
        try {
          stack.push(this.openDir(dir, c));
        } catch (err) {
          throw raceError(err, joinTree(dir.path, c));
        }
      }
    } catch (err) {
      closeAll();
      throw resolveFailure(err, path);
    }
  }

  private result(dir: SyncDir, name: string, stat: Stats | undefined): SyncResolved {
    const root = this.root;
    return {
      dir,
      name,
      path: joinTree(dir.path, name),
      stat,
      release: () => {
        if (dir !== root) fs.closeSync(dir.fd);
      },
    };
  }

  /** As ScopedRoot.removeAll. */
  removeAll(dir: SyncDir, name: string): void {
    const st = this.lstat(dir, name);
    if (!st) return;
    if (st.isDirectory()) {
      const sub = this.openDir(dir, name);
      try {
        for (const child of this.readdir(sub)) this.removeAll(sub, child);
      } finally {
        fs.closeSync(sub.fd);
      }
      fs.rmdirSync(at(dir.fd, name));
    } else {
      fs.unlinkSync(at(dir.fd, name));
    }
  }
}
