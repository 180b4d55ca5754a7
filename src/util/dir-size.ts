// Apparent size of a directory tree, as dockerd measures volumes and layers
// for `docker system df`: the bytes of every entry that is not a directory
// (files and symlinks), each inode once, so hard links do not count twice.
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

export async function directorySize(dir: string): Promise<number> {
  const seen = new Set<string>();
  let total = 0;
  const stack = [dir];
  while (stack.length > 0) {
    const d = stack.pop()!;
    let names: string[];
    try {
      names = await readdir(d);
    } catch (e) {
      // The top must exist; anything below may go while we walk.
      if (d === dir) throw e;
      continue;
    }
    const stats = await Promise.all(names.map((n) => lstat(join(d, n)).catch(() => undefined)));
    for (let i = 0; i < names.length; i++) {
      const st = stats[i];
      if (!st) continue;
      if (st.isDirectory()) {
        stack.push(join(d, names[i]!));
        continue;
      }
      if (st.size === 0) continue;
      const key = `${st.dev}:${st.ino}`;
      if (seen.has(key)) continue;
      seen.add(key);
      total += st.size;
    }
  }
  return total;
}
