// Health checks, the scheduling: one timer per running container with a
// probe, inside joeyd (no process per container). Each tick runs one probe
// (an exec in the container, health-probe.ts), cuts it off at the timeout,
// and records the result under the container's lock. Probing stops when the
// container exits, pauses or is removed, and when the daemon closes; start-up
// resumes it for containers that kept running.
import { messageOf } from '../../errdefs/index.ts';
import { log } from '../../util/log.ts';
import { applyProbeResult, nextDelay, probeSettings, timeoutOutput, type ProbeSettings } from './health.ts';
import type { ContainerRecord } from './record.ts';

export interface HealthClock {
  /** Epoch milliseconds (may be fractional). */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: HealthClock = {
  now: () => performance.timeOrigin + performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** Runs `argv` in the container; on `signal` it kills the process. Resolves
 * with the exit code and the (truncated) output, once the process is gone. */
export type RunProbe = (c: ContainerRecord, argv: string[], signal: AbortSignal) => Promise<{ exitCode: number; output: string }>;

export interface HealthMonitorDeps {
  clock: HealthClock;
  probe: RunProbe;
  /** The container's current record. */
  load(id: string): ContainerRecord | undefined;
  /** Runs fn on the fresh record under the container's lock. */
  locked(id: string, fn: (c: ContainerRecord | undefined) => void): Promise<void>;
  save(c: ContainerRecord): void;
  /** health_status: <status> */
  statusChanged(c: ContainerRecord, status: string): void;
}

/** After a kill, how long to wait for a probe to go before recording the timeout anyway. */
const KILL_GRACE_MS = 10_000;

interface Watch {
  startedAt: string;
  timer?: unknown;
  abort?: AbortController;
  stopped: boolean;
}

export class HealthMonitor {
  private readonly watches = new Map<string, Watch>();

  constructor(private readonly deps: HealthMonitorDeps) {}

  /** Starts (or restarts) probing a running container; a no-op for one without a probe. */
  track(id: string): void {
    this.untrack(id);
    const c = this.deps.load(id);
    if (!c || !c.state.Running || c.state.Paused || !probeSettings(c.config)) return;
    const w: Watch = { startedAt: c.state.StartedAt, stopped: false };
    this.watches.set(id, w);
    this.schedule(id, w, c);
  }

  /** Stops probing; a probe under way is killed and its result dropped. */
  untrack(id: string): void {
    const w = this.watches.get(id);
    if (!w) return;
    this.watches.delete(id);
    w.stopped = true;
    if (w.timer !== undefined) this.deps.clock.clearTimeout(w.timer);
    w.abort?.abort();
  }

  tracking(id: string): boolean {
    return this.watches.has(id);
  }

  close(): void {
    for (const id of [...this.watches.keys()]) this.untrack(id);
  }

  private schedule(id: string, w: Watch, c: ContainerRecord): void {
    const s = probeSettings(c.config)!;
    const delay = nextDelay(s, c.state.Health, Date.parse(w.startedAt), this.deps.clock.now());
    w.timer = this.deps.clock.setTimeout(() => {
      w.timer = undefined;
      void this.tick(id, w).catch((e) => log.warn('health check failed', { container: id, err: e }));
    }, delay);
  }

  private async tick(id: string, w: Watch): Promise<void> {
    if (w.stopped) return;
    const c = this.deps.load(id);
    const s = c && probeSettings(c.config);
    if (!c || !s || !c.state.Running || c.state.Paused || c.state.StartedAt !== w.startedAt) {
      if (this.watches.get(id) === w) this.untrack(id);
      return;
    }
    const result = await this.runOnce(c, s, w);
    if (w.stopped) return;
    await this.deps.locked(id, (cur) => {
      if (w.stopped || !cur || !cur.state.Running || cur.state.StartedAt !== w.startedAt) return;
      const before = cur.state.Health ?? { Status: 'starting' as const, FailingStreak: 0, Log: [] };
      const after = applyProbeResult(before, result, s, Date.parse(cur.state.StartedAt));
      cur.state = { ...cur.state, Health: after };
      this.deps.save(cur);
      if (after.Status !== before.Status) this.deps.statusChanged(cur, after.Status);
    });
    if (w.stopped) return;
    const fresh = this.deps.load(id);
    if (fresh) this.schedule(id, w, fresh);
  }

  /** One probe with its timeout. A probe that cannot run at all is a failure
   * with the error as output (ExitCode -1), as in dockerd. */
  private async runOnce(c: ContainerRecord, s: ProbeSettings, w: Watch) {
    const { clock } = this.deps;
    const startMs = clock.now();
    const abort = new AbortController();
    w.abort = abort;
    let timedOut = false;
    const timer = clock.setTimeout(() => {
      timedOut = true;
      abort.abort();
    }, s.timeoutMs);
    const probe = this.deps.probe(c, s.argv, abort.signal).then(
      (r) => r,
      (e) => ({ exitCode: -1, output: messageOf(e) }),
    );
    // After a kill, give the probe a bounded time to go.
    const gone = new Promise<{ exitCode: number; output: string }>((resolve) => {
      abort.signal.addEventListener('abort', () => clock.setTimeout(() => resolve({ exitCode: -1, output: '' }), KILL_GRACE_MS), { once: true });
    });
    const r = await Promise.race([probe, gone]);
    clock.clearTimeout(timer);
    w.abort = undefined;
    const endMs = clock.now();
    if (timedOut) return { startMs, endMs, exitCode: -1, output: timeoutOutput(s.timeoutMs, r.output) };
    return { startMs, endMs, exitCode: r.exitCode, output: r.output };
  }
}
