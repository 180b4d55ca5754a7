// Start-up: re-attach to containers that kept running while joeyd was down,
// record the exits that happened meanwhile, resume --rm and restart policies,
// and remove what a crash left half-made.
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { log } from '../../util/log.ts';
import { processStartTime } from '../../sys/proc.ts';
import type { ContainerContext } from './context.ts';
import { unmountRootfs } from './rootfs.ts';

export async function recoverContainers(cx: ContainerContext, hooks: { exit: (id: string) => Promise<void>; remove: (id: string) => Promise<void> }): Promise<void> {
  const known = new Set<string>();
  for (const c of cx.store.all()) {
    known.add(c.id);
    if (!cx.deps.runtimes.has(c.runtime)) {
      // Left as recorded: its monitor (if any) keeps it running, and defining
      // the runtime again lets the next start-up take it back.
      log.warn('container of a runtime this daemon does not define: left as it is', { container: c.id, runtime: c.runtime });
      continue;
    }
    if (c.state.Status === 'removing') {
      // A removal interrupted by a crash: finish it.
      log.info('finishing an interrupted removal', { container: c.id });
      await hooks.remove(c.id).catch((e) => log.warn('finishing a removal failed', { container: c.id, err: e }));
      continue;
    }
    if (!c.state.Running) {
      if (c.state.Restarting) c.state = { ...c.state, Restarting: false, Status: 'exited' };
      // A start cut short after `runc create` leaves a created container
      // (and its conmon) behind: remove it before the rootfs goes.
      await cx.runtimeOf(c).delete(c.id, { force: true }).catch(() => undefined);
      await unmountRootfs(cx, c.id).catch(() => undefined);
      cx.store.save(c);
      continue;
    }
    const alive = c.monitorPid !== null && (await cx.runtimeOf(c).monitorAlive(c.monitorPid)) && (c.monitorStart === null || (await processStartTime(c.monitorPid).catch(() => undefined)) === c.monitorStart);
    if (alive) {
      log.debug('re-attached to a running container', { container: c.id, monitor: c.monitorPid });
      continue;
    }
    // The monitor is gone: the container exited while joeyd was down (its exit
    // file tells how), or its monitor died with it.
    await hooks.exit(c.id);
  }
  // Runtime state of containers with no record (killing what still runs).
  for (const rt of new Set(cx.deps.runtimes.values())) {
    for (const id of await rt.list().catch(() => [] as string[])) {
      if (known.has(id) || !/^[a-f0-9]{64}$/.test(id)) continue;
      log.info('removing a runtime container with no record', { container: id, runtime: rt.name });
      await rt.delete(id, { force: true }).catch((e) => log.warn('removing a runtime leftover failed', { container: id, err: e }));
    }
  }
  // Bundles and data directories of containers with no record: a create that
  // was interrupted before its record was written.
  for (const dir of [join(cx.deps.roots.execRoot, 'containers'), join(cx.deps.roots.dataRoot, 'containers')]) {
    let names: string[] = [];
    try {
      names = await readdir(dir);
    } catch {
      continue;
    }
    for (const id of names) {
      if (known.has(id) || !/^[a-f0-9]{64}$/.test(id)) continue;
      log.info('removing leftovers of an unfinished create', { container: id });
      await unmountRootfs(cx, id).catch(() => undefined);
      await rm(join(dir, id), { recursive: true, force: true }).catch(() => undefined);
      await cx.deps.snapshots.remove(id).catch(() => undefined);
    }
  }
  // Active snapshots labeled for a container that has no record.
  for await (const s of cx.deps.snapshots.walk()) {
    if (s.kind === 'active' && /^[a-f0-9]{64}$/.test(s.key) && !known.has(s.key)) {
      await cx.deps.snapshots.remove(s.key).catch(() => undefined);
    }
  }
}
