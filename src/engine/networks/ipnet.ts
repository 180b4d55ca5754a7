// IPv4 addresses and prefixes as numbers, IPv6 ones as bigints: parsing,
// containment, overlap. (Picking a free subnet: pools.ts.)
import { invalid } from '../../errdefs/index.ts';

export interface Cidr {
  /** The network address (host bits cleared). */
  base: number;
  prefix: number;
}

export function parseIp(s: string): number {
  // Decimal octets without leading zeros, as Go's net.ParseIP (since 1.17)
  // takes them: "010" could be read as octal 8 by other tools.
  const m = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/.exec(s.trim());
  if (!m) throw invalid(`invalid IPv4 address: ${s}`);
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) throw invalid(`invalid IPv4 address: ${s}`);
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

export function isIpv4(s: string): boolean {
  try {
    parseIp(s);
    return true;
  } catch {
    return false;
  }
}

export function formatIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** "a.b.c.d/len" → its network; `strict` refuses host bits (Docker's --subnet does). */
export function parseCidr(s: string, opts: { strict?: boolean } = {}): Cidr & { ip: number } {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(s.trim());
  if (!m || Number(m[2]) > 32) throw invalid(`invalid CIDR address: ${s}`);
  const ip = parseIp(m[1]!);
  const prefix = Number(m[2]);
  const base = (ip & mask(prefix)) >>> 0;
  if (opts.strict && base !== ip) throw invalid(`invalid subnet ${s}: it prefix length is ${prefix}, the network address is ${formatIp(base)}/${prefix}`);
  return { base, prefix, ip };
}

export function formatCidr(c: Cidr): string {
  return `${formatIp(c.base)}/${c.prefix}`;
}

export function size(c: Cidr): number {
  return 2 ** (32 - c.prefix);
}

export function last(c: Cidr): number {
  return (c.base + size(c) - 1) >>> 0;
}

export function contains(c: Cidr, ip: number): boolean {
  return ((ip & mask(c.prefix)) >>> 0) === c.base;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return contains(a, b.base) || contains(b, a.base);
}

// ---- IPv6: addresses as 128-bit bigints.

export interface Cidr6 {
  /** The network address (host bits cleared). */
  base: bigint;
  prefix: number;
}

const ALL6 = (1n << 128n) - 1n;

/** "fd00:1::2" (also "::", an embedded IPv4 tail and a zone-less form only),
 * refusing what Go's net.ParseIP refuses: more than one "::", a "::" that
 * stands for no group, groups of more than 4 hex digits, an IPv4 part
 * anywhere but in the last 32 bits, and IPv4 octets over 255 or with a
 * leading zero. */
export function parseIp6(s: string): bigint {
  const text = s.trim();
  const bad = () => invalid(`invalid IPv6 address: ${s}`);
  if (!/^[0-9a-fA-F:.]+$/.test(text) || text.split('::').length > 2) throw bad();
  let groups: number[] = [];
  /** `last`: the part ends the address, so its last field may be IPv4. */
  const half = (part: string, last: boolean): number[] => {
    if (part === '') return [];
    const out: number[] = [];
    const fields = part.split(':');
    fields.forEach((f, i) => {
      if (last && i === fields.length - 1 && f.includes('.')) {
        const v4 = parseIp(f);
        out.push(v4 >>> 16, v4 & 0xffff);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(f)) throw bad();
        out.push(parseInt(f, 16));
      }
    });
    return out;
  };
  try {
    if (text.includes('::')) {
      const [l = '', r = ''] = text.split('::');
      const left = half(l, false);
      const right = half(r, true);
      if (left.length + right.length > 7) throw bad();
      groups = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
    } else {
      groups = half(text, true);
    }
  } catch {
    throw bad();
  }
  if (groups.length !== 8) throw bad();
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

export function isIpv6(s: string): boolean {
  try {
    parseIp6(s);
    return true;
  } catch {
    return false;
  }
}

/** The canonical text (RFC 5952): lower case, the longest run of two or
 * more zero groups as "::" (the first of equal runs). */
export function formatIp6(n: bigint): string {
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((n >> BigInt(i * 16)) & 0xffffn));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hexes = groups.map((g) => g.toString(16));
  if (best < 0) return hexes.join(':');
  return `${hexes.slice(0, best).join(':')}::${hexes.slice(best + bestLen).join(':')}`;
}

function mask6(prefix: number): bigint {
  return prefix === 0 ? 0n : (ALL6 << BigInt(128 - prefix)) & ALL6;
}

/** "x::/len" → its network; `strict` refuses host bits, as parseCidr. */
export function parseCidr6(s: string, opts: { strict?: boolean } = {}): Cidr6 & { ip: bigint } {
  const m = /^([0-9a-fA-F:.]+)\/(\d{1,3})$/.exec(s.trim());
  if (!m || Number(m[2]) > 128 || !m[1]!.includes(':')) throw invalid(`invalid CIDR address: ${s}`);
  let ip: bigint;
  try {
    ip = parseIp6(m[1]!);
  } catch {
    throw invalid(`invalid CIDR address: ${s}`);
  }
  const prefix = Number(m[2]);
  const base = ip & mask6(prefix);
  if (opts.strict && base !== ip) throw invalid(`invalid subnet ${s}: it prefix length is ${prefix}, the network address is ${formatIp6(base)}/${prefix}`);
  return { base, prefix, ip };
}

export function formatCidr6(c: Cidr6): string {
  return `${formatIp6(c.base)}/${c.prefix}`;
}

export function last6(c: Cidr6): bigint {
  return c.base | (~mask6(c.prefix) & ALL6);
}

export function contains6(c: Cidr6, ip: bigint): boolean {
  return (ip & mask6(c.prefix)) === c.base;
}

export function overlaps6(a: Cidr6, b: Cidr6): boolean {
  return contains6(a, b.base) || contains6(b, a.base);
}
