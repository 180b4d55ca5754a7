// Published ports: Docker's PortBindings / PublishAllPorts / ExposedPorts to
// the portmap plugin's mappings, and back to what inspect and ps show.
import { conflict, invalid } from '../../errdefs/index.ts';
import type { PortMapping } from './types.ts';

export type PortBindings = Record<string, Array<{ HostIp?: string; HostPort?: string }> | null>;

export interface WantedPort {
  containerPort: number;
  protocol: 'tcp' | 'udp' | 'sctp';
  hostIP?: string;
  /** Host port range; [0, 0] means any free ephemeral port. */
  hostRange: [number, number];
}

/** "80/tcp", "53/udp", "8080" → port and protocol. */
export function parsePortKey(key: string): { port: number; protocol: 'tcp' | 'udp' | 'sctp' } {
  const m = /^(\d+)(?:\/(tcp|udp|sctp))?$/i.exec(key.trim());
  if (!m || Number(m[1]) < 1 || Number(m[1]) > 65535) throw invalid(`invalid port specification: "${key}"`);
  return { port: Number(m[1]), protocol: (m[2]?.toLowerCase() ?? 'tcp') as 'tcp' | 'udp' | 'sctp' };
}

function hostRange(s: string | undefined): [number, number] {
  if (!s || s === '0') return [0, 0];
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  const lo = m ? Number(m[1]) : NaN;
  const hi = m?.[2] !== undefined ? Number(m[2]) : lo;
  if (!m || lo < 1 || hi > 65535 || hi < lo) throw invalid(`invalid host port: "${s}"`);
  return [lo, hi];
}

/** What the container asks to publish: its bindings, plus every exposed port with -P. */
export function wantedPorts(bindings: PortBindings | null | undefined, exposed: Record<string, unknown> | null | undefined, publishAll: boolean): WantedPort[] {
  const out: WantedPort[] = [];
  for (const [key, list] of Object.entries(bindings ?? {})) {
    const { port, protocol } = parsePortKey(key);
    for (const b of list ?? [{}]) {
      const ip = b.HostIp && b.HostIp !== '0.0.0.0' && b.HostIp !== '::' ? b.HostIp : undefined;
      if (ip?.includes(':')) continue; // an IPv6 host address: not published yet (docs/notes/networking.md)
      out.push({ containerPort: port, protocol, hostIP: ip, hostRange: hostRange(b.HostPort) });
    }
  }
  if (publishAll) {
    for (const key of Object.keys(exposed ?? {})) {
      const { port, protocol } = parsePortKey(key);
      if (out.some((w) => w.containerPort === port && w.protocol === protocol)) continue;
      out.push({ containerPort: port, protocol, hostRange: [0, 0] });
    }
  }
  return out;
}

/** On an IPv6-only network a port is published on every host address,
 * through ip6tables, and nowhere else: a binding to an IPv4 host address
 * would publish nothing (the containers have no IPv4 address, and portmap
 * skips a host address of the other family), nor would one to a given IPv6
 * host address (wantedPorts leaves those out). Refused, naming the binding,
 * rather than started without it. */
export function checkIpv6OnlyBindings(bindings: PortBindings | null | undefined, network: string): void {
  for (const [key, list] of Object.entries(bindings ?? {})) {
    for (const b of list ?? []) {
      const ip = b.HostIp;
      if (!ip || ip === '0.0.0.0' || ip === '::') continue;
      const why = ip.includes(':') ? 'joeyd publishes its ports on all the host\'s IPv6 addresses, not on one' : 'its containers have no IPv4 address to forward to';
      throw invalid(`cannot publish port ${key} on ${ip}: network ${network} is IPv6-only (EnableIPv4 is false), ${why}; leave the host address out`);
    }
  }
}

export const EPHEMERAL: [number, number] = [32768, 60999];

/** Host ports for each wanted port: the first free one of its range, or of the
 * ephemeral range. `used` holds the daemon's own mappings ("proto/port"). */
/** `prefer` ("tcp/80" → host port): the port to try first for a container
 * port, when it is in the allowed range (a restart that keeps its ports). */
export async function allocatePorts(wanted: WantedPort[], used: Set<string>, free: (port: number, protocol: string, hostIP?: string) => Promise<boolean>, start = EPHEMERAL[0], prefer?: Map<string, number>): Promise<PortMapping[]> {
  const taken = new Set(used);
  const out: PortMapping[] = [];
  for (const w of wanted) {
    const [lo, hi] = w.hostRange[0] ? w.hostRange : EPHEMERAL;
    const span = hi - lo + 1;
    // Ephemeral ports are handed out round-robin from `start`, as Docker does,
    // so a port just released is not reused at once.
    const preferred = prefer?.get(`${w.protocol}/${w.containerPort}`);
    const first = preferred !== undefined && preferred >= lo && preferred <= hi ? preferred : w.hostRange[0] ? lo : Math.min(Math.max(start, lo), hi);
    let chosen: number | undefined;
    for (let i = 0; i < span; i++) {
      const p = lo + ((first - lo + i) % span);
      if (taken.has(`${w.protocol}/${p}`)) continue;
      if (!(await free(p, w.protocol, w.hostIP))) continue;
      chosen = p;
      break;
    }
    if (chosen === undefined) {
      const where = `${w.hostIP ?? '0.0.0.0'}:${w.hostRange[0] ? (lo === hi ? lo : `${lo}-${hi}`) : 'any'}`;
      throw conflict(`driver failed programming external connectivity: Bind for ${where} failed: port is already allocated`);
    }
    taken.add(`${w.protocol}/${chosen}`);
    out.push({ hostPort: chosen, containerPort: w.containerPort, protocol: w.protocol, ...(w.hostIP ? { hostIP: w.hostIP } : {}) });
  }
  return out;
}

/** NetworkSettings.Ports: every exposed or published port, null when not published. */
export function portsView(mappings: PortMapping[], exposed: Record<string, unknown> | null | undefined, bindings: PortBindings | null | undefined): Record<string, Array<{ HostIp: string; HostPort: string }> | null> {
  const out: Record<string, Array<{ HostIp: string; HostPort: string }> | null> = {};
  for (const key of [...Object.keys(exposed ?? {}), ...Object.keys(bindings ?? {})]) {
    try {
      const { port, protocol } = parsePortKey(key);
      out[`${port}/${protocol}`] ??= null;
    } catch {
      // a bad key was refused at create
    }
  }
  for (const m of mappings) {
    const key = `${m.containerPort}/${m.protocol}`;
    (out[key] ??= []).push({ HostIp: m.hostIP ?? '0.0.0.0', HostPort: String(m.hostPort) });
  }
  return out;
}
