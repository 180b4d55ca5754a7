// Where COPY and ADD put things, by Docker's rules: a relative destination is
// under WORKDIR; a destination ending in "/" (or ".") is a directory; several
// sources need such a directory; a directory source copies its contents; a
// file goes into the destination when that is a directory (by its slash or
// because it already is one in the image), else it becomes the destination.
import { posix } from 'node:path';
import { invalid } from '../../errdefs/index.ts';

export interface Dest {
  /** Absolute and clean, no trailing slash ("/" for the root). */
  path: string;
  /** Written as a directory: "dir/", ".", "..", "dir/.". */
  dirHint: boolean;
}

export function resolveDest(dest: string, workdir: string): Dest {
  if (dest === '') throw invalid('the destination of COPY/ADD cannot be empty');
  const dirHint = dest.endsWith('/') || dest === '.' || dest === '..' || dest.endsWith('/.') || dest.endsWith('/..');
  return { path: posix.resolve('/', workdir || '/', dest), dirHint };
}

export function checkSourceCount(cmd: string, sources: number, dest: Dest): void {
  if (sources > 1 && !dest.dirHint && dest.path !== '/') {
    throw invalid(`When using ${cmd} with more than one source file, the destination must be a directory and end with a /`);
  }
}

/** The path a source lands at. A directory source (and an archive that ADD
 * unpacks) fills the destination directory itself. */
export function targetPath(source: { isDir: boolean; base: string }, dest: Dest, destIsDir: boolean): string {
  if (source.isDir) return dest.path;
  if (dest.dirHint || destIsDir) return posix.join(dest.path, source.base);
  return dest.path;
}
