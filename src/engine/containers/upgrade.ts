// joey upgrade: the container keeps its id, name, volumes, network identity
// and settings, and runs on a new image. The new rootfs is prepared beside
// the old one, the container stopped, the two snapshot keys swapped with the
// container's record in one transaction, and the container started again;
// any failure until the rollback window has passed puts the old rootfs, image
// and config back and starts the container as it was. A marker row
// (upgrade-store.ts) written before anything changes lets start-up finish or
// undo an upgrade that a crash interrupted, or watch the rest of its window
// (upgrade-window.ts). docs/notes/upgrade.md has the phases.
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { conflict, failedPrecondition, invalid, is, JoeyError, kindOf, messageOf, unavailable } from '../../errdefs/index.ts';
import { pull } from '../../images/pull.ts';
import { imageConfig, resolveImage } from '../../images/query.ts';
import type { ImageRecord } from '../../images/store.ts';
import type { ImageConfig } from '../../images/types.ts';
import type { AuthConfig } from '../../remotes/types.ts';
import { parseReference } from '../../reference/index.ts';
import { copyTree } from '../../sys/copy.ts';
import { log } from '../../util/log.ts';
import { rootfsLimit } from './quota.ts';
import type { ContainerContext } from './context.ts';
import { findContainer } from './lookup.ts';
import type { ContainerRecord } from './record.ts';
import { mountRootfs, unmountRootfs } from './rootfs.ts';
import { startLocked } from './start.ts';
import { stopRunning } from './stop.ts';
import { upgradeConfig, validateUpgradeRequest } from './upgrade-config.ts';
import { newRootfsKey, oldRootfsKey, UPGRADE_KEY_RE, UpgradeStore, type UpgradePhase, type UpgradeRecord } from './upgrade-store.ts';
import { resumption, windowEnd } from './upgrade-window.ts';

export interface UpgradeResult {
  Id: string;
  /** The image the container runs on now. */
  Image: string;
  ImageID: string;
  PreviousImage: string;
  PreviousImageID: string;
}

/** Why an upgrade was undone: the cause's kind is kept (a pull's 404 stays a
 * 404); a failure of the new image itself (start, early exit, unhealthy) is
 * internal (500), as a start that fails is. */
function rolledBack(name: string, cause: unknown, afterPull: boolean): JoeyError {
  const kind = afterPull ? 'internal' : kindOf(cause);
  return new JoeyError(kind, `upgrade of ${name} failed and was rolled back: ${messageOf(cause)}`, { cause });
}

/** Test-only: with JOEY_TEST_UPGRADE_PAUSE_DIR set, an upgrade that reaches a
 * phase whose name exists as a file there writes `<phase>.reached` and waits
 * for ever, so that a test can kill -9 the daemon at that instant. */
async function testPause(phase: string): Promise<void> {
  const dir = process.env.JOEY_TEST_UPGRADE_PAUSE_DIR;
  if (!dir || !existsSync(join(dir, phase))) return;
  await writeFile(join(dir, `${phase}.reached`), String(process.pid));
  log.warn('upgrade paused for a test', { phase });
  await new Promise(() => undefined);
}

function publish(cx: ContainerContext, c: Pick<ContainerRecord, 'id' | 'name' | 'imageRef'>, action: 'upgrade' | 'upgrade-success' | 'upgrade-rollback', attrs: Record<string, string>): void {
  cx.deps.events.publish({ Type: 'container', Action: action, Actor: { ID: c.id, Attributes: { name: c.name, ...attrs } }, status: action, id: c.id, from: attrs.image ?? c.imageRef });
}

async function imageConfigOrEmpty(cx: ContainerContext, id: string): Promise<ImageConfig> {
  return (await imageConfig(cx.deps.images, id).catch(() => undefined))?.config ?? {};
}

/** The image to upgrade to: local, or pulled. A malformed reference is
 * invalid input, found before anything is touched. */
async function resolveOrPull(cx: ContainerContext, ref: string, auth?: AuthConfig): Promise<ImageRecord> {
  try {
    return resolveImage(cx.deps.images, ref);
  } catch (e) {
    if (!is(e, 'not-found')) throw e;
  }
  try {
    parseReference(ref);
  } catch (e) {
    throw invalid(`upgrade: invalid image reference ${JSON.stringify(ref)}: ${messageOf(e)}`, e);
  }
  const pulled = await pull(cx.deps.images, ref, { auth });
  return resolveImage(cx.deps.images, pulled.id);
}

