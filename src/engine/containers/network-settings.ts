// NetworkSettings as dockerd shows it: one endpoint per network the container
// is attached to (with its address while it runs), none and host as Docker
// shows them, and the top-level fields filled from the default bridge only,
// as Docker does. A container that shares another's network
// ("container:<x>") is attached to no network itself.
import { createHash } from 'node:crypto';
import type { NetworkAttachment } from '../networks/index.ts';
import type { ContainerRecord } from './record.ts';

const hex = (s: string): string => createHash('sha256').update(s).digest('hex');

/** The network a NetworkMode attaches to; undefined for "container:<x>". */
export function networkNameOf(mode: string | undefined): string | undefined {
  if (!mode || mode === 'default') return 'bridge';
  if (mode.startsWith('container:')) return undefined;
  return mode;
}

/** Stable ids for the built-in networks (dockerd makes random ones per daemon). */
export function networkId(name: string): string {
  return hex(`joey/network/${name}`);
}

function endpoint(c: ContainerRecord, name: string, att?: NetworkAttachment): Record<string, unknown> {
  const running = c.state.Running;
  const st = running ? att?.endpoint.state : null;
  const cfg = att?.endpoint.config;
  const aliases = cfg?.aliases?.length ? cfg.aliases : null;
  return {
    IPAMConfig: cfg?.ipv4 || cfg?.ipv6 ? { ...(cfg.ipv4 ? { IPv4Address: cfg.ipv4 } : {}), ...(cfg.ipv6 ? { IPv6Address: cfg.ipv6 } : {}) } : null,
    Links: cfg?.links?.length ? cfg.links : null,
    Aliases: aliases,
    MacAddress: st?.mac ?? cfg?.mac ?? '',
    DriverOpts: null,
    GwPriority: 0,
    NetworkID: att?.network.id ?? networkId(name),
    // An endpoint exists while the container runs, as in Docker.
    EndpointID: st?.endpointId ?? (running ? hex(`joey/endpoint/${c.id}/${name}`) : ''),
    Gateway: st?.gateway ?? '',
    IPAddress: st?.ip ?? '',
    IPPrefixLen: st?.prefixLen ?? 0,
    IPv6Gateway: st?.gateway6 ?? '',
    GlobalIPv6Address: st?.ip6 ?? '',
    GlobalIPv6PrefixLen: st?.prefixLen6 ?? 0,
    DNSNames: att && att.network.name !== 'bridge' ? [c.name, ...(cfg?.aliases ?? []), c.id.slice(0, 12)] : null,
  };
}

/** NetworkSettings.Networks of a container. */
export function summaryNetworks(c: ContainerRecord, atts?: NetworkAttachment[]): Record<string, Record<string, unknown>> {
  if (atts?.length) return Object.fromEntries(atts.map((a) => [a.network.name, endpoint(c, a.network.name, a)]));
  const name = networkNameOf(c.hostConfig.NetworkMode);
  return name ? { [name]: endpoint(c, name) } : {};
}

export function networkSettings(c: ContainerRecord, atts?: NetworkAttachment[], ports: Record<string, unknown> = {}, netnsPath?: string): Record<string, unknown> {
  const running = c.state.Running && c.state.Pid > 0;
  const shared = c.hostConfig.NetworkMode?.startsWith('container:');
  const bridge = running ? atts?.find((a) => a.network.name === 'bridge')?.endpoint.state : undefined;
  const attached = running && atts?.some((a) => a.endpoint.state);
  return {
    Bridge: '',
    // The sandbox is the network namespace: its path while the container runs.
    SandboxID: running && !shared ? hex(`joey/sandbox/${c.id}`) : '',
    SandboxKey: running && !shared ? (attached && netnsPath ? netnsPath : `/proc/${c.state.Pid}/ns/net`) : '',
    Ports: ports,
    HairpinMode: false,
    LinkLocalIPv6Address: '',
    LinkLocalIPv6PrefixLen: 0,
    SecondaryIPAddresses: null,
    SecondaryIPv6Addresses: null,
    EndpointID: bridge?.endpointId ?? '',
    Gateway: bridge?.gateway ?? '',
    GlobalIPv6Address: bridge?.ip6 ?? '',
    GlobalIPv6PrefixLen: bridge?.prefixLen6 ?? 0,
    IPAddress: bridge?.ip ?? '',
    IPPrefixLen: bridge?.prefixLen ?? 0,
    IPv6Gateway: bridge?.gateway6 ?? '',
    MacAddress: bridge?.mac ?? '',
    Networks: summaryNetworks(c, atts),
  };
}
