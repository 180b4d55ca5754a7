// The ContainerService: each method is one operation module.
import type { Readable } from 'node:stream';
import type { Filters } from '../../images/types.ts';
import { log } from '../../util/log.ts';
import { archiveGet, archivePut, archiveStat, exportContainer } from './archive.ts';
import { attachContainer } from './attach.ts';
import { containerChanges } from './changes.ts';
import { cleanupViews } from './fs-view.ts';
import { commitContainer, type CommitOptions } from './commit.ts';
import type { ContainerContext } from './context.ts';
import { createContainer } from './create.ts';
import { execCreate, execInspect, execKill, execResize, execStart } from './exec.ts';
import { containerLogs } from './logs.ts';
import { reopenContainerLog, startLogRotation } from './logrotate.ts';
import { pauseContainer, renameContainer, resizeContainer, topContainer, unpauseContainer, updateContainer } from './manage.ts';
import { HealthMonitor, realClock } from './health-monitor.ts';
import { execProbe } from './health-probe.ts';
import { handleExit } from './monitor.ts';
import { inspectContainer, listContainers } from './query.ts';
import type { ContainerRecord } from './record.ts';
import { recoverContainers } from './recover.ts';
import { pruneContainers, removeContainer } from './remove.ts';
import { startLocked } from './start.ts';
import { startContainer } from './start.ts';
import { containerStats } from './stats.ts';
import { killContainer, restartContainer, stopContainer } from './stop.ts';
import type { ContainerService, CreateRequest, ExecConfig, HostConfig, LogOptions } from './types.ts';
import { waitContainer } from './wait.ts';
import { claimInterruptedUpgrades, recoverUpgrades, upgradeContainer } from './upgrade.ts';
import type { AuthConfig } from '../../remotes/types.ts';

export class Containers implements ContainerService {
  private stopWatching?: () => void;
  private stopRotating?: () => void;

  constructor(readonly cx: ContainerContext) {
    cx.exitSeen = (id) => void this.onExit(id);
    cx.health = new HealthMonitor({
      clock: realClock,
      probe: execProbe(cx),
      load: (id) => cx.store.get(id),
      locked: (id, fn) => cx.lock(id, async () => fn(cx.store.get(id))),
      save: (c) => cx.store.save(c),
      statusChanged: (c, status) =>
        cx.deps.events.publish({ Type: 'container', Action: `health_status: ${status}`, Actor: { ID: c.id, Attributes: { name: c.name, image: c.imageRef, ...(c.config.Labels ?? {}) } }, status: `health_status: ${status}`, id: c.id, from: c.imageRef }),
    });
  }

  /** Start-up: re-attach, record missed exits, then watch for new ones. */
  async init(watchExits: (dir: string, onExit: (id: string) => void) => () => void): Promise<void> {
    // First: an exit seen from here on must not restart a container an interrupted upgrade owns.
    claimInterruptedUpgrades(this.cx);
    const exitDir = this.cx.paths('x').exitDir;
    await (await import('node:fs/promises')).mkdir(exitDir, { recursive: true, mode: 0o700 });
    this.stopWatching = watchExits(exitDir, (id) => void this.onExit(id));
    this.stopRotating = startLogRotation(this.cx);
    await cleanupViews(this.cx);
    await recoverContainers(this.cx, { exit: (id) => this.onExit(id), remove: (id) => removeContainer(this.cx, id, { force: true }) });
    // Before restarts by policy: an interrupted upgrade decides what runs.
    await recoverUpgrades(this.cx);
    // Live restore: probing resumes where it was (status and streak kept).
    for (const c of this.cx.store.all()) if (c.state.Running && !c.state.Paused) this.cx.health?.track(c.id);
    // Docker's rule at daemon start: `always` containers start whatever their
    // state; `unless-stopped` ones unless a user stopped them.
    for (const c of this.cx.store.all()) {
      const policy = c.hostConfig.RestartPolicy?.Name;
      if (c.state.Running || c.state.Restarting || this.cx.upgrading.has(c.id)) continue;
      if (policy === 'always' || (policy === 'unless-stopped' && !c.manuallyStopped)) {
        void this.cx
          .lock(c.id, async () => {
            const cur = this.cx.store.get(c.id);
            if (cur && !cur.state.Running) await startLocked(this.cx, cur);
          })
          .catch((e) => log.warn('starting a container at daemon start failed', { container: c.id, err: e }));
      }
    }
  }

  close(): void {
    this.cx.closing = true;
    this.stopWatching?.();
    this.stopRotating?.();
    this.cx.health?.close();
    for (const t of this.cx.restartTimers.values()) clearTimeout(t);
  }

  private onExit(id: string): Promise<void> {
    return handleExit(this.cx, id, {
      // --rm: anonymous volumes go too, as with dockerd's auto-remove.
      remove: (cid) => removeContainer(this.cx, cid, { force: true, volumes: true }),
      restart: (c) => this.policyRestart(c),
    }).catch((e) => log.warn('handling an exit failed', { container: id, err: e }));
  }

