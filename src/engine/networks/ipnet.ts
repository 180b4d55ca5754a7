// IPv4 addresses and prefixes as numbers: parsing, containment, overlap, and
// picking a free subnet for a network that names none.
import { invalid } from '../../errdefs/index.ts';

export interface Cidr {
  /** The network address (host bits cleared). */
  base: number;
  prefix: number;
}

export function parseIp(s: string): number {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s.trim());
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

/** The pools Docker picks default subnets from (172.17-31/16, then 192.168.x/20). */
export function defaultPools(): Cidr[] {
  const out: Cidr[] = [];
  for (let i = 17; i <= 31; i++) out.push({ base: parseIp(`172.${i}.0.0`), prefix: 16 });
  for (let i = 0; i < 256; i += 16) out.push({ base: parseIp(`192.168.${i}.0`), prefix: 20 });
  return out;
}

/** The first pool that overlaps none of `taken`. */
export function pickSubnet(taken: Cidr[], pools: Cidr[] = defaultPools()): Cidr | undefined {
  return pools.find((p) => !taken.some((t) => overlaps(p, t)));
}
