// Health checks, the pure part: Docker's settings, defaults and state machine.
// The scheduler (health-monitor.ts) and the probe (health-probe.ts) use these.
import { invalid } from '../../errdefs/index.ts';
import type { ImageConfig } from '../../images/types.ts';
import type { ContainerConfig, HealthState } from './types.ts';

export type HealthcheckConfig = NonNullable<ImageConfig['Healthcheck']>;
export type HealthLogEntry = HealthState['Log'][number];

const NS_PER_MS = 1_000_000;
/** Docker's defaults, in milliseconds. */
export const DEFAULT_INTERVAL_MS = 30_000;
export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_START_INTERVAL_MS = 5_000;
export const DEFAULT_RETRIES = 3;
/** Docker keeps this many results in State.Health.Log ... */
export const MAX_LOG_ENTRIES = 5;
/** ... and this many bytes of a probe's output. */
export const MAX_OUTPUT_BYTES = 4096;
const MIN_DURATION_NS = 1_000_000;

/** What a probe runs and how often, with Docker's defaults applied. */
export interface ProbeSettings {
  argv: string[];
  intervalMs: number;
  timeoutMs: number;
  startPeriodMs: number;
  startIntervalMs: number;
  retries: number;
}

/** The probe of a container's config, or undefined when it has none (no
 * Healthcheck, Test empty, ["NONE"], or an unknown test type, as in Docker). */
export function probeSettings(config: ContainerConfig): ProbeSettings | undefined {
  const hc = config.Healthcheck;
  const test = hc?.Test;
  if (!hc || !test?.length) return undefined;
  let argv: string[];
  if (test[0] === 'CMD') argv = test.slice(1);
  else if (test[0] === 'CMD-SHELL') argv = [...(config.Shell?.length ? config.Shell : ['/bin/sh', '-c']), ...test.slice(1)];
  else return undefined;
  const ms = (ns: number | undefined, dflt: number) => (ns && ns > 0 ? ns / NS_PER_MS : dflt);
  const intervalMs = ms(hc.Interval, DEFAULT_INTERVAL_MS);
  return {
    argv,
    intervalMs,
    timeoutMs: ms(hc.Timeout, DEFAULT_TIMEOUT_MS),
    startPeriodMs: ms(hc.StartPeriod, 0),
    // dockerd ≥ 25 probes every 5 s in the start period when no start interval
    // is given, even when the interval is shorter; dockerd 20.10 (no start
    // interval) used the interval. An unset start interval is meant to probe
    // sooner during start-up, never later, so take the shorter of the two.
    startIntervalMs: ms(hc.StartInterval, Math.min(DEFAULT_START_INTERVAL_MS, intervalMs)),
    retries: hc.Retries && hc.Retries > 0 ? hc.Retries : DEFAULT_RETRIES,
  };
}

/** dockerd's checks of a create body's Healthcheck. */
export function validateHealthcheck(hc: HealthcheckConfig | undefined | null): void {
  if (!hc) return;
  for (const k of ['Interval', 'Timeout', 'StartPeriod', 'StartInterval'] as const) {
    const v = hc[k];
    if (v !== undefined && v !== null && v !== 0 && v < MIN_DURATION_NS) throw invalid(`${k} in Healthcheck cannot be less than 1ms`);
  }
  if ((hc.Retries ?? 0) < 0) throw invalid('Retries in Healthcheck cannot be negative');
}

/** Docker's merge: the container's Healthcheck, with what it leaves unset taken from the image's. */
export function mergeHealthcheck(image: HealthcheckConfig | undefined, req: HealthcheckConfig | undefined | null): HealthcheckConfig | undefined {
  if (!req) return image;
  if (!image) return req;
  return {
    ...req,
    Test: req.Test?.length ? req.Test : image.Test,
    Interval: req.Interval || image.Interval,
    Timeout: req.Timeout || image.Timeout,
    StartPeriod: req.StartPeriod || image.StartPeriod,
    StartInterval: req.StartInterval || image.StartInterval,
    Retries: req.Retries || image.Retries,
  };
}

/** State.Health when a container starts: "starting", the log of earlier runs kept (as dockerd does). */
export function initialHealth(config: ContainerConfig, previous: HealthState | undefined): HealthState | undefined {
  if (!probeSettings(config)) return undefined;
  return { Status: 'starting', FailingStreak: 0, Log: previous?.Log ?? [] };
}