export async function upgradeContainer(cx: ContainerContext, idOrName: string, body: unknown, opts: { auth?: AuthConfig; signal?: AbortSignal } = {}): Promise<UpgradeResult> {
  const req = validateUpgradeRequest(body);
  const found = findContainer(cx, idOrName);
  const upgrades = new UpgradeStore(cx.deps.db);
  const ref = req.Image ?? found.imageRef;
  if (ref !== found.imageRef || req.Image !== undefined) {
    // Checked up front so that a typo is a 400 with nothing changed.
    try {
      if (!/^[a-f0-9]{12,64}$|^sha256:/.test(ref)) parseReference(ref);
    } catch (e) {
      throw invalid(`upgrade: invalid image reference ${JSON.stringify(ref)}: ${messageOf(e)}`, e);
    }
  }
  if (cx.upgrading.has(found.id) || upgrades.inProgress(found.id).length) throw conflict(`container ${found.name} is already being upgraded`);
  if (found.state.Paused) throw conflict(`cannot upgrade container ${found.name}: it is paused`);
  if (found.state.Status === 'removing' || found.state.Dead) throw conflict(`cannot upgrade container ${found.name}: it is ${found.state.Status}`);
  if (found.hostConfig.AutoRemove) throw conflict(`cannot upgrade container ${found.name}: it was started with --rm and goes away when it stops`);
  // The new rootfs would be a fresh snapshot outside the quota area: refused rather than silently unlimited.
  if (rootfsLimit(found)) throw failedPrecondition(`cannot upgrade container ${found.name}: it has a disk quota on its rootfs, which upgrade does not carry over yet`);
  cx.upgrading.add(found.id);
  let u: UpgradeRecord;
  try {
    u = await runUpgrade(cx, upgrades, found, ref, req, opts.auth);
  } catch (e) {
    cx.upgrading.delete(found.id);
    throw e;
  }
  // The window is watched apart from this call: a client that goes away
  // does not end it, and a daemon that shuts down leaves the rest of it to
  // its next start.
  const settled = settle(cx, upgrades, u, windowEnd(u)).finally(() => cx.upgrading.delete(found.id));
  return untilAborted(settled, opts.signal, found.name);
}

/** `p`, or, when the caller's signal fires first (the client left, the
 * daemon is shutting down), an error saying that the upgrade goes on. */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal | undefined, name: string): Promise<T> {
  if (!signal) return p;
  // Its outcome is logged and recorded in the history whether anyone waits or not.
  p.catch(() => undefined);
  return new Promise<T>((resolve, reject) => {
    const leave = (): void => reject(unavailable(`${messageOf(signal.reason ?? 'request aborted')}: the upgrade of ${name} goes on; inspect's UpgradeHistory shows how it ends`, signal.reason));
    if (signal.aborted) return leave();
    signal.addEventListener('abort', leave, { once: true });
    void p.then(resolve, reject).finally(() => signal.removeEventListener('abort', leave));
  });
}

/** Up to the new image's start (or the swap, for a container that was not
 * running); a failure on the way is rolled back and thrown. Returns the
 * record, which `settle` finishes. */
