// --fixed-cidr-v6, the default bridge's IPv6 subnet: checked when the flags
// are read (its form) and when the daemon starts (against the networks it
// already has).
import { invalid } from '../../errdefs/index.ts';
import { formatCidr6, overlaps6, parseCidr6, type Cidr6 } from './ipnet.ts';
import type { NetworkRecord } from './types.ts';

/** The longest prefix taken: a /124 still holds the gateway and 14
 * containers. (dockerd takes any; it hands out MAC-based addresses only up
 * to /80.) */
export const MAX_FIXED_CIDR_V6_PREFIX = 124;

/** The flag's value as a network: an IPv6 CIDR with no host bits set and
 * room for containers. */
export function parseFixedCidrV6(text: string): Cidr6 {
  const what = `invalid --fixed-cidr-v6 ${JSON.stringify(text)}`;
  let c: Cidr6 & { ip: bigint };
  try {
    c = parseCidr6(text);
  } catch {
    throw invalid(`${what}: expected an IPv6 CIDR, e.g. fd00:1::/64`);
  }
  const net = { base: c.base, prefix: c.prefix };
  if (c.ip !== c.base) throw invalid(`${what}: host bits are set; the network is ${formatCidr6(net)}`);
  if (c.prefix > MAX_FIXED_CIDR_V6_PREFIX) throw invalid(`${what}: a /${c.prefix} leaves no room for containers; the prefix can be at most /${MAX_FIXED_CIDR_V6_PREFIX} (/80 or shorter is usual)`);
  return net;
}

/** At start-up: the default bridge's IPv6 subnet must not overlap another
 * network's, which would route the same addresses to two bridges. */
export function checkFixedCidrV6Overlap(fixed: Cidr6, networks: NetworkRecord[]): void {
  for (const n of networks) {
    if (n.name === 'bridge' || !n.subnet6) continue;
    if (overlaps6(fixed, parseCidr6(n.subnet6))) {
      throw invalid(`--fixed-cidr-v6 ${formatCidr6(fixed)} overlaps the IPv6 subnet ${n.subnet6} of network ${JSON.stringify(n.name)} (${n.id.slice(0, 12)}): choose another --fixed-cidr-v6, or remove that network`);
    }
  }
}
