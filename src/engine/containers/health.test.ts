import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  LimitedOutput,
  applyProbeResult,
  goDuration,
  initialHealth,
  mergeHealthcheck,
  nextDelay,
  probeSettings,
  rfc3339Nano,
  timeoutOutput,
  validateHealthcheck,
  type ProbeSettings,
} from './health.ts';
import type { HealthState } from './types.ts';

const S = (over: Partial<ProbeSettings> = {}): ProbeSettings => ({ argv: ['true'], intervalMs: 1000, timeoutMs: 1000, startPeriodMs: 0, startIntervalMs: 100, retries: 3, ...over });
const starting = (): HealthState => ({ Status: 'starting', FailingStreak: 0, Log: [] });
const res = (startMs: number, exitCode: number, output = '') => ({ startMs, endMs: startMs + 5, exitCode, output });

describe('health settings', () => {
  it('applies Docker defaults and converts nanoseconds', () => {
    assert.deepEqual(probeSettings({ Healthcheck: { Test: ['CMD-SHELL', 'curl -f localhost'] } }), {
      argv: ['/bin/sh', '-c', 'curl -f localhost'], intervalMs: 30_000, timeoutMs: 30_000, startPeriodMs: 0, startIntervalMs: 5_000, retries: 3,
    });
    const s = probeSettings({ Healthcheck: { Test: ['CMD', 'test', '-f', '/ok'], Interval: 200e6, Timeout: 1e9, Retries: 2, StartPeriod: 30e9, StartInterval: 50e6 } })!;
    assert.deepEqual(s, { argv: ['test', '-f', '/ok'], intervalMs: 200, timeoutMs: 1000, startPeriodMs: 30_000, startIntervalMs: 50, retries: 2 });
  });

  it('probes no slower than the interval in the start period when no start interval is set', () => {
    assert.equal(probeSettings({ Healthcheck: { Test: ['CMD', 'x'], Interval: 100e6, StartPeriod: 30e9 } })!.startIntervalMs, 100);
    assert.equal(probeSettings({ Healthcheck: { Test: ['CMD', 'x'], Interval: 60e9, StartPeriod: 30e9 } })!.startIntervalMs, 5000);
  });

  it('runs CMD-SHELL with the image SHELL when there is one', () => {
    assert.deepEqual(probeSettings({ Shell: ['/bin/bash', '-ec'], Healthcheck: { Test: ['CMD-SHELL', 'x'] } })!.argv, ['/bin/bash', '-ec', 'x']);
  });

  it('has no probe for NONE, an empty test or an unknown type', () => {
    assert.equal(probeSettings({ Healthcheck: { Test: ['NONE'] } }), undefined);
    assert.equal(probeSettings({ Healthcheck: {} }), undefined);
    assert.equal(probeSettings({ Healthcheck: { Test: ['WHAT', 'x'] } }), undefined);
    assert.equal(probeSettings({}), undefined);
    assert.equal(initialHealth({ Healthcheck: { Test: ['NONE'] } }, undefined), undefined);
  });

  it('starts as "starting" and keeps the log of the last run, as dockerd', () => {
    const prev: HealthState = { Status: 'unhealthy', FailingStreak: 4, Log: [{ Start: 'a', End: 'b', ExitCode: 1, Output: '' }] };
    assert.deepEqual(initialHealth({ Healthcheck: { Test: ['CMD', 'true'] } }, prev), { Status: 'starting', FailingStreak: 0, Log: prev.Log });
    assert.deepEqual(initialHealth({ Healthcheck: { Test: ['CMD', 'true'] } }, undefined), starting());
  });

  it('refuses what dockerd refuses', () => {
    assert.throws(() => validateHealthcheck({ Interval: 500 }), /Interval in Healthcheck cannot be less than 1ms/);
    assert.throws(() => validateHealthcheck({ StartInterval: 10 }), /StartInterval in Healthcheck/);
    assert.throws(() => validateHealthcheck({ Retries: -1 }), /Retries in Healthcheck cannot be negative/);
    validateHealthcheck({ Interval: 0, Timeout: 1e6, Retries: 0 });
    validateHealthcheck(undefined);
  });

  it('fills what the container leaves unset from the image', () => {
    const image = { Test: ['CMD', 'img'], Interval: 5e9, Retries: 7 };
    assert.deepEqual(mergeHealthcheck(image, { Interval: 1e9 }), { Test: ['CMD', 'img'], Interval: 1e9, Timeout: undefined, StartPeriod: undefined, StartInterval: undefined, Retries: 7 });
    assert.deepEqual(mergeHealthcheck(image, { Test: ['NONE'] })!.Test, ['NONE']);
    assert.equal(mergeHealthcheck(image, undefined), image);
    assert.deepEqual(mergeHealthcheck(undefined, { Test: ['CMD', 'x'] }), { Test: ['CMD', 'x'] });
  });
});

