// The CNI plugin chain of a bridge network, as the configs joeyd hands the
// plugins one by one: bridge (+ host-local IPAM; no ipMasq), then portmap
// only for a container that publishes ports (hairpin and localhost through
// its SNAT). Outbound NAT and forwarding are not per container: they are the
// network's own rules, installed once with the bridge (src/sys/iptables.ts,
// `rulesSpec` below), so an attach adds no iptables rule unless it publishes.
import { createHash } from 'node:crypto';
import type { BridgeRulesSpec } from '../../sys/iptables.ts';
import { formatIp, formatIp6, last, last6, parseCidr, parseCidr6, parseIp, parseIp6 } from './ipnet.ts';
import type { EndpointConfig, NetworkRecord, PortMapping } from './types.ts';

export const CNI_VERSION = '1.0.0';

export interface ChainOptions {
  /** host-local's lease directory, under the daemon's data root. */
  ipamDir: string;
  /** --iptables: published ports (NAT and forwarding are the network's rules). */
  iptables: boolean;
  endpoint: EndpointConfig;
  ports: PortMapping[];
}

/** The CNI network name: iptables comments and lease dirs carry it, so it is
 * per daemon (the bridge name is). */
export function cniName(n: NetworkRecord): string {
  return `joey-${n.bridge}`;
}

/** host-local's range for a subnet and an optional --ip-range. */
export function ipamRange(n: NetworkRecord): Record<string, string> {
  const range: Record<string, string> = { subnet: n.subnet };
  if (n.gateway) range.gateway = n.gateway;
  if (n.ipRange) {
    const sub = parseCidr(n.subnet);
    const r = parseCidr(n.ipRange);
    range.rangeStart = formatIp(Math.max(r.base, sub.base + 1));
    range.rangeEnd = formatIp(Math.min(last(r), last(sub) - 1));
  }
  return range;
}

/** host-local's IPv6 range: the subnet, its gateway and the --ip-range
 * narrowing it (the subnet's first address, the subnet-router anycast, never
 * handed out, as host-local's own default). */
export function ipamRange6(n: NetworkRecord): Record<string, string> {
  const range: Record<string, string> = { subnet: n.subnet6 };
  if (n.gateway6) range.gateway = n.gateway6;
  if (n.ipRange6) {
    const sub = parseCidr6(n.subnet6);
    const r = parseCidr6(n.ipRange6);
    range.rangeStart = formatIp6(r.base > sub.base ? r.base : sub.base + 1n);
    range.rangeEnd = formatIp6(last6(r));
  }
  return range;
}

/** Whether endpoints on `n` get an IPv6 address (dual-stack or IPv6-only). */
export const dualStack = (n: NetworkRecord): boolean => n.ipv6 && !!n.subnet6;

/** Whether endpoints on `n` get an IPv4 address: all but IPv6-only networks. */
export const hasIpv4 = (n: NetworkRecord): boolean => n.ipv4 && !!n.subnet;

