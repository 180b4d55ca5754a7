// Flag values as the docker CLI's Go parsers read them, with the same error
// texts: strconv integers, go-units sizes, big.Rat CPU counts, Go durations,
// docker's timestamps, and strconv.Quote for printing.

/** Go's strconv.ParseInt/ParseUint (base 0 when `base` is 0: 0x, 0o, 0b and
 * leading-0 octal prefixes, underscores between digits). */
export function parseGoInt(s: string, bits: number, opts: { unsigned?: boolean; base?: number } = {}): number {
  const fn = opts.unsigned ? 'strconv.ParseUint' : 'strconv.ParseInt';
  const syntax = () => new Error(`${fn}: parsing ${goQuote(s)}: invalid syntax`);
  let body = s;
  let neg = false;
  if (!opts.unsigned && (body.startsWith('-') || body.startsWith('+'))) {
    neg = body[0] === '-';
    body = body.slice(1);
  }
  let base = opts.base ?? 10;
  let prefixed = false;
  if (base === 0) {
    base = 10;
    const lower = body.toLowerCase();
    if (lower.startsWith('0x')) [base, body, prefixed] = [16, body.slice(2), true];
    else if (lower.startsWith('0o')) [base, body, prefixed] = [8, body.slice(2), true];
    else if (lower.startsWith('0b')) [base, body, prefixed] = [2, body.slice(2), true];
    else if (body.length > 1 && body[0] === '0') [base, body, prefixed] = [8, body.slice(1), true];
    if (body.includes('_')) {
      // underscores only between digits (or after a prefix)
      if (!/^_?[^_]+(_[^_]+)*$/.test(body) || (!prefixed && body.startsWith('_'))) throw syntax();
      body = body.replace(/_/g, '');
    }
  }
  if (body === '') throw syntax();
  const digits = '0123456789abcdefghijklmnopqrstuvwxyz'.slice(0, base);
  let v = 0n;
  for (const c of body.toLowerCase()) {
    const d = digits.indexOf(c);
    if (d < 0) throw syntax();
    v = v * BigInt(base) + BigInt(d);
  }
  if (neg) v = -v;
  const max = opts.unsigned ? (1n << BigInt(bits)) - 1n : (1n << BigInt(bits - 1)) - 1n;
  const min = opts.unsigned ? 0n : -(1n << BigInt(bits - 1));
  if (v > max || v < min) throw new Error(`${fn}: parsing ${goQuote(s)}: value out of range`);
  return Number(v);
}

/** Go's strconv.ParseFloat for the decimal forms people type. */
export function parseGoFloat(s: string): number {
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(s.replace(/_/g, '')) && !/^[+-]?(inf|infinity|nan)$/i.test(s)) {
    throw new Error(`strconv.ParseFloat: parsing ${goQuote(s)}: invalid syntax`);
  }
  return Number(s.replace(/_/g, '').replace(/^([+-]?)inf(inity)?$/i, '$1Infinity'));
}

const BINARY: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** go-units RAMInBytes: "512m", "1.5g", "10KiB", "100". */
export function ramInBytes(size: string): number {
  let sep = -1;
  for (let i = size.length - 1; i >= 0; i--) {
    if ('01234567890. '.includes(size[i]!)) {
      sep = i;
      break;
    }
  }
  if (sep === -1) throw new Error(`invalid size: '${size}'`);
  const num = size[sep] !== ' ' ? size.slice(0, sep + 1) : size.slice(0, sep);
  let sfx = size.slice(sep + 1);
  const n = parseGoFloat(num);
  if (n < 0) throw new Error(`invalid size: '${size}'`);
  if (sfx.length === 0) return Math.trunc(n);
  const bad = () => new Error(`invalid suffix: '${sfx}'`);
  if (sfx.length > 3) throw bad();
  sfx = sfx.toLowerCase();
  if (sfx[0] === 'b') {
    if (sfx.length > 1) throw bad();
    return Math.trunc(n);
  }
  const mul = BINARY[sfx[0]!];
  if (mul === undefined) throw bad();
  if ((sfx.length === 2 && sfx[1] !== 'b') || (sfx.length === 3 && sfx.slice(1) !== 'ib')) throw bad();
  return Math.trunc(n * mul);
}

/** docker's ParseCPUs: an exact rational ("1.5", "3/2", "2e-1") times 1e9,
 * which must come out whole. */
export function parseCpus(value: string): number {
  const rat = parseRational(value);
  if (!rat) throw new Error(`failed to parse ${value} as a rational number`);
  const [num, den] = rat;
  const nano = num * 1_000_000_000n;
  if (nano % den !== 0n) throw new Error('value is too precise');
  return Number(nano / den);
}

function parseRational(s: string): [bigint, bigint] | undefined {
  const frac = /^([+-]?\d+)\/(\d+)$/.exec(s);
  if (frac) {
    const den = BigInt(frac[2]!);
    return den === 0n ? undefined : [BigInt(frac[1]!), den];
  }
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(s);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return undefined;
  const digits = (m[2] ?? '') + (m[3] ?? '');
  let num = BigInt(digits || '0');
  if (m[1] === '-') num = -num;
  const exp = Number(m[4] ?? '0') - (m[3] ?? '').length;
  return exp >= 0 ? [num * 10n ** BigInt(exp), 1n] : [num, 10n ** BigInt(-exp)];
}

