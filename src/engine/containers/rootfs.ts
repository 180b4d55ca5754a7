// Mounting a container's rootfs from its snapshot, and unmounting it.
import { mkdir } from 'node:fs/promises';
import { isFilesystemRoot, isMountPoint, mount, unmount } from '../../sys/mount.ts';
import type { ContainerContext } from './context.ts';

/** An overlay shows as a filesystem of its own (two stat calls); the bind
 * mount of a snapshot without parents does not, and needs the mount table. */
async function mounted(target: string): Promise<boolean> {
  return (await isFilesystemRoot(target)) || (await isMountPoint(target));
}

export async function mountRootfs(cx: ContainerContext, id: string): Promise<string> {
  const target = cx.paths(id).rootfs;
  await mkdir(target, { recursive: true, mode: 0o755 });
  if (await mounted(target)) return target;
  const mounts = await cx.deps.snapshots.mounts(id);
  for (const m of mounts) await mount(m, target);
  return target;
}

export async function unmountRootfs(cx: ContainerContext, id: string): Promise<void> {
  const target = cx.paths(id).rootfs;
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