export function pluginChain(n: NetworkRecord, o: ChainOptions): Array<Record<string, unknown>> {
  const name = cniName(n);
  const runtimeConfig: Record<string, unknown> = {};
  if (o.endpoint.mac) runtimeConfig.mac = o.endpoint.mac;
  const ips: string[] = [];
  if (o.endpoint.ipv4 && hasIpv4(n)) ips.push(`${o.endpoint.ipv4}/${parseCidr(n.subnet).prefix}`);
  if (o.endpoint.ipv6 && dualStack(n)) ips.push(`${o.endpoint.ipv6}/${parseCidr6(n.subnet6).prefix}`);
  if (ips.length) runtimeConfig.ips = ips;
  const v4 = hasIpv4(n);
  const v6 = dualStack(n);
  // One range set per family: host-local hands out one address from each.
  const ranges = [...(v4 ? [[ipamRange(n)]] : []), ...(v6 ? [[ipamRange6(n)]] : [])];
  const routes = n.internal ? [] : [...(v4 ? [{ dst: '0.0.0.0/0' }] : []), ...(v6 ? [{ dst: '::/0' }] : [])];
  const bridge: Record<string, unknown> = {
    cniVersion: CNI_VERSION,
    name,
    type: 'bridge',
    bridge: n.bridge,
    isGateway: true,
    ipMasq: false,
    hairpinMode: true,
    ipam: {
      type: 'host-local',
      dataDir: o.ipamDir,
      ranges,
      routes,
    },
    ...(Object.keys(runtimeConfig).length ? { runtimeConfig } : {}),
  };
  const chain: Array<Record<string, unknown>> = [bridge];
  if (o.iptables && o.ports.length) {
    chain.push({
      cniVersion: CNI_VERSION,
      name,
      type: 'portmap',
      snat: true,
      runtimeConfig: { portMappings: o.ports.map((p) => ({ hostPort: p.hostPort, containerPort: p.containerPort, protocol: p.protocol, ...(p.hostIP ? { hostIP: p.hostIP } : {}) })) },
    });
  }
  return chain;
}

/** The chains of a network's rules are named by this: per daemon (its data
 * root) and network, so that joeyds side by side never share one. */
export function rulesTag(dataRoot: string, networkId: string): string {
  return createHash('sha256').update(`joey/${dataRoot}/${networkId}`).digest('hex').slice(0, 10);
}

/** What the network's rules are made from. */
export function rulesSpec(dataRoot: string, n: NetworkRecord): BridgeRulesSpec {
  return { tag: rulesTag(dataRoot, n.id), bridge: n.bridge, subnet: hasIpv4(n) ? n.subnet : '', ...(dualStack(n) ? { subnet6: n.subnet6 } : {}), internal: n.internal, isolation: isolationChain(dataRoot) };
}

/** The daemon's isolation chain, shared by all its bridge networks. */
export function isolationChain(dataRoot: string): string {
  return `JOEY-${createHash('sha256').update(`joey/${dataRoot}/isolation`).digest('hex').slice(0, 10)}-ISO`;
}

export function loopbackConfig(): Record<string, unknown> {
  return { cniVersion: CNI_VERSION, name: 'joey-lo', type: 'loopback' };
}

/** The addresses, gateways and MAC of the container's interface in an ADD
 * result: an IPv4 one but on IPv6-only networks (`ip` is '' there), an IPv6
 * one on dual-stack and IPv6-only networks. */
export function readResult(result: Record<string, unknown> | undefined, ifname: string): { ip: string; prefixLen: number; gateway: string; mac: string; ip6?: string; prefixLen6?: number; gateway6?: string } {
  const ifaces = (result?.interfaces ?? []) as Array<{ name?: string; mac?: string; sandbox?: string }>;
  const ips = (result?.ips ?? []) as Array<{ address?: string; gateway?: string; interface?: number }>;
  const idx = ifaces.findIndex((i) => i.name === ifname && i.sandbox);
  const ours = ips.filter((x) => x.address && (x.interface === undefined || x.interface === idx));
  const v4 = ours.find((x) => !x.address!.includes(':')) ?? ips.find((x) => x.address && !x.address.includes(':'));
  const v6 = ours.find((x) => x.address!.includes(':'));
  const [addr = '', len = '0'] = (v4?.address ?? '').split('/');
  if (addr) parseIp(addr);
  const out: ReturnType<typeof readResult> = { ip: addr, prefixLen: Number(len), gateway: v4?.gateway ?? '', mac: ifaces[idx]?.mac ?? '' };
  if (v6) {
    const [a6 = '', l6 = '0'] = v6.address!.split('/');
    out.ip6 = formatIp6(parseIp6(a6));
    out.prefixLen6 = Number(l6);
    out.gateway6 = v6.gateway ?? '';
  }
  return out;
}