describe('health state machine', () => {
  it('turns healthy on success and unhealthy after `retries` failures in a row', () => {
    const s = S({ retries: 2 });
    let h = applyProbeResult(starting(), res(10, 0, 'ok'), s, 0);
    assert.equal(h.Status, 'healthy');
    h = applyProbeResult(h, res(20, 1), s, 0);
    assert.deepEqual([h.Status, h.FailingStreak], ['healthy', 1]);
    h = applyProbeResult(h, res(30, 1), s, 0);
    assert.deepEqual([h.Status, h.FailingStreak], ['unhealthy', 2]);
    h = applyProbeResult(h, res(40, 2), s, 0);
    assert.deepEqual([h.Status, h.FailingStreak], ['unhealthy', 3]);
    h = applyProbeResult(h, res(50, 0), s, 0);
    assert.deepEqual([h.Status, h.FailingStreak], ['healthy', 0]);
  });

  it('goes from starting straight to unhealthy without a success', () => {
    let h = starting();
    for (let i = 0; i < 3; i++) h = applyProbeResult(h, res(i * 10, 1), S(), 0);
    assert.deepEqual([h.Status, h.FailingStreak], ['unhealthy', 3]);
  });

  it('does not count failures that start within the start period', () => {
    const s = S({ retries: 1, startPeriodMs: 1000 });
    let h = starting();
    for (const t of [100, 500, 999]) h = applyProbeResult(h, res(t, 1), s, 0);
    assert.deepEqual([h.Status, h.FailingStreak, h.Log.length], ['starting', 0, 3]);
    h = applyProbeResult(h, res(1000, 1), s, 0);
    assert.deepEqual([h.Status, h.FailingStreak], ['unhealthy', 1]);
  });

  it('ends the start period at the first success', () => {
    const s = S({ retries: 1, startPeriodMs: 10_000 });
    let h = applyProbeResult(starting(), res(100, 0), s, 0);
    h = applyProbeResult(h, res(200, 1), s, 0);
    assert.deepEqual([h.Status, h.FailingStreak], ['unhealthy', 1]);
  });

  it('keeps the last five results with RFC 3339 times', () => {
    let h = starting();
    for (let i = 0; i < 8; i++) h = applyProbeResult(h, res(Date.UTC(2024, 0, 1) + i * 1000, 0, `r${i}`), S(), 0);
    assert.deepEqual(h.Log.map((l) => l.Output), ['r3', 'r4', 'r5', 'r6', 'r7']);
    assert.equal(h.Log[0]!.Start, '2024-01-01T00:00:03Z');
    assert.equal(h.Log[0]!.End, '2024-01-01T00:00:03.005Z');
  });

  it('probes at the start interval while starting within the start period', () => {
    const s = S({ intervalMs: 1000, startIntervalMs: 100, startPeriodMs: 5000 });
    assert.equal(nextDelay(s, starting(), 0, 10), 100);
    assert.equal(nextDelay(s, { ...starting(), Status: 'healthy' }, 0, 10), 1000);
    assert.equal(nextDelay(s, starting(), 0, 5000), 1000);
    assert.equal(nextDelay(S(), starting(), 0, 0), 1000);
  });
});

describe('health output', () => {
  it('keeps 4096 bytes and marks the cut', () => {
    const o = new LimitedOutput();
    o.write(Buffer.alloc(4000, 'a'));
    o.write(Buffer.alloc(200, 'b'));
    o.write(Buffer.from('c'));
    const s = o.toString();
    assert.equal(s.length, 4096 + 3);
    assert.ok(s.endsWith('b...'));
    const small = new LimitedOutput();
    small.write(Buffer.from('hello\n'));
    assert.equal(small.toString(), 'hello\n');
  });

  it('words a timeout as dockerd does', () => {
    assert.equal(timeoutOutput(200, ''), 'Health check exceeded timeout (200ms)');
    assert.equal(timeoutOutput(30_000, 'partial'), 'Health check exceeded timeout (30s): partial');
  });

  it('prints durations as Go does', () => {
    assert.equal(goDuration(0), '0s');
    assert.equal(goDuration(1500), '1.5µs');
    assert.equal(goDuration(200e6), '200ms');
    assert.equal(goDuration(1.5e9), '1.5s');
    assert.equal(goDuration(90e9), '1m30s');
    assert.equal(goDuration(3600e9), '1h0m0s');
    assert.equal(goDuration(3723.5e9), '1h2m3.5s');
  });

  it('formats instants with up to nanoseconds', () => {
    assert.equal(rfc3339Nano(Date.UTC(2024, 0, 2, 3, 4, 5, 678) + 0.9), '2024-01-02T03:04:05.6789Z');
    assert.equal(rfc3339Nano(Date.UTC(2024, 0, 2)), '2024-01-02T00:00:00Z');
  });
});