async function runUpgrade(cx: ContainerContext, upgrades: UpgradeStore, found: ContainerRecord, ref: string, req: ReturnType<typeof validateUpgradeRequest>, auth?: AuthConfig): Promise<UpgradeRecord> {
  const id = found.id;
  let img: ImageRecord;
  try {
    img = await resolveOrPull(cx, ref, auth);
  } catch (e) {
    if (is(e, 'invalid')) throw e;
    // Nothing was touched: the history says so, and the container runs on.
    const u = upgrades.begin({ containerId: id, phase: 'prepared', startedAt: new Date().toISOString(), oldImageId: found.imageId, oldImageRef: found.imageRef, newImageId: '', newImageRef: ref, oldConfig: found.config, wasRunning: found.state.Running, keepRootfs: !!req.KeepRootfs, addresses: {}, rollbackWindowMs: 0 });
    upgrades.finish(u.id, 'rolled-back', `pulling ${ref}: ${messageOf(e)}`);
    publish(cx, found, 'upgrade', { image: ref, oldImage: found.imageRef });
    publish(cx, found, 'upgrade-rollback', { image: ref, oldImage: found.imageRef, error: messageOf(e) });
    throw rolledBack(found.name, wrapPull(ref, e), false);
  }
  const [oldCfg, newCfg] = await Promise.all([imageConfigOrEmpty(cx, found.imageId), imageConfigOrEmpty(cx, img.id)]);
  const config = { ...upgradeConfig(found.config, oldCfg, newCfg, req), Image: ref };
  if (!config.Cmd?.length && !config.Entrypoint?.length) throw invalid(`upgrade: no command: image ${ref} has none and none was given`);
  publish(cx, found, 'upgrade', { image: ref, oldImage: found.imageRef });

  const c = cx.store.get(id);
  if (!c) throw conflict(`container ${found.name} was removed`);
  // A container waiting out its restart back-off counts as running: it
  // starts on the new image (or, rolled back, on the old one) now.
  const timer = cx.restartTimers.get(id);
  if (timer) {
    clearTimeout(timer);
    cx.restartTimers.delete(id);
  }
  const u = upgrades.begin({
    containerId: id,
    phase: 'prepared',
    startedAt: new Date().toISOString(),
    oldImageId: c.imageId,
    oldImageRef: c.imageRef,
    newImageId: img.id,
    newImageRef: ref,
    oldConfig: c.config,
    wasRunning: c.state.Running || c.state.Restarting,
    keepRootfs: !!req.KeepRootfs,
    addresses: cx.deps.networks?.addressesOf(c) ?? {},
    rollbackWindowMs: Math.ceil((req.RollbackWindow ?? 0) / 1e6),
  });
  const phase = (p: UpgradePhase): void => upgrades.setPhase(u.id, p);
  try {
    // The new rootfs, beside the old one while the container still runs.
    await cx.deps.snapshots.remove(newRootfsKey(id)).catch(() => undefined);
    await cx.deps.snapshots.prepare(newRootfsKey(id), img.chainId ?? undefined, { labels: { 'joey.container': c.name, 'joey.upgrade': String(u.id) } });
    await testPause('prepared');
    if (c.state.Running) {
      // A stop the restart policy leaves alone; the start below clears it.
      c.manuallyStopped = true;
      cx.store.save(c);
      await stopRunning(cx, c, {});
    }
    phase('stopped');
    await testPause('stopped');
    await cx.lock(id, async () => {
      const cur = cx.store.get(id)!;
      if (cur.state.Running) throw conflict('the container was started again during the upgrade');
      await unmountRootfs(cx, id);
      if (u.keepRootfs) await copyTree(await cx.deps.snapshots.upperDir(id), await cx.deps.snapshots.upperDir(newRootfsKey(id)));
      // The new image's VOLUMEs where the container has no mount: anonymous
      // volumes, as a container made from the new image would have. Its
      // own mounts stay as they are.
      const mounts = await cx.deps.volumes.prepareAdded(config.Volumes, cx.deps.volumes.mountsOf(id));
      // A crash from here to the swap leaves their directories without a
      // record: start-up removes them (Volumes.reconcile).
      await testPause('volumes');
      cur.config = config;
      cur.imageId = img.id;
      cur.imageRef = ref;
      try {
        cx.deps.db.transaction(() => {
          cx.deps.snapshots.rename(id, oldRootfsKey(id));
          cx.deps.snapshots.rename(newRootfsKey(id), id);
          cx.store.setImage(id, img.id, ref);
          cx.store.save(cur);
          if (mounts.created.length) {
            cx.deps.volumes.record(id, mounts);
            upgrades.setAddedVolumes(u.id, mounts.created.map((v) => v.name));
          }
          phase('swapped');
        });
      } catch (e) {
        await cx.deps.volumes.discard(mounts);
        throw e;
      }
      cx.deps.volumes.announce(mounts);
      await testPause('swapped');
      if (mounts.created.length) {
        // Filled from the new image's content at their paths, as at create.
        const made = new Set(mounts.created.map((v) => v.name));
        await cx.deps.volumes.populate(mounts.mounts.filter((m) => m.Name !== undefined && made.has(m.Name)), await mountRootfs(cx, id), id, mounts.created);
      }
      if (u.wasRunning) {
        await startLocked(cx, cur, { addresses: u.addresses });
        upgrades.started(u.id, cur.state.StartedAt);
      }
    });
    await testPause('started');
  } catch (e) {
    throw await undo(cx, upgrades, u.id, e);
  }
  return upgrades.get(u.id)!;
}

/** The end of an upgrade that got through its start: the rest of the
 * rollback window (until `endsAt`, ms since the epoch) watched, then the
 * upgrade committed, or rolled back on an exit or an unhealthy status. Start-up
 * calls it too, for a window a daemon restart interrupted. */
