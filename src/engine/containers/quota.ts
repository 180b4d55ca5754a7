// A container's disk quota, the container side: which limit its rootfs has,
// where its area is (the snapshot directory holding the overlay upperdir and
// workdir), and the live change by `update`.
import { dirname } from 'node:path';
import { invalid, is } from '../../errdefs/index.ts';
import type { Snapshotter } from '../../snapshots/types.ts';
import { log } from '../../util/log.ts';
import { ROOTFS_KEY, planDiskQuota, type DiskQuotas, type QuotaLimit } from '../quota/index.ts';
import type { ContainerContext } from './context.ts';
import { unmountRootfs } from './rootfs.ts';
import type { ContainerRecord } from './record.ts';
import type { ContainerStore } from './store.ts';

/** The rootfs limit recorded with a container, if any. */
export function rootfsLimit(c: Pick<ContainerRecord, 'config'>): QuotaLimit | undefined {
  try {
    return planDiskQuota(c.config.DiskQuota)?.rootfs;
  } catch {
    return undefined; // checked at create; a record never holds a bad one
  }
}

/** The snapshot directory of a container's rootfs, or undefined when the snapshot is gone. */
export async function rootfsArea(snapshots: Snapshotter, id: string): Promise<string | undefined> {
  try {
    return dirname(await snapshots.upperDir(id));
  } catch (e) {
    if (is(e, 'not-found')) return undefined;
    throw e;
  }
}

/** Releases a container's rootfs area (before its snapshot goes). */
export async function releaseRootfsQuota(cx: ContainerContext, c: Pick<ContainerRecord, 'id' | 'config'>): Promise<void> {
  if (!rootfsLimit(c) || !cx.deps.quota) return;
  const dir = await rootfsArea(cx.deps.snapshots, c.id);
  if (dir) await cx.deps.quota.releaseRootfs(c.id, dir);
}

/** Start-up, before the snapshotter's sweep (which drops a snapshot whose fs/
 * is missing): after a reboot the areas are mounted again. */
export async function activateRootfsQuotas(store: ContainerStore, snapshots: Snapshotter, quota: DiskQuotas): Promise<void> {
  for (const c of store.all()) {
    if (!rootfsLimit(c)) continue;
    const dir = await rootfsArea(snapshots, c.id).catch(() => undefined);
    if (!dir) continue;
    await quota.activateRootfs(c.id, dir).catch((e) => log.error('cannot mount the disk quota area of a container', { container: c.id, err: e }));
  }
}

/** `update --disk-quota`: a new rootfs limit for a container that has one. */
export async function updateDiskQuota(cx: ContainerContext, c: ContainerRecord, dq: Record<string, string>): Promise<void> {
  const plan = planDiskQuota(dq);
  if (!plan) return;
  if (plan.mounts.size > 0 || (plan.each && dq[ROOTFS_KEY] === undefined)) {
    throw invalid('update --disk-quota changes the rootfs limit only ("SIZE" or "/=SIZE"); resize a volume\'s quota by recreating it');
  }
  const limit = plan.rootfs!;
  if (!cx.deps.quota) throw invalid('disk quota is not available on this daemon');
  cx.deps.quota.checkLimit(limit, 'the rootfs');
  if (!rootfsLimit(c)) throw invalid(`container ${c.name} has no disk quota on its rootfs: a quota can only be set at create (--disk-quota)`);
  const dir = await rootfsArea(cx.deps.snapshots, c.id);
  if (!dir) throw invalid(`container ${c.name} has no rootfs`);
  // A stopped container's area may go down for the change: its rootfs
  // overlay (left mounted by create) first; start mounts it again.
  const live = c.state.Running || c.state.Paused || c.state.Restarting;
  if (!live) await unmountRootfs(cx, c.id);
  await cx.deps.quota.resizeRootfs(c.id, dir, limit, { live });
  const cur = typeof c.config.DiskQuota === 'string' ? { [ROOTFS_KEY]: c.config.DiskQuota } : { ...(c.config.DiskQuota ?? {}) };
  cur[ROOTFS_KEY] = dq[ROOTFS_KEY] ?? dq['.*']!;
  c.config.DiskQuota = cur;
}
