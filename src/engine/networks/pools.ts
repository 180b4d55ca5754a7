// Address pools: where a network that names no subnet gets one. dockerd's
// `default-address-pools` entries ({"base": CIDR, "size": prefix length}) cut
// their base into subnets of that size; the first one that overlaps nothing
// taken (another network, a host route) wins. IPv4 entries replace the
// built-in IPv4 pools, IPv6 entries the per-daemon ULA /48 (RFC 4193).
// Pure: both families as bigints, so that one walk serves both.
import { randomBytes } from 'node:crypto';
import { invalid } from '../../errdefs/index.ts';
import { formatCidr, formatCidr6, parseCidr, parseCidr6 } from './ipnet.ts';

export type Family = 4 | 6;

/** A prefix of either family, its address as a bigint. */
export interface Prefix {
  family: Family;
  base: bigint;
  prefix: number;
}

/** A pool: `base` cut into subnets of length `size`. */
export interface AddressPool extends Prefix {
  size: number;
}

/** A pool entry as daemon.json and the flag spell it. */
export interface AddressPoolSpec {
  base: string;
  size: number;
}

const bits = (f: Family): number => (f === 4 ? 32 : 128);
const span = (f: Family, prefix: number): bigint => 1n << BigInt(bits(f) - prefix);
const lastOf = (p: Prefix): bigint => p.base + span(p.family, p.prefix) - 1n;

/** "a.b.c.d/n" or "x::/n" as a Prefix (host bits cleared unless `strict`). */
export function parsePrefix(text: string, opts: { strict?: boolean } = {}): Prefix {
  if (text.includes(':')) {
    const c = parseCidr6(text, opts);
    return { family: 6, base: c.base, prefix: c.prefix };
  }
  const c = parseCidr(text, opts);
  return { family: 4, base: BigInt(c.base), prefix: c.prefix };
}

export function formatPrefix(p: Prefix): string {
  return p.family === 6 ? formatCidr6(p) : formatCidr({ base: Number(p.base), prefix: p.prefix });
}

export function prefixesOverlap(a: Prefix, b: Prefix): boolean {
  return a.family === b.family && a.base <= lastOf(b) && b.base <= lastOf(a);
}

/** One pool entry, checked; `setting` names where it came from in errors. */
export function parsePoolSpec(entry: unknown, setting: string): AddressPool {
  const bad = (why: string): Error => invalid(`invalid ${setting} entry ${JSON.stringify(entry)}: ${why}`);
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) throw bad('expected {"base": "CIDR", "size": N}');
  const e = entry as Record<string, unknown>;
  const extra = Object.keys(e).filter((k) => k !== 'base' && k !== 'size');
  if (extra.length) throw bad(`unknown key ${extra.map((k) => JSON.stringify(k)).join(', ')} (expected "base" and "size")`);
  if (typeof e.base !== 'string' || !e.base.includes('/')) throw bad('"base" must be a CIDR, e.g. 10.10.0.0/16 or fd00:10::/48');
  let p: Prefix;
  try {
    p = parsePrefix(e.base, { strict: true });
  } catch (err) {
    throw bad(`"base": ${(err as Error).message}`);
  }
  if (typeof e.size !== 'number' || !Number.isInteger(e.size)) throw bad('"size" must be an integer prefix length');
  const max = p.family === 4 ? 30 : 126;
  if (e.size < p.prefix || e.size > max) throw bad(`"size" must be between the base's prefix length (${p.prefix}) and ${max}`);
  return { ...p, size: e.size };
}

/** The flag's form: "base=CIDR,size=N" (dockerd's --default-address-pool). */
export function parsePoolFlag(text: string): AddressPoolSpec {
  const out: Record<string, unknown> = {};
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    const k = part.slice(0, eq).trim();
    const v = part.slice(eq + 1).trim();
    if (eq <= 0 || (k !== 'base' && k !== 'size')) throw invalid(`invalid --default-address-pool ${JSON.stringify(text)}: expected base=CIDR,size=N`);
    out[k] = k === 'size' && /^\d+$/.test(v) ? Number(v) : v;
  }
  parsePoolSpec(out, '--default-address-pool');
  return out as unknown as AddressPoolSpec;
}

/**
 * The first subnet of the pools, in order, that overlaps none of `taken`.
 * It steps over a taken prefix at once rather than subnet by subnet, so a
 * wide pool (a /48 of /64s, or more) costs a step per prefix in its way.
 */
export function allocateSubnet(pools: AddressPool[], taken: Prefix[]): Prefix | undefined {
  for (const pool of pools) {
    const end = lastOf(pool);
    const step = span(pool.family, pool.size);
    const inPool = taken.filter((t) => prefixesOverlap(t, pool));
    let at = pool.base;
    while (at + step - 1n <= end) {
      const cand: Prefix = { family: pool.family, base: at, prefix: pool.size };
      const hit = inPool.find((t) => prefixesOverlap(t, cand));
      if (!hit) return cand;
      // Past the candidate and the taken prefix, on the next subnet boundary.
      const past = (lastOf(hit) > lastOf(cand) ? lastOf(hit) : lastOf(cand)) + 1n;
      at = pool.base + (((past - pool.base) + step - 1n) / step) * step;
    }
  }
  return undefined;
}

/** Docker's built-in IPv4 pools: 172.17–31.0.0/16, then 192.168.0.0/16 in /20s. */
export function defaultIpv4Pools(): AddressPool[] {
  return [
    { ...parsePrefix('172.17.0.0/16'), size: 16 },
    { ...parsePrefix('172.18.0.0/15'), size: 16 },
    { ...parsePrefix('172.20.0.0/14'), size: 16 },
    { ...parsePrefix('172.24.0.0/13'), size: 16 },
    { ...parsePrefix('192.168.0.0/16'), size: 20 },
  ];
}

/** A random 40-bit global ID (RFC 4193, 3.2): one per daemon, kept. */
export function randomUlaGlobalId(): string {
  return randomBytes(5).toString('hex');
}

/** The daemon's ULA /48, fd<global id>::/48, cut into /64s. */
export function ulaPool(globalId: string): AddressPool {
  if (!/^[0-9a-f]{10}$/.test(globalId)) throw invalid(`invalid ULA global ID ${JSON.stringify(globalId)}: 10 hex digits`);
  return { family: 6, base: (0xfdn << 120n) | (BigInt(`0x${globalId}`) << 80n), prefix: 48, size: 64 };
}
