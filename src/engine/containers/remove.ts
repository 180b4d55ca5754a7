// rm and container prune.
import { rm } from 'node:fs/promises';
import { conflict, is } from '../../errdefs/index.ts';
import type { Filters } from '../../images/types.ts';
import type { ContainerContext } from './context.ts';
import { checkFilterKeys, labelMatches, parseTimeFilter } from '../../util/filters.ts';
import { removeLink } from './link-setup.ts';
import { findContainer } from './lookup.ts';
import { unmountRootfs } from './rootfs.ts';
import { waitForExit } from './wait.ts';
import { releaseRootfsQuota } from './quota.ts';
import { newRootfsKey, oldRootfsKey } from './upgrade-store.ts';

export async function removeContainer(cx: ContainerContext, idOrName: string, opts: { force?: boolean; volumes?: boolean; link?: boolean } = {}): Promise<void> {
  if (opts.link) return removeLink(cx, idOrName);
  const c = findContainer(cx, idOrName);
  if (cx.upgrading.has(c.id)) throw conflict(`cannot remove container "/${c.name}": it is being upgraded`);
  if (c.state.Running || c.state.Paused) {
    if (!opts.force) {
      throw conflict(`cannot remove container "/${c.name}": container is ${c.state.Paused ? 'paused' : 'running'}: stop the container before removing or force remove`);
    }
    const exited = waitForExit(cx, c.id);
    const rt = cx.runtimeOf(c);
    if (c.state.Paused) await rt.resume(c.id).catch(() => undefined);
    await rt.kill(c.id, 9, { all: true }).catch(() => undefined);
    await exited.within(10_000);
  }
  await cx.lock(c.id, async () => {
    const fresh = cx.store.get(c.id);
    if (!fresh) return;
    if (fresh.state.Running && !opts.force) throw conflict(`cannot remove container "/${c.name}": container is running`);
    const t = cx.restartTimers.get(c.id);
    if (t) clearTimeout(t);
    fresh.state = { ...fresh.state, Status: 'removing' };
    cx.store.save(fresh);
    const paths = cx.paths(c.id);
    // The runtime's state, the mounts and the network first; the files once
    // nothing is mounted over them.
    // (A stopped container whose runtime is no longer defined still goes.)
    const runtimeDelete = Promise.resolve().then(() => cx.runtimeOf(fresh).delete(c.id, { force: true }));
    await Promise.all([runtimeDelete.catch(() => undefined), unmountRootfs(cx, c.id), cx.deps.networks?.detach(fresh)]);
    // The quota area (a loop mount on the snapshot directory) before the snapshot.
    await releaseRootfsQuota(cx, fresh);
    await Promise.all([
      cx.deps.snapshots.remove(c.id).catch((e: unknown) => {
        if (!is(e, 'not-found')) throw e;
      }),
      // What an interrupted upgrade may have left under the container's name.
      cx.deps.snapshots.remove(newRootfsKey(c.id)).catch(() => undefined),
      cx.deps.snapshots.remove(oldRootfsKey(c.id)).catch(() => undefined),
      rm(paths.bundle, { recursive: true, force: true }),
      rm(paths.dir, { recursive: true, force: true }),
    ]);
    const mounts = cx.deps.volumes.mountsOf(c.id);
    cx.deps.db.transaction(() => cx.store.delete(c.id)); // its mount rows go with it
    if (opts.volumes) await cx.deps.volumes.removeAnonymous(mounts);
    for (const [execId, ex] of cx.execs) if (ex.containerId === c.id) cx.execs.delete(execId);
  });
  cx.deps.events.publish({ Type: 'container', Action: 'destroy', Actor: { ID: c.id, Attributes: { name: c.name, image: c.imageRef, ...(c.config.Labels ?? {}) } }, status: 'destroy', id: c.id, from: c.imageRef });
  cx.forget(c.id);
}

const PRUNE_FILTERS = new Set(['until', 'label', 'label!']);

export async function pruneContainers(cx: ContainerContext, filters: Filters = {}): Promise<{ ContainersDeleted: string[]; SpaceReclaimed: number }> {
  checkFilterKeys(filters, PRUNE_FILTERS);
  const until = filters.until?.length ? parseTimeFilter(filters.until[0]!) : undefined;
  const deleted: string[] = [];
  let reclaimed = 0;
  for (const c of cx.store.all()) {
    if (c.state.Running || c.state.Paused || c.state.Restarting) continue;
    const labels = c.config.Labels ?? {};
    if (filters.label?.length && !filters.label.every((l) => labelMatches(labels, l))) continue;
    if (filters['label!']?.length && filters['label!'].some((l) => labelMatches(labels, l))) continue;
    if (until !== undefined && !(Date.parse(c.createdAt) / 1000 < until)) continue;
    try {
      reclaimed += (await cx.deps.snapshots.usage(c.id).catch(() => ({ size: 0 }))).size;
      await removeContainer(cx, c.id);
      deleted.push(c.id);
    } catch (e) {
      if (!is(e, 'not-found')) throw e;
    }
  }
  return { ContainersDeleted: deleted, SpaceReclaimed: reclaimed };
}
