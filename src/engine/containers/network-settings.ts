// NetworkSettings as dockerd shows it, for the network modes joey has now:
// none, host, and the default (shown as Docker's "bridge"; joey gives it a
// namespace of its own with only lo until bridge networks exist). A
// container that shares another's network ("container:<x>") is attached to
// no network itself, as in Docker.
import { createHash } from 'node:crypto';
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

function endpoint(c: ContainerRecord, name: string): Record<string, unknown> {
  const running = c.state.Running;
  return {
    IPAMConfig: null,
    Links: null,
    Aliases: null,
    MacAddress: '',
    DriverOpts: null,
    GwPriority: 0,
    NetworkID: networkId(name),
    // An endpoint exists while the container runs, as in Docker.
    EndpointID: running ? hex(`joey/endpoint/${c.id}/${name}`) : '',
    Gateway: '',
    IPAddress: '',
    IPPrefixLen: 0,
    IPv6Gateway: '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    DNSNames: null,
  };
}

/** NetworkSettings.Networks of a container. */
export function summaryNetworks(c: ContainerRecord): Record<string, Record<string, unknown>> {
  const name = networkNameOf(c.hostConfig.NetworkMode);
  return name ? { [name]: endpoint(c, name) } : {};
}

export function networkSettings(c: ContainerRecord): Record<string, unknown> {
  const running = c.state.Running && c.state.Pid > 0;
  const shared = c.hostConfig.NetworkMode?.startsWith('container:');
  return {
    Bridge: '',
    // The sandbox is the network namespace: its path while the container runs.
    SandboxID: running && !shared ? hex(`joey/sandbox/${c.id}`) : '',
    SandboxKey: running && !shared ? `/proc/${c.state.Pid}/ns/net` : '',
    Ports: {},
    HairpinMode: false,
    LinkLocalIPv6Address: '',
    LinkLocalIPv6PrefixLen: 0,
    SecondaryIPAddresses: null,
    SecondaryIPv6Addresses: null,
    EndpointID: '',
    Gateway: '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    IPAddress: '',
    IPPrefixLen: 0,
    IPv6Gateway: '',
    MacAddress: '',
    Networks: summaryNetworks(c),
  };
}
