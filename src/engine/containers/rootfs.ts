// Mounting a container's rootfs from its snapshot, and unmounting it; with
// it, the host-side /dev/shm of an IpcMode "shareable" container, which the
// containers that join its IPC namespace bind too.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_SHM_SIZE } from '../../runtime/spec/mounts.ts';
import { isFilesystemRoot, isMountPoint, mount, unmount } from '../../sys/mount.ts';
import type { ContainerContext } from './context.ts';

/** An overlay or a tmpfs shows as a filesystem of its own (two stat calls);
 * the bind mount of a snapshot without parents does not, and needs the mount
 * table. */
async function mounted(target: string): Promise<boolean> {
  return (await isFilesystemRoot(target)) || (await isMountPoint(target));
}

/** Host path of a shareable container's /dev/shm. */
export function shmPathOf(cx: ContainerContext, id: string): string {
  return join(cx.paths(id).dir, 'mounts', 'shm');
}

export async function mountRootfs(cx: ContainerContext, id: string): Promise<string> {
  const target = cx.paths(id).rootfs;
  await mkdir(target, { recursive: true, mode: 0o755 });
  const hc = cx.store.get(id)?.hostConfig;
  if (hc?.IpcMode === 'shareable') {
    const shm = shmPathOf(cx, id);
    await mkdir(shm, { recursive: true, mode: 0o700 });
    if (!(await mounted(shm))) await mount({ type: 'tmpfs', source: 'shm', options: ['nosuid', 'nodev', 'noexec', 'mode=1777', `size=${hc.ShmSize || DEFAULT_SHM_SIZE}`] }, shm);
  }
  if (await mounted(target)) return target;
  const mounts = await cx.deps.snapshots.mounts(id);
  for (const m of mounts) await mount(m, target);
  return target;
}

async function unmountAll(target: string): Promise<void> {
  if (!existsSync(target)) return;
  // A lazy unmount as a fallback: a process of the container may still hold it.
  while (await mounted(target)) {
    try {
      await unmount(target);
    } catch {
      await unmount(target, { lazy: true }).catch(() => undefined);
      break;
    }
  }
}

export async function unmountRootfs(cx: ContainerContext, id: string): Promise<void> {
  await unmountAll(cx.paths(id).rootfs);
  await unmountAll(shmPathOf(cx, id));
  // The volumes it held mounted (driver options), once no other running container holds them.
  await cx.deps.volumes.release(id);
}
