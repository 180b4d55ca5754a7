// Views of a container's filesystem for export, cp, diff and commit: a
// ScopedRoot on the live rootfs mount when there is one, otherwise on a mount
// of our own that is detached (umount -l) as soon as its root is open. The
// detached mount lives as long as we hold descriptors in it and vanishes with
// them, so nothing is left mounted, even if the daemon dies mid-copy.
import { randomBytes } from 'node:crypto';
import { mkdir, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ScopedRoot } from '../../archive/scoped-root.ts';
import type { Mount } from '../../snapshots/types.ts';
import { readOnlyMounts } from '../../snapshots/view.ts';
import { isMountPoint, mount, mountsUnder, unmount } from '../../sys/mount.ts';
import { ociMountsOf } from '../../runtime/spec/binds.ts';
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
 * For `cp` (GET/PUT/HEAD /containers/{id}/archive): the container's files
 * with its volumes and bind mounts, as `docker cp` sees them.
 * - Running: its own root, /proc/PID/root. Lookups from there cross the
 *   mounts of its namespace (volumes, binds, /etc/hosts, tmpfs), and
 *   ScopedRoot keeps them from leaving that root.
 * - Stopped: its rootfs (the live mount when create left one, bound; else
 *   the layers) with its volumes and binds mounted on it for as long as the
 *   view is open; read-only for reading. Each destination is found through
 *   ScopedRoot (a symlink in the rootfs cannot place a mount outside it) and
 *   a destination missing from the rootfs is left out. A daemon that dies
 *   meanwhile leaves the mounts to cleanupViews at its next start.
 * Call with the container's lock held.
 */
export async function openCopyView(cx: ContainerContext, c: ContainerRecord, write: boolean): Promise<ScopedRoot> {
  if (c.state.Running && c.state.Pid > 0) {
    try {
      return await ScopedRoot.open(`/proc/${c.state.Pid}/root`);
    } catch {
      // it exited a moment ago: as a stopped one
    }
  }
  const binds = ociMountsOf(cx.deps.volumes.mountsOf(c.id)).filter((m) => m.type === 'bind');
  if (binds.length === 0) return write ? openWriteView(cx, c) : openReadView(cx, c);
  const dir = join(viewsDir(cx), randomBytes(8).toString('hex'));
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const live = cx.paths(c.id).rootfs;
  const layers = (await isMountPoint(live))
    ? [{ type: 'bind', source: live, options: write ? [] : ['ro'] }]
    : write ? await cx.deps.snapshots.mounts(c.id) : readOnlyMounts(await cx.deps.snapshots.mounts(c.id));
  let mounted = false;
  const release = async (): Promise<void> => {
    if (mounted) await unmount(dir, { lazy: true }).catch(() => undefined);
    await rmdir(dir).catch(() => undefined);
  };
  let root: ScopedRoot | undefined;
  try {
    for (const m of layers) {
      await mount(m, dir);
      mounted = true;
    }
    root = await ScopedRoot.open(dir, release);
    // Outer destinations first, so that nested ones land on top.
    for (const b of [...binds].sort((x, y) => x.destination.length - y.destination.length)) {
      const r = await root.resolve(b.destination, { followLast: true }).catch(() => undefined);
      if (!r) continue;
      try {
        if (!r.stat || r.stat.isSymbolicLink() || !b.source) continue;
        const ro = !write || (b.options ?? []).includes('ro') || (b.options ?? []).includes('rro');
        await mount({ type: 'bind', source: b.source, options: ro ? ['ro'] : [] }, ScopedRoot.atForChild(r.dir, r.name));
      } finally {
        await r.release();
      }
    }
    return root;
  } catch (e) {
    if (root) await root.close();
    else await release();
    throw e;
  }
}

/** The container's image as it was before the container changed it, or
 * undefined for a container without image layers. */
export async function openImageView(cx: ContainerContext, c: ContainerRecord): Promise<ScopedRoot | undefined> {
  const parent = (await cx.deps.snapshots.stat(c.id)).parent;
  if (parent === undefined) return undefined;
  return openDetached(cx, await cx.deps.snapshots.mounts(parent));
}
