// Writing a spec (config.json) or an exec process (process.json). Plain
// JSON.stringify cannot express RLIM_INFINITY (2^64-1, a Go uint64): it is
// kept as -1 in the object and spelled out here.
import { RLIM_INFINITY } from './rlimits.ts';

const MARK = '\u0000joey-rlim-infinity\u0000';
const MARK_JSON = JSON.stringify(MARK);

function mark(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(mark);
  if (!value || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === 'rlimits' && Array.isArray(v)) {
      out[k] = v.map((r: { hard: number; soft: number }) => ({
        ...r,
        hard: r.hard === RLIM_INFINITY ? MARK : r.hard,
        soft: r.soft === RLIM_INFINITY ? MARK : r.soft,
      }));
    } else out[k] = mark(v);
  }
  return out;
}

/** JSON for config.json / process.json, with RLIM_INFINITY written as a uint64. */
export function toOciJson(value: unknown, indent?: number): string {
  return JSON.stringify(mark(value), null, indent).split(MARK_JSON).join('18446744073709551615');
}
