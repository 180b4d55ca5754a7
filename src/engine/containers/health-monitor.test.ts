import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HealthMonitor, type HealthClock } from './health-monitor.ts';
import type { ContainerRecord } from './record.ts';
import { initialState } from './record.ts';
import type { HealthcheckConfig } from './health.ts';

/** Timers that fire only when the test advances time. */
class FakeClock implements HealthClock {
  t = Date.UTC(2024, 0, 1);
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.timers.delete(h as number);
  }
  pending(): number {
    return this.timers.size;
  }
  /** Moves time forward, firing due timers in order and letting promises settle between them. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await settle();
      const due = [...this.timers.entries()].filter(([, x]) => x.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.t = Math.max(this.t, due[1].at);
      due[1].fn();
    }
    this.t = end;
    await settle();
  }
}

const settle = async () => {
  for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
};

interface Probe {
  argv: string[];
  signal: AbortSignal;
  resolve: (r: { exitCode: number; output: string }) => void;
}

function setup(hc: HealthcheckConfig, opts: { autoExit?: number | (() => number) } = {}) {
  const clock = new FakeClock();
  const c: ContainerRecord = {
    id: 'c1', name: 'web', imageId: 'sha256:x', imageRef: 'img', createdAt: new Date(clock.t).toISOString(),
    config: { Healthcheck: hc }, hostConfig: {},
    state: { ...initialState(), Status: 'running', Running: true, StartedAt: new Date(clock.t).toISOString(), Health: { Status: 'starting', FailingStreak: 0, Log: [] } },
    runtime: 'runc', restartCount: 0, monitorPid: 1, monitorStart: null, manuallyStopped: false,
  };
  const events: string[] = [];
  const probes: Probe[] = [];
  let saves = 0;
  const mon = new HealthMonitor({
    clock,
    probe: (_c, argv, signal) =>
      new Promise((resolve) => {
        const p = { argv, signal, resolve };
        probes.push(p);
        signal.addEventListener('abort', () => resolve({ exitCode: 137, output: 'partial' }));
        if (opts.autoExit !== undefined) {
          const auto = opts.autoExit;
          clock.setTimeout(() => {
            const code = typeof auto === 'function' ? auto() : auto;
            resolve({ exitCode: code, output: `exit ${code}\n` });
          }, 5);
        }
      }),
    load: () => structuredClone(c),
    locked: async (_id, fn) => {
      const cur = structuredClone(c);
      fn(cur);
    },
    save: (x) => {
      saves++;
      c.state = x.state;
    },
    statusChanged: (_c, s) => events.push(s),
  });
  return { clock, c, mon, events, probes, saves: () => saves };
}

describe('HealthMonitor', () => {
  it('probes every interval, not at once, and reports status changes once', async () => {
    let code = 0;
    const { clock, c, mon, events, probes } = setup({ Test: ['CMD-SHELL', 'check'], Interval: 1e9, Retries: 2 }, { autoExit: () => code });
    mon.track('c1');
    await clock.advance(999);
    assert.equal(probes.length, 0);
    // Each probe takes 5 ms; the next one is an interval after it ended.
    await clock.advance(6);
    assert.deepEqual(probes[0]!.argv, ['/bin/sh', '-c', 'check']);
    assert.equal(c.state.Health!.Status, 'healthy');
    await clock.advance(1005);
    assert.equal(probes.length, 2);
    code = 1;
    await clock.advance(1005);
    assert.deepEqual([c.state.Health!.Status, c.state.Health!.FailingStreak], ['healthy', 1]);
    await clock.advance(1005);
    assert.deepEqual([c.state.Health!.Status, c.state.Health!.FailingStreak], ['unhealthy', 2]);
    await clock.advance(3015);
    assert.equal(probes.length, 7);
    assert.equal(c.state.Health!.Log.length, 5);
    assert.deepEqual(events, ['healthy', 'unhealthy']);
    assert.equal(c.state.Health!.Log.at(-1)!.Output, 'exit 1\n');
    mon.close();
  });

  it('kills a probe at the timeout and records ExitCode -1', async () => {
    const { clock, c, mon, events, probes } = setup({ Test: ['CMD', 'sleep', '5'], Interval: 100e6, Timeout: 200e6, Retries: 1 });
    mon.track('c1');
    await clock.advance(100);
    assert.equal(probes.length, 1);
    await clock.advance(199);
    assert.equal(probes[0]!.signal.aborted, false);
    await clock.advance(1);
    assert.equal(probes[0]!.signal.aborted, true);
    const last = c.state.Health!.Log.at(-1)!;
    assert.equal(last.ExitCode, -1);
    assert.equal(last.Output, 'Health check exceeded timeout (200ms): partial');
    assert.equal(Date.parse(last.End) - Date.parse(last.Start), 200);
    assert.equal(c.state.Health!.Status, 'unhealthy');
    assert.deepEqual(events, ['unhealthy']);
    mon.close();
  });

  it('uses the start interval during the start period, where failures do not count', async () => {
    const { clock, c, mon, probes } = setup({ Test: ['CMD', 'false'], Interval: 10e9, StartPeriod: 1e9, StartInterval: 100e6, Retries: 1 }, { autoExit: 1 });
    mon.track('c1');
    await clock.advance(950);
    // A probe every 100 ms (+5 ms each to run).
    assert.equal(probes.length, 9);
    assert.deepEqual([c.state.Health!.Status, c.state.Health!.FailingStreak], ['starting', 0]);
    await clock.advance(200);
    assert.deepEqual([c.state.Health!.Status, c.state.Health!.FailingStreak], ['unhealthy', 1]);
    // Out of the start period: the interval.
    const n = probes.length;
    await clock.advance(9000);
    assert.equal(probes.length, n);
    await clock.advance(1100);
    assert.equal(probes.length, n + 1);
    mon.close();
  });

  it('stops on untrack: the probe under way is killed and its result dropped', async () => {
    const { clock, c, mon, probes, saves } = setup({ Test: ['CMD', 'x'], Interval: 100e6 });
    mon.track('c1');
    await clock.advance(100);
    assert.equal(probes.length, 1);
    mon.untrack('c1');
    await clock.advance(0);
    assert.equal(probes[0]!.signal.aborted, true);
    assert.equal(saves(), 0);
    assert.equal(c.state.Health!.Log.length, 0);
    await clock.advance(10_000);
    assert.equal(probes.length, 1);
    assert.equal(mon.tracking('c1'), false);
  });

  it('stops by itself when the container is no longer running, and ignores a container without a probe', async () => {
    const { clock, c, mon, probes } = setup({ Test: ['CMD', 'x'], Interval: 100e6 }, { autoExit: 0 });
    mon.track('c1');
    await clock.advance(150);
    assert.equal(probes.length, 1);
    c.state = { ...c.state, Running: false, Status: 'exited' };
    await clock.advance(1000);
    assert.equal(probes.length, 1);
    assert.equal(mon.tracking('c1'), false);
    assert.equal(clock.pending(), 0);

    const none = setup({ Test: ['NONE'] });
    none.mon.track('c1');
    assert.equal(none.mon.tracking('c1'), false);
  });

  it('turns a probe that cannot run into a failed result', async () => {
    const { clock, c, mon } = setup({ Test: ['CMD', 'x'], Interval: 100e6, Retries: 1 });
    (mon as unknown as { deps: { probe: unknown } }).deps.probe = async () => {
      throw new Error('exec failed: no such file');
    };
    mon.track('c1');
    await clock.advance(100);
    assert.deepEqual(c.state.Health!.Log.map((l) => [l.ExitCode, l.Output]), [[-1, 'exec failed: no such file']]);
    mon.close();
  });
});