async function settle(cx: ContainerContext, upgrades: UpgradeStore, u: UpgradeRecord, endsAt: number): Promise<UpgradeResult> {
  if (endsAt > Date.now()) {
    let end: 'passed' | 'closing';
    try {
      end = await watchWindow(cx, u.containerId, endsAt);
    } catch (e) {
      throw await undo(cx, upgrades, u.id, e);
    }
    // The record stays in progress: the next start watches what is left.
    if (end === 'closing') throw unavailable(`joeyd is shutting down: the rest of the rollback window of the upgrade to ${u.newImageRef} is watched when it starts again`);
  }
  return commit(cx, upgrades, u);
}

async function commit(cx: ContainerContext, upgrades: UpgradeStore, u: UpgradeRecord): Promise<UpgradeResult> {
  const id = u.containerId;
  upgrades.finish(u.id, 'success');
  await cx.deps.snapshots.remove(oldRootfsKey(id)).catch((e) => {
    if (!is(e, 'not-found')) log.warn('removing the old rootfs after an upgrade failed', { container: id, err: e });
  });
  const name = cx.store.get(id)?.name ?? id;
  publish(cx, { id, name, imageRef: u.newImageRef }, 'upgrade-success', { image: u.newImageRef, oldImage: u.oldImageRef });
  return { Id: id, Image: u.newImageRef, ImageID: u.newImageId, PreviousImage: u.oldImageRef, PreviousImageID: u.oldImageId };
}

/** Rolls back after a failure on the way or inside the window; returns the error to throw. */
async function undo(cx: ContainerContext, upgrades: UpgradeStore, upgradeId: number, e: unknown): Promise<JoeyError> {
  const u = upgrades.get(upgradeId)!;
  const id = u.containerId;
  log.warn('upgrade failed: rolling back', { container: id, image: u.newImageRef, err: e });
  await rollback(cx, upgrades, u, messageOf(e)).catch((re) => log.error('rolling back an upgrade failed', { container: id, err: re }));
  const name = cx.store.get(id)?.name ?? id;
  publish(cx, { id, name, imageRef: u.oldImageRef }, 'upgrade-rollback', { image: u.newImageRef, oldImage: u.oldImageRef, error: messageOf(e) });
  return rolledBack(name, e, true);
}

function wrapPull(ref: string, e: unknown): JoeyError {
  return new JoeyError(kindOf(e), `pulling ${ref}: ${messageOf(e)}`, { cause: e });
}

/** Until `endsAt` (ms since the epoch): an exit or an unhealthy status
 * throws. 'closing' when the daemon shuts down first (checked before each
 * read, as the database closes after). */
async function watchWindow(cx: ContainerContext, id: string, endsAt: number): Promise<'passed' | 'closing'> {
  for (;;) {
    if (cx.closing) return 'closing';
    const c = cx.store.get(id);
    if (!c || (!c.state.Running && !c.state.Restarting)) throw new Error(`the container exited with code ${c?.state.ExitCode ?? '?'} within the rollback window`);
    if (c.state.Health?.Status === 'unhealthy') throw new Error('the container turned unhealthy within the rollback window');
    const left = endsAt - Date.now();
    if (left <= 0) return 'passed';
    await new Promise((r) => setTimeout(r, Math.min(left, 100)));
  }
}

/** Puts the old rootfs, image and config back and starts the container again
 * if it ran. Safe to repeat from any phase (start-up calls it too). */
