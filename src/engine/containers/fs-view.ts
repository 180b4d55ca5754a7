// Views of a container's filesystem for export, cp, diff and commit: a
// ScopedRoot on the live rootfs mount when there is one, otherwise on a mount
// of our own that is detached (umount -l) as soon as its root is open. The
// detached mount lives as long as we hold descriptors in it and vanishes with
// them, so nothing is left mounted, even if the daemon dies mid-copy.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ScopedRoot } from '../../archive/scoped-root.ts';
import type { Mount } from '../../snapshots/types.ts';
import { readOnlyMounts } from '../../snapshots/view.ts';
import { isMountPoint, mount, mountsUnder, unmount } from '../../sys/mount.ts';
import type { ContainerContext } from './context.ts';
import type { ContainerRecord } from './record.ts';

const viewsDir = (cx: ContainerContext): string => join(cx.deps.roots.execRoot, 'views');

/** Start-up: a daemon that died between a mount and its detach left it here. */
export async function cleanupViews(cx: ContainerContext): Promise<void> {
  const dir = viewsDir(cx);
  for (const m of await mountsUnder(dir)) await unmount(m.target, { lazy: true }).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
}

/** Mounts `mounts` on a fresh directory, opens it and detaches the mounts. */
export async function openDetached(cx: ContainerContext, mounts: Mount[]): Promise<ScopedRoot> {
  const dir = join(viewsDir(cx), randomBytes(8).toString('hex'));
  await mkdir(dir, { recursive: true, mode: 0o700 });
  let mounted = 0;
  try {
    for (const m of mounts) {
      await mount(m, dir);
      mounted++;
    }
    return await ScopedRoot.open(dir);
  } finally {
    for (; mounted > 0; mounted--) await unmount(dir, { lazy: true });
    await rmdir(dir).catch(() => undefined);
  }
}

/** The container's files as the container sees them (without its volumes
 * and bind mounts). Call with the container's lock held. */
export async function openReadView(cx: ContainerContext, c: ContainerRecord): Promise<ScopedRoot> {
  const live = cx.paths(c.id).rootfs;
  if (await isMountPoint(live)) return ScopedRoot.open(live);
  return openDetached(cx, readOnlyMounts(await cx.deps.snapshots.mounts(c.id)));
}

/** The same, writable: changes land in the container's upper dir. The live
 * mount when there is one (never a second writable mount of the same upper). */
export async function openWriteView(cx: ContainerContext, c: ContainerRecord): Promise<ScopedRoot> {
  const live = cx.paths(c.id).rootfs;
  if (await isMountPoint(live)) return ScopedRoot.open(live);
  return openDetached(cx, await cx.deps.snapshots.mounts(c.id));
}

/**
 * For `cp` (GET/PUT/HEAD /containers/{id}/archive): a running container's
 * files with its volumes and bind mounts, as `docker cp` sees them: its own
 * root, /proc/PID/root, from which lookups cross the mounts of its namespace
 * (volumes, binds, /etc/hosts, tmpfs) while ScopedRoot keeps them inside
 * that root. The pid is trusted only while it is in the container's cgroup,
 * before and after the open (a pid reused by a host process after an exit
 * joeyd has not handled yet is not). A stopped container: its own
 * filesystem only (mounting its volumes on a view would put mounts on paths
 * other writers of those volumes could redirect). Call with the
 * container's lock held.
 */
export async function openCopyView(cx: ContainerContext, c: ContainerRecord, write: boolean): Promise<ScopedRoot> {
  const pid = c.state.Running ? c.state.Pid : 0;
  if (pid > 0 && (await inCgroupOf(pid, c.id))) {
    const root = await ScopedRoot.open(`/proc/${pid}/root`).catch(() => undefined);
    if (root && (await inCgroupOf(pid, c.id))) return root;
    await root?.close();
  }
  return write ? openWriteView(cx, c) : openReadView(cx, c);
}

/** Whether process `pid` is in a cgroup of container `id` (its cgroup path ends in the id). */
async function inCgroupOf(pid: number, id: string): Promise<boolean> {
  const text = await readFile(`/proc/${pid}/cgroup`, 'utf8').catch(() => '');
  return text.split('\n').some((l) => l.endsWith(`/${id}`) || l.includes(`/${id}/`));
}

/** The container's image as it was before the container changed it, or
 * undefined for a container without image layers. */
export async function openImageView(cx: ContainerContext, c: ContainerRecord): Promise<ScopedRoot | undefined> {
  const parent = (await cx.deps.snapshots.stat(c.id)).parent;
  if (parent === undefined) return undefined;
  return openDetached(cx, await cx.deps.snapshots.mounts(parent));
}
