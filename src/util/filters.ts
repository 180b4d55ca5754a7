// Pieces of Docker's filter syntax shared by the image and container filters.
import { invalid } from '../errdefs/index.ts';

/** `until`/`since` values: unix seconds (fractional), a duration before now
 * ("10m", "2h", "30s"), or an RFC 3339 time. Returns unix seconds. */
export function parseTimeFilter(v: string, key = 'until'): number {
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v);
  const d = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(v);
  if (d) return Date.now() / 1000 - Number(d[1]) * { ms: 0.001, s: 1, m: 60, h: 3600 }[d[2] as 'ms' | 's' | 'm' | 'h'];
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw invalid(`invalid filter '${key}=${v}': not a timestamp or duration`);
  return t / 1000;
}

/** "key" (present) or "key=value" against a label map. */
export function labelMatches(labels: Record<string, string>, want: string): boolean {
  const eq = want.indexOf('=');
  return eq < 0 ? want in labels : labels[want.slice(0, eq)] === want.slice(eq + 1);
}

export function checkFilterKeys(filters: Record<string, string[]> | undefined, allowed: Set<string>): Record<string, string[]> {
  const f = filters ?? {};
  for (const k of Object.keys(f)) if (!allowed.has(k)) throw invalid(`invalid filter '${k}'`);
  return f;
}
