// The rollback window of an upgrade, and what start-up does with an upgrade
// a daemon restart interrupted: roll it back, complete it, or watch the rest
// of its window. Pure: the records and the clock come in as values.
import type { UpgradeRecord } from './upgrade-store.ts';

/** What start-up does with an interrupted upgrade. */
export type Resumption =
  | { action: 'rollback'; reason: string }
  | { action: 'complete' }
  /** Watch until `endsAt` (ms since the epoch), as the upgrade itself would have. */
  | { action: 'watch'; endsAt: number };

/** The container as start-up found it, after its own recovery (an exit
 * while joeyd was down is recorded by then, with the time of the exit). */
export interface FoundContainer {
  running: boolean;
  /** RFC 3339: the last start (the new image's, once the upgrade started it). */
  startedAt: string;
  /** RFC 3339: the last exit. */
  finishedAt: string;
  exitCode: number;
}

type WindowOf = Pick<UpgradeRecord, 'wasRunning' | 'rollbackWindowMs' | 'windowStartedAt'>;

/** When the window of an upgrade ends, in ms since the epoch; 0 when there is
 * none to watch (no window asked for, or the container was not running). */
export function windowEnd(u: WindowOf, startedAt: string | null = u.windowStartedAt): number {
  if (!u.wasRunning || !u.rollbackWindowMs || !startedAt) return 0;
  const t = Date.parse(startedAt);
  return Number.isNaN(t) ? 0 : t + u.rollbackWindowMs;
}

export function resumption(u: WindowOf & Pick<UpgradeRecord, 'phase'>, c: FoundContainer, now: number): Resumption {
  const interrupted: Resumption = { action: 'rollback', reason: `interrupted by a daemon restart (phase ${u.phase})` };
  if (u.phase !== 'swapped' && u.phase !== 'started') return interrupted;
  if (u.phase === 'swapped') {
    // The new image may have started just before the crash, which came
    // before the record said so: then its start opened the window. Not
    // running, nothing says it ever ran.
    if (!c.running) return interrupted;
    const endsAt = windowEnd(u, c.startedAt);
    return endsAt > now ? { action: 'watch', endsAt } : { action: 'complete' };
  }
  const endsAt = windowEnd(u);
  // Without a window, a start that succeeded was all there was to it.
  if (!endsAt) return { action: 'complete' };
  if (c.running) return endsAt > now ? { action: 'watch', endsAt } : { action: 'complete' };
  // It exited while joeyd was down: inside the window, the upgrade failed;
  // after it, the upgrade had passed and the exit is the restart policy's.
  const exited = Date.parse(c.finishedAt);
  if (!Number.isNaN(exited) && exited >= endsAt) return { action: 'complete' };
  return { action: 'rollback', reason: `the container exited with code ${c.exitCode} within the rollback window (while joeyd was down)` };
}
