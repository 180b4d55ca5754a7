import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resumption, windowEnd, type FoundContainer } from './upgrade-window.ts';

const t0 = Date.parse('2024-05-01T10:00:00.000Z');
const at = (ms: number): string => new Date(t0 + ms).toISOString();
/** An upgrade whose new image started at t0 with a 60 s window. */
const started = { phase: 'started' as const, wasRunning: true, rollbackWindowMs: 60_000, windowStartedAt: at(0) };
const running: FoundContainer = { running: true, startedAt: at(0), finishedAt: '0001-01-01T00:00:00Z', exitCode: 0 };
const exitedAfter = (ms: number, code = 3): FoundContainer => ({ running: false, startedAt: at(0), finishedAt: at(ms), exitCode: code });

test('the window runs from the new image\'s start for its length; none without one', () => {
  assert.equal(windowEnd(started), t0 + 60_000);
  assert.equal(windowEnd({ ...started, rollbackWindowMs: 0 }), 0);
  assert.equal(windowEnd({ ...started, wasRunning: false }), 0, 'a stopped container is not started, so has no window');
  assert.equal(windowEnd({ ...started, windowStartedAt: null }), 0);
});

test('restarted inside the window with the new image running: the rest of it is watched', () => {
  assert.deepEqual(resumption(started, running, t0 + 20_000), { action: 'watch', endsAt: t0 + 60_000 });
});

test('restarted after the window ended with the new image running: completed', () => {
  assert.deepEqual(resumption(started, running, t0 + 60_000), { action: 'complete' });
  assert.deepEqual(resumption(started, running, t0 + 3_600_000), { action: 'complete' });
});

test('the new image exited while joeyd was down: inside the window it rolls back, after it the upgrade stands', () => {
  const r = resumption(started, exitedAfter(5_000), t0 + 120_000);
  assert.equal(r.action, 'rollback');
  assert.match((r as { reason: string }).reason, /exited with code 3 within the rollback window/);
  assert.deepEqual(resumption(started, exitedAfter(61_000), t0 + 120_000), { action: 'complete' });
  // An exit with no time recorded cannot be placed after the window.
  assert.equal(resumption(started, { ...exitedAfter(0), finishedAt: 'garbage' }, t0 + 120_000).action, 'rollback');
});

test('without a window a start that succeeded completes, running or not', () => {
  const none = { ...started, rollbackWindowMs: 0 };
  assert.deepEqual(resumption(none, running, t0 + 1), { action: 'complete' });
  assert.deepEqual(resumption(none, exitedAfter(1), t0 + 2), { action: 'complete' });
});

test('swapped but not recorded as started: a running container opened the window at its start; else it rolls back', () => {
  const swapped = { ...started, phase: 'swapped' as const, windowStartedAt: null };
  assert.deepEqual(resumption(swapped, { ...running, startedAt: at(1_000) }, t0 + 2_000), { action: 'watch', endsAt: t0 + 61_000 });
  assert.deepEqual(resumption(swapped, running, t0 + 90_000), { action: 'complete' });
  assert.deepEqual(resumption(swapped, exitedAfter(1_000), t0 + 2_000), { action: 'rollback', reason: 'interrupted by a daemon restart (phase swapped)' });
});

test('before the swap it always rolls back', () => {
  for (const phase of ['prepared', 'stopped'] as const) {
    assert.deepEqual(resumption({ ...started, phase, windowStartedAt: null }, running, t0), { action: 'rollback', reason: `interrupted by a daemon restart (phase ${phase})` });
  }
});
