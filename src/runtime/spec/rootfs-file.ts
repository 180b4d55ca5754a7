// Reading files of a container's rootfs from the host. The rootfs belongs to
// the image (and, for exec, to a running container): any path in it may be a
// symlink aimed at the host, so paths are resolved with the rootfs as "/",
// the last step is opened with O_NOFOLLOW, and the opened file's real path
// is checked to be inside the rootfs (which also defeats a rename race).
import { constants } from 'node:fs';
import { lstat, open, readlink, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { invalid } from '../../errdefs/index.ts';

const MAX_LINKS = 255;

/** Resolves `path` inside `root` as if `root` were "/": ".." stops at root and
 * absolute symlink targets restart at root. Components that do not exist are
 * kept as they are. Returns a host path under `root`. */
export async function resolveInRoot(root: string, path: string): Promise<string> {
  let todo = path.split('/').filter((c) => c !== '' && c !== '.');
  const done: string[] = [];
  let links = 0;
  while (todo.length > 0) {
    const c = todo.shift()!;
    if (c === '..') {
      done.pop();
      continue;
    }
    const host = join(root, ...done, c);
    let isLink = false;
    try {
      isLink = (await lstat(host)).isSymbolicLink();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' && (e as NodeJS.ErrnoException).code !== 'ENOTDIR') throw e;
      done.push(c); // missing: the rest is resolved lexically
      continue;
    }
    if (!isLink) {
      done.push(c);
      continue;
    }
    if (++links > MAX_LINKS) throw invalid(`too many levels of symbolic links resolving ${path} in the container's rootfs`);
    const target = await readlink(host);
    if (target.startsWith('/')) done.length = 0;
    todo = [...target.split('/').filter((x) => x !== '' && x !== '.'), ...todo];
  }
  return join(root, ...done);
}

/** The content of `path` in the rootfs, or undefined when it does not exist.
 * Only regular files are read, and at most `maxBytes`. */
export async function readFileInRoot(root: string, path: string, maxBytes = 16 << 20): Promise<string | undefined> {
  const realRoot = await realpath(root);
  const host = await resolveInRoot(realRoot, path);
  let fh;
  try {
    // O_NONBLOCK: a FIFO planted at the path must not hang the daemon.
    fh = await open(host, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    if (code === 'ELOOP') throw invalid(`${path} in the container's rootfs is a symlink that could not be resolved safely`);
    throw e;
  }
  try {
    const opened = await readlink(`/proc/self/fd/${fh.fd}`);
    if (opened !== realRoot && !opened.startsWith(realRoot.endsWith('/') ? realRoot : `${realRoot}/`)) {
      throw invalid(`${path} in the container's rootfs resolves outside of it`);
    }
    const st = await fh.stat();
    if (!st.isFile()) throw invalid(`${path} in the container's rootfs is not a regular file`);
    const buf = Buffer.alloc(Math.min(st.size, maxBytes));
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead).toString('utf8');
  } finally {
    await fh.close();
  }
}
