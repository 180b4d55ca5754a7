// Network namespaces the engine owns: one nsfs bind mount per container under
// <exec-root>/netns/<id>, made before `runc create` so that CNI can wire it
// and the OCI spec can name it. Never /var/run/netns, which other engines share.
import { lstat, mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { is } from '../errdefs/index.ts';
import { run } from './exec.ts';
import { isMountPoint, unmount } from './mount.ts';

export interface NetnsOps {
  create(path: string): Promise<void>;
  remove(path: string): Promise<void>;
  exists(path: string): Promise<boolean>;
}

export const netns: NetnsOps = {
  async create(path) {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    if (await isMountPoint(path).catch(() => false)) return;
    await writeFile(path, '', { mode: 0o444 });
    // unshare persists the new namespace by bind-mounting /proc/<pid>/ns/net on the file.
    await run('unshare', [`--net=${path}`, 'true']);
  },
  async remove(path) {
    // No file, no namespace (--network none and host make none): no umount
    // process to spawn on every exit and removal.
    if (!(await lstat(path).catch(() => undefined))) return;
    try {
      await unmount(path);
    } catch (e) {
      if (!is(e, 'not-found')) await unmount(path, { lazy: true }).catch(() => undefined);
    }
    await rm(path, { force: true });
  },
  async exists(path) {
    return isMountPoint(path).catch(() => false);
  },
};
