// Networks: records as stored (metadata/schema.ts, migration 4) and the
// service the API adapters call.
import type { Filters } from '../../images/types.ts';

export interface NetworkRecord {
  id: string;
  name: string;
  /** bridge | host | null */
  driver: string;
  /** The host bridge ('' for host and none). */
  bridge: string;
  subnet: string;
  gateway: string;
  ipRange: string;
  /** EnableIPv4: false for an IPv6-only network (its subnet, gateway and
   * range then ''). */
  ipv4: boolean;
  /** EnableIPv6: endpoints get an address from subnet6 too. */
  ipv6: boolean;
  /** The IPv6 subnet, gateway and range ('' when none; a subnet may be
   * configured without EnableIPv6, as dockerd keeps it, unused). */
  subnet6: string;
  gateway6: string;
  ipRange6: string;
  internal: boolean;
  labels: Record<string, string>;
  options: Record<string, string>;
  createdAt: string;
}

/** What the user asked for a container on a network. */
export interface EndpointConfig {
  aliases?: string[];
  /** Links on a user network ("name:alias"): names only this container resolves. */
  links?: string[];
  ipv4?: string;
  ipv6?: string;
  mac?: string;
}

/** A published port as the portmap plugin takes it. */
export interface PortMapping {
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp' | 'sctp';
  hostIP?: string;
}

/** An endpoint while its container runs. */
export interface EndpointState {
  endpointId: string;
  netns: string;
  ifname: string;
  ip: string;
  prefixLen: number;
  gateway: string;
  /** The IPv6 address, its prefix length and gateway, on IPv6 networks. */
  ip6?: string;
  prefixLen6?: number;
  gateway6?: string;
  mac: string;
  ports: PortMapping[];
  /** The plugin configs that ADD was given, replayed by DEL. */
  plugins: Array<Record<string, unknown>>;
  /** The chain's final result, the prevResult of every DEL. */
  result?: Record<string, unknown>;
}

export interface EndpointRecord {
  containerId: string;
  networkId: string;
  idx: number;
  config: EndpointConfig;
  state: EndpointState | null;
}

export interface CreateNetworkRequest {
  Name?: string;
  Driver?: string;
  Internal?: boolean;
  Attachable?: boolean;
  EnableIPv6?: boolean;
  /** API 1.47: false makes an IPv6-only network (with EnableIPv6). */
  EnableIPv4?: boolean;
  CheckDuplicate?: boolean;
  IPAM?: { Driver?: string; Config?: Array<{ Subnet?: string; IPRange?: string; Gateway?: string; AuxiliaryAddresses?: Record<string, string> }> | null; Options?: Record<string, string> | null } | null;
  Options?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
}

/** Docker's EndpointSettings as container create and network connect take them. */
export interface EndpointSettingsRequest {
  IPAMConfig?: { IPv4Address?: string; IPv6Address?: string } | null;
  Aliases?: string[] | null;
  MacAddress?: string;
  Links?: string[] | null;
}

export interface NetworkService {
  list(opts?: { filters?: Filters }): Promise<Array<Record<string, unknown>>>;
  inspect(idOrName: string): Promise<Record<string, unknown>>;
  create(req: CreateNetworkRequest): Promise<{ Id: string; Warning: string }>;
  remove(idOrName: string): Promise<void>;
  prune(filters?: Filters): Promise<{ NetworksDeleted: string[] }>;
  connect(idOrName: string, container: string, cfg?: EndpointSettingsRequest): Promise<void>;
  disconnect(idOrName: string, container: string, force?: boolean): Promise<void>;
}