  private async policyRestart(c: ContainerRecord): Promise<void> {
    await this.cx.lock(c.id, async () => {
      const cur = this.cx.store.get(c.id);
      if (!cur || cur.state.Running || cur.manuallyStopped || this.cx.closing) return;
      cur.restartCount++;
      await startLocked(this.cx, cur).catch((e) => log.warn('restart by policy failed', { container: c.id, err: e }));
    });
  }

  create(req: CreateRequest, opts?: { name?: string; platform?: string }) {
    return createContainer(this.cx, req, opts);
  }
  start(idOrName: string) {
    return startContainer(this.cx, idOrName, { remove: (id) => removeContainer(this.cx, id, { force: true, volumes: true }) });
  }
  stop(idOrName: string, opts?: { timeout?: number; signal?: string }) {
    return stopContainer(this.cx, idOrName, opts);
  }
  restart(idOrName: string, opts?: { timeout?: number; signal?: string }) {
    return restartContainer(this.cx, idOrName, opts);
  }
  kill(idOrName: string, signal?: string) {
    return killContainer(this.cx, idOrName, signal);
  }
  remove(idOrName: string, opts?: { force?: boolean; volumes?: boolean; link?: boolean }) {
    return removeContainer(this.cx, idOrName, opts);
  }
  pause(idOrName: string) {
    return pauseContainer(this.cx, idOrName);
  }
  unpause(idOrName: string) {
    return unpauseContainer(this.cx, idOrName);
  }
  rename(idOrName: string, newName: string) {
    return renameContainer(this.cx, idOrName, newName);
  }
  wait(idOrName: string, opts?: { condition?: 'not-running' | 'next-exit' | 'removed'; signal?: AbortSignal }) {
    return waitContainer(this.cx, idOrName, opts);
  }
  update(idOrName: string, update: HostConfig) {
    return updateContainer(this.cx, idOrName, update);
  }
  list(opts?: { all?: boolean; limit?: number; size?: boolean; filters?: Filters }) {
    return listContainers(this.cx, opts);
  }
  inspect(idOrName: string, opts?: { size?: boolean }) {
    return inspectContainer(this.cx, idOrName, opts);
  }
  top(idOrName: string, psArgs?: string) {
    return topContainer(this.cx, idOrName, psArgs);
  }
  stats(idOrName: string, opts: { stream: boolean; oneShot?: boolean; signal?: AbortSignal }) {
    return containerStats(this.cx, idOrName, opts);
  }
  logs(idOrName: string, opts: LogOptions & { signal?: AbortSignal }) {
    return containerLogs(this.cx, idOrName, opts);
  }
  export(idOrName: string) {
    return exportContainer(this.cx, idOrName);
  }
  archiveStat(idOrName: string, path: string) {
    return archiveStat(this.cx, idOrName, path);
  }
  archiveGet(idOrName: string, path: string) {
    return archiveGet(this.cx, idOrName, path);
  }
  archivePut(idOrName: string, path: string, tar: Readable, opts?: { noOverwriteDirNonDir?: boolean; copyUIDGID?: boolean }) {
    return archivePut(this.cx, idOrName, path, tar, opts);
  }
  changes(idOrName: string) {
    return containerChanges(this.cx, idOrName);
  }
  commit(opts: CommitOptions) {
    return commitContainer(this.cx, opts);
  }
  upgrade(idOrName: string, req: unknown, opts?: { auth?: AuthConfig; signal?: AbortSignal }) {
    return upgradeContainer(this.cx, idOrName, req, opts);
  }
  prune(filters?: Filters) {
    return pruneContainers(this.cx, filters);
  }
  attach(idOrName: string, opts: { stdin?: boolean; stdout?: boolean; stderr?: boolean; stream?: boolean; logs?: boolean; detachKeys?: string }) {
    return attachContainer(this.cx, idOrName, opts);
  }
  resize(idOrName: string, height: number, width: number) {
    return resizeContainer(this.cx, idOrName, height, width);
  }
  execCreate(idOrName: string, cfg: ExecConfig) {
    return execCreate(this.cx, idOrName, cfg);
  }
  execStart(execId: string, opts: { Detach?: boolean; Tty?: boolean; ConsoleSize?: [number, number] | null }) {
    return execStart(this.cx, execId, opts);
  }
  execInspect(execId: string) {
    return execInspect(this.cx, execId);
  }
  execResize(execId: string, height: number, width: number) {
    return execResize(this.cx, execId, height, width);
  }
  execKill(execId: string) {
    return execKill(this.cx, execId);
  }
  reopenLog(idOrName: string) {
    return reopenContainerLog(this.cx, idOrName);
  }
}
