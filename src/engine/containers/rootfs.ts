// Mounting a container's rootfs from its snapshot, and unmounting it.
import { mkdir } from 'node:fs/promises';
import { isMountPoint, mount, unmount } from '../../sys/mount.ts';
import type { ContainerContext } from './context.ts';

export async function mountRootfs(cx: ContainerContext, id: string): Promise<string> {
  const target = cx.paths(id).rootfs;
  await mkdir(target, { recursive: true, mode: 0o755 });
  if (await isMountPoint(target)) return target;
  const mounts = await cx.deps.snapshots.mounts(id);
  for (const m of mounts) await mount(m, target);
  return target;
}

export async function unmountRootfs(cx: ContainerContext, id: string): Promise<void> {
  const target = cx.paths(id).rootfs;
  // A lazy unmount as a fallback: a process of the container may still hold it.
  while (await isMountPoint(target)) {
    try {
      await unmount(target);
    } catch {
      await unmount(target, { lazy: true }).catch(() => undefined);
      break;
    }
  }
}