async function rollback(cx: ContainerContext, upgrades: UpgradeStore, u: UpgradeRecord, error: string): Promise<void> {
  const id = u.containerId;
  let c = cx.store.get(id);
  if (!c) return;
  if (u.phase === 'swapped' || u.phase === 'started') {
    if (c.state.Running) {
      c.manuallyStopped = true;
      cx.store.save(c);
      await stopRunning(cx, c, { timeout: 0 });
    }
    await cx.lock(id, async () => {
      const cur = cx.store.get(id)!;
      await cx.runtimeOf(cur).delete(id, { force: true }).catch(() => undefined);
      await unmountRootfs(cx, id);
      cur.config = u.oldConfig;
      // The old rootfs is there unless a previous pass already swapped back.
      const swapBack = await cx.deps.snapshots.stat(oldRootfsKey(id)).then(() => true, () => false);
      cx.deps.db.transaction(() => {
        if (swapBack) {
          cx.deps.snapshots.rename(id, newRootfsKey(id));
          cx.deps.snapshots.rename(oldRootfsKey(id), id);
        }
        cur.imageId = u.oldImageId;
        cur.imageRef = u.oldImageRef;
        cx.store.setImage(id, u.oldImageId, u.oldImageRef);
        cx.store.save(cur);
        cx.deps.volumes.dropMounts(id, u.addedVolumes);
        upgrades.setPhase(u.id, 'stopped');
      });
    });
  }
  await cx.deps.snapshots.remove(newRootfsKey(id)).catch((e) => {
    if (!is(e, 'not-found')) log.warn('removing the new rootfs of a rolled-back upgrade failed', { container: id, err: e });
  });
  // The volumes made for the new image leave with it (the mounts went above).
  await cx.deps.volumes.removeUnusedAnonymous(u.addedVolumes);
  c = cx.store.get(id)!;
  let startError = '';
  if (u.wasRunning && !c.state.Running) {
    await cx
      .lock(id, async () => {
        const cur = cx.store.get(id)!;
        if (!cur.state.Running) await startLocked(cx, cur, { addresses: u.addresses });
      })
      .catch((e) => {
        startError = `; starting it again on ${u.oldImageRef} failed too: ${messageOf(e)}`;
      });
  }
  upgrades.finish(u.id, 'rolled-back', error + startError);
}

/** Start-up, before the containers' own recovery: a container with an
 * upgrade in progress is the upgrade's, so an exit found meanwhile starts
 * no restart by policy (recoverUpgrades decides what runs). */
export function claimInterruptedUpgrades(cx: ContainerContext): void {
  for (const u of new UpgradeStore(cx.deps.db).inProgress()) cx.upgrading.add(u.containerId);
}

/** Start-up, after the containers' own recovery: every upgrade a crash
 * interrupted is rolled back, completed, or (the new image runs and its
 * window is not over) watched for the rest of its window in the background
 * (upgrade-window.ts has the rules); upgrade snapshots nobody owns go. */
export async function recoverUpgrades(cx: ContainerContext): Promise<void> {
  const upgrades = new UpgradeStore(cx.deps.db);
  for (const u of upgrades.inProgress()) {
    const c = cx.store.get(u.containerId);
    if (!c) {
      cx.upgrading.delete(u.containerId);
      continue;
    }
    const plan = resumption(u, { running: c.state.Running, startedAt: c.state.StartedAt, finishedAt: c.state.FinishedAt, exitCode: c.state.ExitCode }, Date.now());
    if (plan.action === 'complete') {
      log.info('completing an upgrade interrupted after the new image started', { container: c.id, image: u.newImageRef });
      await commit(cx, upgrades, u).catch((e) => log.error('completing an interrupted upgrade failed', { container: c.id, err: e }));
      cx.upgrading.delete(c.id);
      continue;
    }
    if (plan.action === 'watch') {
      // The record may still say `swapped` (the crash came right after the start).
      if (u.phase === 'swapped') upgrades.started(u.id, c.state.StartedAt);
      log.info('watching the rest of the rollback window of an interrupted upgrade', { container: c.id, image: u.newImageRef, leftMs: plan.endsAt - Date.now() });
      cx.upgrading.add(c.id);
      void settle(cx, upgrades, upgrades.get(u.id)!, plan.endsAt)
        .catch(() => undefined) // logged, and recorded in the history
        .finally(() => cx.upgrading.delete(c.id));
      continue;
    }
    log.info('rolling back an upgrade interrupted by a daemon restart', { container: c.id, phase: u.phase, image: u.newImageRef, reason: plan.reason });
    cx.upgrading.add(c.id);
    try {
      await rollback(cx, upgrades, u, plan.reason);
    } catch (e) {
      log.error('rolling back an interrupted upgrade failed', { container: c.id, err: e });
    } finally {
      cx.upgrading.delete(c.id);
    }
    publish(cx, c, 'upgrade-rollback', { image: u.newImageRef, oldImage: u.oldImageRef, error: plan.reason });
  }
  const busy = new Set(upgrades.inProgress().map((u) => u.containerId));
  for await (const s of cx.deps.snapshots.walk()) {
    const m = UPGRADE_KEY_RE.exec(s.key);
    if (m && !busy.has(m[1]!)) await cx.deps.snapshots.remove(s.key).catch((e) => log.warn('removing a leftover upgrade snapshot failed', { key: s.key, err: e }));
  }
}
