// Human-readable sizes, durations and dates, formatted exactly as docker's
// go-units and Go's time package print them, so joey's tables match docker's.
import { humanDuration } from '../util/duration.ts';

const DECIMAL = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
const BINARY = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];

/** Go's fmt "%.{prec}g": shortest of %e/%f, trailing zeros removed. */
export function formatG(x: number, prec: number): string {
  if (!Number.isFinite(x)) return x > 0 ? '+Inf' : x < 0 ? '-Inf' : 'NaN';
  if (x === 0) return '0';
  const p = Math.max(prec, 1);
  const exp = x.toExponential(p - 1); // rounds the way %e would
  const e = Number(exp.slice(exp.indexOf('e') + 1));
  if (e < -4 || e >= p) {
    let mant = exp.slice(0, exp.indexOf('e'));
    if (mant.includes('.')) mant = mant.replace(/0+$/, '').replace(/\.$/, '');
    const sign = e < 0 ? '-' : '+';
    return `${mant}e${sign}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  let fixed = x.toFixed(Math.max(0, p - 1 - e));
  if (fixed.includes('.')) fixed = fixed.replace(/0+$/, '').replace(/\.$/, '');
  return fixed;
}

function scaled(size: number, base: number, units: string[]): [number, string] {
  let i = 0;
  while (size >= base && i < units.length - 1) {
    size /= base;
    i++;
  }
  return [size, units[i]!];
}

/** go-units HumanSizeWithPrecision: decimal units, "4.26MB". */
export function humanSizeWithPrecision(size: number, precision: number): string {
  const [v, unit] = scaled(size, 1000, DECIMAL);
  return formatG(v, precision) + unit;
}

/** go-units HumanSize: four significant digits, "4.262MB". */
export function humanSize(size: number): string {
  return humanSizeWithPrecision(size, 4);
}

/** go-units BytesSize: binary units, "15.54GiB". */
export function bytesSize(size: number): string {
  const [v, unit] = scaled(size, 1024, BINARY);
  return formatG(v, 4) + unit;
}

/** go-units HumanDuration for a duration in milliseconds. */
export { humanDuration };

/** "3 days ago" for a unix time in seconds. */
export function createdSince(unixSeconds: number, now = Date.now()): string {
  return humanDuration(now - unixSeconds * 1000) + ' ago';
}

const pad2 = (n: number) => String(n).padStart(2, '0');

function offsetOf(d: Date): number {
  return -d.getTimezoneOffset(); // minutes east of UTC
}

function zoneOffset(mins: number, colon: boolean): string {
  const sign = mins < 0 ? '-' : '+';
  const a = Math.abs(mins);
  return `${sign}${pad2(Math.trunc(a / 60))}${colon ? ':' : ''}${pad2(a % 60)}`;
}

function zoneName(d: Date): string {
  const mins = offsetOf(d);
  if (mins === 0 && (process.env.TZ === undefined || /^(UTC|Etc\/UTC|GMT|UTC0|)$/.test(process.env.TZ))) return 'UTC';
  try {
    const part = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' })
      .formatToParts(d)
      .find((p) => p.type === 'timeZoneName')?.value;
    // Go prints numeric abbreviations ("+0530") where a zone has no letters
    if (part && /^[A-Z]{2,5}$/.test(part)) return part;
  } catch {
    // no Intl data
  }
  return zoneOffset(mins, false);
}

/** Go's time.Time.String() in local time: "2024-01-02 15:04:05 +0000 UTC". */
export function goTimeString(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  const date = `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`;
  const time = `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
  return `${date} ${time} ${zoneOffset(offsetOf(d), false)} ${zoneName(d)}`;
}

/** Go's time.Time.String() of a time the daemon sent as RFC 3339 text, as
 * Go decodes it: "Z" is UTC, the local offset is local time, another offset
 * a zone without a name ("+0100 +0100"). */
export function goTimeStringOf(text: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/.exec(text);
  if (!m) return text;
  const frac = (m[3] ?? '').replace(/0+$/, '');
  const clock = `${m[1]} ${m[2]}${frac ? '.' + frac : ''}`;
  const zone = m[4]!;
  if (zone === 'Z') return `${clock} +0000 UTC`;
  const mins = (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
  const d = new Date(text);
  const off = zoneOffset(mins, false);
  return `${clock} ${off} ${!Number.isNaN(d.getTime()) && offsetOf(d) === mins ? zoneName(d) : off}`;
}

/** Go's time.RFC3339 in local time: "2024-01-02T15:04:05Z" or "...+01:00". */
export function rfc3339(unixSeconds: number): string {
  return rfc3339With(new Date(unixSeconds * 1000), '');
}

/** docker's rfc3339NanoFixed ("2006-01-02T15:04:05.000000000Z07:00") in
 * local time, for a time in nanoseconds (a bigint: a double loses them). */
export function rfc3339NanoFixed(unixNanos: bigint): string {
  const secs = unixNanos / 1_000_000_000n - (unixNanos % 1_000_000_000n < 0n ? 1n : 0n);
  const frac = unixNanos - secs * 1_000_000_000n;
  return rfc3339With(new Date(Number(secs) * 1000), '.' + String(frac).padStart(9, '0'));
}

function rfc3339With(d: Date, fraction: string): string {
  const mins = offsetOf(d);
  const date = `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`;
  const time = `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
  return `${date}T${time}${fraction}${mins === 0 ? 'Z' : zoneOffset(mins, true)}`;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Go's time.ANSIC in local time: "Wed Jan  1 00:00:00 2025". */
export function ansic(d: Date): string {
  const time = `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
  return `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${time} ${d.getFullYear()}`;
}

/** docker's reformatDate: an RFC 3339 build time shown as ANSIC, else as is. */
export function reformatDate(s: string): string {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(s)) return s;
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? s : ansic(d);
}

/** Strips "sha256:" and keeps 12 hex digits, as docker's TruncateID. */
export function truncateId(id: string): string {
  const i = id.indexOf(':');
  const hex = i >= 0 ? id.slice(i + 1) : id;
  return hex.length > 12 ? hex.slice(0, 12) : hex;
}

/** docker's Ellipsis: cut to a display width, ending with "…". */
export function ellipsis(s: string, maxWidth: number): string {
  if (maxWidth <= 0) return '';
  const chars = [...s];
  if (maxWidth === 1) return chars[0] ?? '';
  let width = 0;
  const ends: number[] = [];
  for (const c of chars) {
    width += charWidth(c.codePointAt(0)!);
    ends.push(width);
  }
  if (width <= maxWidth) return s;
  for (let i = 0; i < chars.length; i++) {
    if (ends[i]! <= maxWidth - 1 && (ends[i + 1] ?? Infinity) > maxWidth - 1) return chars.slice(0, i + 1).join('') + '…';
  }
  return s;
}

/** Display width of a code point: 2 for East Asian wide and full-width. */
export function charWidth(cp: number): number {
  if (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf && cp !== 0x303f) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1f64f) ||
    (cp >= 0x1f900 && cp <= 0x1f9ff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  )
    return 2;
  return 1;
}

/** Display width of a string. */
export function stringWidth(s: string): number {
  let w = 0;
  for (const c of s) w += charWidth(c.codePointAt(0)!);
  return w;
}
