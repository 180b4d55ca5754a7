// Copying a directory tree with everything a filesystem holds (owner, mode,
// times, xattrs, links, device nodes), through GNU cp: Node's fs.cp loses
// owners and xattrs.
import { run } from './exec.ts';

/** Copies the content of directory `src` into the existing directory `dst`,
 * and `src`'s own owner and mode onto `dst`. Symlinks are copied as links,
 * never followed. */
export async function copyTree(src: string, dst: string): Promise<void> {
  await run('cp', ['-a', '--no-target-directory', '--', `${src}/.`, dst]);
}