const DURATION_UNITS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, μs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration, in nanoseconds. */
export function parseGoDuration(s: string): number {
  const invalid = () => new Error(`time: invalid duration ${goQuote(s)}`);
  let rest = s;
  let neg = false;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    neg = rest[0] === '-';
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') throw invalid();
  let total = 0;
  while (rest !== '') {
    const m = /^(\d*)(?:\.(\d*))?/.exec(rest)!;
    if (m[0] === '' || m[0] === '.' || (m[1] === '' && (m[2] ?? '') === '')) throw invalid();
    rest = rest.slice(m[0].length);
    const u = /^[^\d.]+/.exec(rest)?.[0];
    if (!u) throw new Error(`time: missing unit in duration ${goQuote(s)}`);
    const scale = DURATION_UNITS[u];
    if (scale === undefined) throw new Error(`time: unknown unit ${goQuote(u)} in duration ${goQuote(s)}`);
    rest = rest.slice(u.length);
    total += Number(m[1] || '0') * scale + (m[2] ? Math.round(Number(`0.${m[2]}`) * scale) : 0);
  }
  if (total > 2 ** 63) throw invalid();
  return neg ? -total : total;
}

/** docker's GetTimestamp: "10m" (ago), RFC 3339 forms (local time when no
 * zone), or unix seconds passed through; the API's "sec.nanos". */
export function apiTimestamp(value: string, now = Date.now()): string {
  if (value !== '0') {
    try {
      const d = parseGoDuration(value);
      return String(Math.floor((now - d / 1e6) / 1000));
    } catch {
      // not a duration
    }
  }
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?)?(Z|z|[+-]\d{2}:\d{2})?$/.exec(value);
  if (m) {
    const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', zone] = m;
    // Go's time.Parse range checks, in its order
    const days = new Date(Date.UTC(Number(y), Number(mo), 0)).getUTCDate();
    for (const [name, bad] of [
      ['month', Number(mo) < 1 || Number(mo) > 12],
      ['day', Number(d) > 31],
      ['hour', Number(h) > 23],
      ['minute', Number(mi) > 59],
      ['second', Number(s) > 59],
      ['day', Number(d) < 1 || Number(d) > days],
    ] as const) {
      if (bad) throw new Error(`parsing time ${JSON.stringify(value)}: ${name} out of range`);
    }
    const iso = `${y}-${mo}-${d}T${h}:${mi}:${s}`;
    let ms: number;
    if (zone) ms = Date.parse(`${iso}${zone.toUpperCase() === 'Z' ? 'Z' : zone}`);
    else ms = new Date(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)).getTime();
    if (!Number.isNaN(ms)) return `${Math.floor(ms / 1000)}.${frac.padEnd(9, '0')}`;
  }
  if (value.includes('-')) throw new Error(`parsing time ${JSON.stringify(value)}: cannot parse as RFC 3339`);
  if (!/^\d+(\.\d+)?$/.test(value)) throw new Error(`failed to parse value as time or duration: ${JSON.stringify(value)}`);
  return value;
}

/** Go's strconv.Quote. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += '\\' + ch;
    else if (cp === 0x07) out += '\\a';
    else if (cp === 0x08) out += '\\b';
    else if (cp === 0x0c) out += '\\f';
    else if (cp === 0x0a) out += '\\n';
    else if (cp === 0x0d) out += '\\r';
    else if (cp === 0x09) out += '\\t';
    else if (cp === 0x0b) out += '\\v';
    else if (cp < 0x20 || cp === 0x7f) out += '\\x' + cp.toString(16).padStart(2, '0');
    else if (cp === 0xfffd && ch !== '\ufffd') out += '\\ufffd';
    else if ((cp >= 0x80 && cp < 0xa0) || cp === 0xad || (cp >= 0x2028 && cp <= 0x2029)) out += '\\u' + cp.toString(16).padStart(4, '0');
    else out += ch;
  }
  return out + '"';
}

/** "k=v" values into a map; a bare "k" is k="" (docker's MapOpts and
 * ConvertKVStringsToMap: the last value of a key wins). */
export function keyValues(values: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values ?? []) {
    const i = v.indexOf('=');
    out[i < 0 ? v : v.slice(0, i)] = i < 0 ? '' : v.slice(i + 1);
  }
  return out;
}

/** pflag's string slices: each value is a comma-separated list. */
export function commaList(values: string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => (v === '' ? [] : v.split(',')));
}

const isDigit = (c: number) => c >= 48 && c <= 57;

/** fvbommel/sortorder's NaturalLess, as a comparator: digit runs compare by
 * value, digits sort before other bytes, the rest bytewise. */
export function naturalCompare(a: string, b: string): number {
  const s1 = Buffer.from(a);
  const s2 = Buffer.from(b);
  let i = 0;
  let j = 0;
  while (i < s1.length && j < s2.length) {
    const c1 = s1[i]!;
    const c2 = s2[j]!;
    const d1 = isDigit(c1);
    const d2 = isDigit(c2);
    if (d1 !== d2) return d1 ? -1 : 1;
    if (!d1) {
      if (c1 !== c2) return c1 < c2 ? -1 : 1;
      i++;
      j++;
      continue;
    }
    while (i < s1.length && s1[i] === 48) i++;
    while (j < s2.length && s2[j] === 48) j++;
    const nz1 = i;
    const nz2 = j;
    while (i < s1.length && isDigit(s1[i]!)) i++;
    while (j < s2.length && isDigit(s2[j]!)) j++;
    if (i - nz1 !== j - nz2) return i - nz1 < j - nz2 ? -1 : 1;
    const n1 = s1.subarray(nz1, i).toString();
    const n2 = s2.subarray(nz2, j).toString();
    if (n1 !== n2) return n1 < n2 ? -1 : 1;
    if (nz1 !== nz2) return nz1 < nz2 ? -1 : 1;
  }
  return s1.length < s2.length ? -1 : s1.length > s2.length ? 1 : 0;
}
