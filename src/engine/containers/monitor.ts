// Exits: conmon writes <exit-dir>/<id>; the daemon notices (a watch on that
// directory, plus a scan at start-up), records the exit, cleans the runtime
// side, then applies --rm or the restart policy with Docker's back-off.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { messageOf } from '../../errdefs/index.ts';
import { log } from '../../util/log.ts';
import type { ContainerContext } from './context.ts';
import type { ContainerRecord } from './record.ts';
import { unmountRootfs } from './rootfs.ts';

/** Records the exit of a container the runtime reports as gone. Idempotent. */
export async function handleExit(cx: ContainerContext, id: string, hooks: { remove: (id: string) => Promise<void>; restart: (c: ContainerRecord) => Promise<void> }): Promise<void> {
  let after: ContainerRecord | undefined;
  await cx.lock(id, async () => {
    const c = cx.store.get(id);
    if (!c || !c.state.Running) return;
    cx.health?.untrack(id);
    const rt = cx.runtimeOf(c);
    const paths = cx.paths(id);
    const code = (await rt.exitCode(id, { bundle: paths.bundle, persistDir: paths.persistDir, exitDir: paths.exitDir, logPath: paths.logPath }).catch(() => undefined)) ?? 255;
    const oom = await rt.oomKilled({ bundle: paths.bundle, persistDir: paths.persistDir, exitDir: paths.exitDir, logPath: paths.logPath }).catch(() => false);
    const exitedAt = (await rt.exitedAt?.(id, { bundle: paths.bundle, persistDir: paths.persistDir, exitDir: paths.exitDir, logPath: paths.logPath }).catch(() => undefined)) ?? new Date();
    // Independent once the process is gone: the runtime's state and cgroup
    // (and its poststop hooks), the rootfs mount, the exit file.
    let error = '';
    await Promise.all([
      rt.delete(id, { force: true }).catch((e) => {
        // runc has removed the container all the same (a failed poststop
        // hook is the usual cause): the exit stands, with the reason shown.
        error = messageOf(e);
        log.warn('runtime delete after exit failed', { container: id, err: e });
      }),
      unmountRootfs(cx, id).catch((e) => log.warn('unmounting rootfs after exit failed', { container: id, err: e })),
      rm(join(paths.exitDir, id), { force: true }),
      cx.deps.networks?.detach(c).catch((e) => log.warn('releasing the network after exit failed', { container: id, err: e })),
    ]);
    // The exit file's time has the file system's coarse clock: a process that
    // ran for less than a tick could seem to end before it started.
    const started = Date.parse(c.state.StartedAt);
    const finished = Number.isNaN(started) || exitedAt.getTime() >= started ? exitedAt : new Date(started);
    c.state = { ...c.state, Status: 'exited', Running: false, Paused: false, Restarting: false, Pid: 0, ExitCode: code, OOMKilled: oom, Error: error, FinishedAt: finished.toISOString() };
    if (c.state.Health) c.state.Health = { ...c.state.Health, Status: 'unhealthy' };
    c.monitorPid = null;
    c.monitorStart = null;
    cx.store.save(c);
    const attrs: Record<string, string> = { name: c.name, image: c.imageRef, exitCode: String(code), ...(c.config.Labels ?? {}) };
    if (error) attrs.error = error;
    if (oom) cx.deps.events.publish({ Type: 'container', Action: 'oom', Actor: { ID: id, Attributes: attrs }, status: 'oom', id, from: c.imageRef });
    cx.deps.events.publish({ Type: 'container', Action: 'die', Actor: { ID: id, Attributes: attrs }, status: 'die', id, from: c.imageRef });
    cx.notifyExit(id, code);
    after = c;
  });
  if (!after || cx.closing || cx.upgrading.has(id)) return;
  const c = after;
  if (c.hostConfig.AutoRemove) {
    await hooks.remove(c.id).catch((e) => log.warn('auto-remove failed', { container: c.id, err: e }));
    return;
  }
  if (shouldRestart(c)) scheduleRestart(cx, c, hooks.restart);
}

export function shouldRestart(c: ContainerRecord): boolean {
  const p = c.hostConfig.RestartPolicy ?? { Name: 'no' };
  if (c.manuallyStopped) return false;
  switch (p.Name) {
    case 'always':
    case 'unless-stopped':
      return true;
    case 'on-failure':
      return c.state.ExitCode !== 0 && (!p.MaximumRetryCount || c.restartCount < p.MaximumRetryCount);
    default:
      return false;
  }
}

/** Docker's back-off: 100 ms doubling per restart, capped at a minute, reset
 * when the container ran for at least 10 s. */
export function restartDelay(c: ContainerRecord): number {
  const ranMs = Date.parse(c.state.FinishedAt) - Date.parse(c.state.StartedAt);
  if (ranMs >= 10_000) return 100;
  return Math.min(100 * 2 ** Math.min(c.restartCount, 10), 60_000);
}

export function scheduleRestart(cx: ContainerContext, c: ContainerRecord, restart: (c: ContainerRecord) => Promise<void>): void {
  const delay = restartDelay(c);
  c.state = { ...c.state, Status: 'restarting', Restarting: true };
  cx.store.save(c);
  const timer = setTimeout(() => {
    cx.restartTimers.delete(c.id);
    restart(c).catch((e) => log.warn('restart failed', { container: c.id, err: e }));
  }, delay);
  timer.unref();
  cx.restartTimers.set(c.id, timer);
}