/** The wait before the next probe: the start interval while the container is
 * in its start period and not yet healthy, else the interval. */
export function nextDelay(s: ProbeSettings, health: HealthState | undefined, startedAtMs: number, nowMs: number): number {
  if (nowMs - startedAtMs >= s.startPeriodMs) return s.intervalMs;
  return health?.Status === 'starting' ? s.startIntervalMs : s.intervalMs;
}

export interface ProbeResult {
  startMs: number;
  endMs: number;
  exitCode: number;
  output: string;
}

/** Docker's handling of one result: the log keeps the last five; success is
 * healthy; a failure counts unless it started within the start period while
 * the container was still starting; `retries` counted failures make it unhealthy. */
export function applyProbeResult(health: HealthState, r: ProbeResult, s: ProbeSettings, startedAtMs: number): HealthState {
  const entry: HealthLogEntry = { Start: rfc3339Nano(r.startMs), End: rfc3339Nano(r.endMs), ExitCode: r.exitCode, Output: r.output };
  const log = [...health.Log, entry].slice(-MAX_LOG_ENTRIES);
  if (r.exitCode === 0) return { Status: 'healthy', FailingStreak: 0, Log: log };
  const inStartPeriod = health.Status === 'starting' && r.startMs - startedAtMs < s.startPeriodMs;
  if (inStartPeriod) return { ...health, Log: log };
  const streak = health.FailingStreak + 1;
  return { Status: streak >= s.retries ? 'unhealthy' : health.Status, FailingStreak: streak, Log: log };
}

/** Collects a probe's output up to Docker's limit; "..." marks a cut. */
export class LimitedOutput {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private truncated = false;

  constructor(private readonly limit = MAX_OUTPUT_BYTES) {}

  write(data: Buffer): void {
    const keep = Math.min(this.limit - this.size, data.length);
    if (keep > 0) {
      this.chunks.push(data.subarray(0, keep));
      this.size += keep;
    }
    if (keep < data.length) this.truncated = true;
  }

  toString(): string {
    const s = Buffer.concat(this.chunks).toString('utf8');
    return this.truncated ? `${s}...` : s;
  }
}

/** The Output of a probe cut off by its timeout, as dockerd words it. */
export function timeoutOutput(timeoutMs: number, partial: string): string {
  const head = `Health check exceeded timeout (${goDuration(timeoutMs * NS_PER_MS)})`;
  return partial ? `${head}: ${partial}` : head;
}

/** A duration in nanoseconds as Go's time.Duration prints it: "200ms", "1.5s", "1m30s". */
export function goDuration(ns: number): string {
  ns = Math.round(ns);
  if (ns === 0) return '0s';
  const sign = ns < 0 ? '-' : '';
  ns = Math.abs(ns);
  const frac = (v: number, unit: number) => {
    const whole = Math.floor(v / unit);
    const rest = v % unit;
    if (!rest) return String(whole);
    const digits = String(unit).length - 1;
    return `${whole}.${String(rest).padStart(digits, '0').replace(/0+$/, '')}`;
  };
  if (ns < 1_000) return `${sign}${ns}ns`;
  if (ns < 1_000_000) return `${sign}${frac(ns, 1_000)}µs`;
  if (ns < 1_000_000_000) return `${sign}${frac(ns, 1_000_000)}ms`;
  const h = Math.floor(ns / 3_600_000_000_000);
  const m = Math.floor((ns % 3_600_000_000_000) / 60_000_000_000);
  const s = `${frac(ns % 60_000_000_000, 1_000_000_000)}s`;
  if (h) return `${sign}${h}h${m}m${s}`;
  if (m) return `${sign}${m}m${s}`;
  return sign + s;
}

/** An instant (epoch ms, possibly fractional) as RFC 3339 (Go's RFC3339Nano layout, to the microsecond), UTC. */
export function rfc3339Nano(ms: number): string {
  const whole = Math.floor(ms);
  const iso = new Date(whole).toISOString(); // ...SS.mmmZ
  // An epoch double holds about microseconds beyond the millisecond, no more.
  const micros = Math.min(Math.round((ms - whole) * 1000), 999);
  const nanos = `${iso.slice(20, 23)}${String(micros).padStart(3, '0')}`.replace(/0+$/, '');
  return `${iso.slice(0, 19)}${nanos ? `.${nanos}` : ''}Z`;
}
