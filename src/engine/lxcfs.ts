// LXCFS for containers that ask for it (HostConfig.EnableLxcfs): their
// /proc/meminfo, cpuinfo, stat, uptime, diskstats, swaps, loadavg and
// /sys/devices/system/cpu/online are lxcfs's, which show the container's
// own limits. joeyd uses the lxcfs mounted at its home, or starts one there
// (detached: it outlives joeyd, as the containers do), and keeps it alive: a
// watch every second notices an lxcfs that died (its mount answers ENOTCONN)
// or was replaced (a new mount), starts it again if need be, and binds the
// new files over the dead ones inside every running container that uses it,
// without restarting them.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { invalid, messageOf, unavailable } from '../errdefs/index.ts';
import type { OciMount } from '../runtime/spec/index.ts';
import { detectHost } from '../runtime/spec/host.ts';
import { parseCpuList } from '../runtime/spec/resources.ts';
import { CpuPinner, type PinnedUser } from './lxcfs-cpus.ts';
import { LXCFS_FILES, bindLxcfsInto, lxcfsPid, lxcfsState, mountDevice, startLxcfs } from '../sys/lxcfs.ts';
import { unmount } from '../sys/mount.ts';
import { isAlive } from '../sys/proc.ts';
import { log } from '../util/log.ts';

export interface LxcfsConfig {
  /** Where lxcfs is (or gets) mounted (--lxcfs-home). */
  home: string;
  /** The lxcfs binary (--lxcfs). */
  binary: string;
  /** Pid file and log of the lxcfs joeyd starts. */
  pidfile: string;
  logFile: string;
  /** Give containers with a CPU quota a cpuset of as many CPUs (lxcfs-cpus.ts). */
  pinCpus: boolean;
}

/** The running containers that use lxcfs (id, pid of their init). */
export type LxcfsUsers = () => PinnedUser[];

export class LxcfsService {
  private device: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;
  private lastError: string | undefined;
  private readonly pinner: CpuPinner;

  constructor(
    readonly cfg: LxcfsConfig,
    private readonly users: LxcfsUsers,
    online: () => number[] = () => [...(parseCpuList(detectHost().cpusOnline) ?? [])],
  ) {
    this.pinner = new CpuPinner(online, users);
  }

  /** The cpuset for a container with this CPU quota (see lxcfs-cpus.ts), or
   * undefined when the daemon does not pin (--lxcfs-pin-cpus=false). */
  async cpusFor(id: string, quota: number, period: number): Promise<string | undefined> {
    return this.cfg.pinCpus ? this.pinner.cpusFor(id, quota, period) : undefined;
  }

  /** Adopts the lxcfs at home or starts one; then watches it. */
  async open(): Promise<void> {
    await mkdir(this.cfg.home, { recursive: true });
    // An lxcfs that cannot start is not the daemon's end: containers that
    // ask for it get the reason at their start, and the watch keeps trying.
    if ((await lxcfsState(this.cfg.home)) !== 'up') await this.revive().catch((e) => this.failed(e));
    this.device = await mountDevice(this.cfg.home);
    // Containers that ran through a restart of joeyd and lxcfs both.
    await this.heal();
    this.timer = setInterval(() => void this.check(), 1000);
    this.timer.unref();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The spec's bind mounts of lxcfs's files. */
  mounts(): OciMount[] {
    return LXCFS_FILES.map(([src, dst]) => ({ destination: dst, type: 'bind', source: join(this.cfg.home, src), options: ['bind', 'ro', 'nosuid', 'nodev', 'noexec'] }));
  }

  /** Before a start: lxcfs answers, or is brought back, or the start fails saying why. */
  async ensure(): Promise<void> {
    await this.check();
    const state = await lxcfsState(this.cfg.home);
    if (state !== 'up') throw unavailable(`lxcfs is not available at ${this.cfg.home} (${state === 'down' ? 'its mount does not answer' : 'not mounted'}${this.lastError ? `: ${this.lastError}` : ''}); the container asked for it (EnableLxcfs)`);
  }

  /** One look; runs alone (the timer and a start may ask at once). */
  check(): Promise<void> {
    this.checking ??= this.checkOnce().finally(() => (this.checking = undefined));
    return this.checking;
  }

  private async checkOnce(): Promise<void> {
    try {
      const state = await lxcfsState(this.cfg.home);
      if (state !== 'up') {
        log.warn('lxcfs is gone, starting it again', { home: this.cfg.home, state });
        await this.revive();
      }
      const dev = await mountDevice(this.cfg.home);
      if (dev !== this.device) {
        this.device = dev;
        await this.heal();
      }
      this.lastError = undefined;
    } catch (e) {
      this.failed(e);
    }
  }

  /** Logs a failure once, not at every look while it lasts. */
  private failed(e: unknown): void {
    const msg = messageOf(e);
    if (msg !== this.lastError) log.error('keeping lxcfs alive failed', { home: this.cfg.home, err: msg });
    this.lastError = msg;
  }

  /** Clears a dead mount and starts lxcfs (once the old one is gone: it holds its pid file). */
  private async revive(): Promise<void> {
    if ((await lxcfsState(this.cfg.home)) === 'down') await unmount(this.cfg.home, { lazy: true }).catch(() => undefined);
    const old = await lxcfsPid(this.cfg.pidfile);
    for (let i = 0; old && i < 100 && (await isAlive(old)); i++) await new Promise((r) => setTimeout(r, 50));
    const pid = await startLxcfs(this.cfg);
    log.info('lxcfs started', { home: this.cfg.home, pid });
  }

  /** Binds the current files into every running container that uses lxcfs. */
  private async heal(): Promise<void> {
    const pids = this.users().map((u) => u.pid);
    const results = await Promise.allSettled(pids.map((pid) => bindLxcfsInto(pid, this.cfg.home)));
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    for (const f of failed) log.warn('restoring lxcfs files in a container failed', { err: messageOf(f.reason) });
    if (pids.length) log.info('lxcfs files restored in running containers', { containers: pids.length - failed.length, failed: failed.length });
  }
}

/** The error for a container that asks for lxcfs on a daemon without it. */
export function lxcfsNotEnabled(): Error {
  return invalid('lxcfs is not enabled on this daemon: start joeyd with --enable-lxcfs to use --enableLxcfs (HostConfig.EnableLxcfs)');
}
