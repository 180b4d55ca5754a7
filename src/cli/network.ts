// joey network create|ls|inspect|rm|connect|disconnect|prune: docker 28's
// flags, request bodies, table and messages.
import { escapePath } from '../client/client.ts';
import type { Cli } from './context.ts';
import { endpointBody } from './endpoint.ts';
import { CancelledError, StatusError, displayError } from './errors.ts';
import { filtersParam, toFilters } from './filters.ts';
import { GoMethod, goJson, goStruct } from './format.ts';
import { TABLE, renderRows } from './formatter.ts';
import { commaList, keyValues, naturalCompare } from './go-values.ts';
import { fetchText, inspectObjects } from './inspect.ts';
import { confirm } from './prompt.ts';
import { goTimeStringOf, truncateId } from './units.ts';

export interface NetworkCreateOptions {
  driver?: string;
  opt?: string[];
  label?: string[];
  internal?: boolean;
  ipv4?: boolean;
  ipv6?: boolean;
  attachable?: boolean;
  ingress?: boolean;
  scope?: string;
  configOnly?: boolean;
  configFrom?: string;
  ipamDriver?: string;
  subnet?: string[];
  ipRange?: string[];
  gateway?: string[];
  auxAddress?: string[];
  ipamOpt?: string[];
}

interface IpamConfig {
  Subnet: string;
  IPRange?: string;
  Gateway?: string;
  AuxiliaryAddresses: Record<string, string>;
}

/** Go's net.ParseCIDR: the address and the network, or an error as Go words it. */
function parseCidr(s: string): { ip: bigint; v6: boolean; base: bigint; bits: number } {
  const slash = s.indexOf('/');
  const ip = slash < 0 ? undefined : parseIp(s.slice(0, slash));
  const bits = slash < 0 || !/^\d{1,3}$/.test(s.slice(slash + 1)) ? NaN : Number(s.slice(slash + 1));
  if (!ip || !(bits <= (ip.v6 ? 128 : 32))) throw new Error(`invalid CIDR address: ${s}`);
  const width = ip.v6 ? 128 : 32;
  const mask = ((1n << BigInt(width)) - 1n) ^ ((1n << BigInt(width - bits)) - 1n);
  return { ip: ip.value, v6: ip.v6, base: ip.value & mask, bits };
}

/** Go's net.ParseIP, as a number; IPv4-mapped IPv6 counts as IPv4. */
function parseIp(s: string): { value: bigint; v6: boolean } | undefined {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(s)) {
    const parts = s.split('.');
    // Go refuses leading zeros ("010.0.0.1") as well as values over 255
    if (parts.some((p) => Number(p) > 255 || (p.length > 1 && p.startsWith('0')))) return undefined;
    return { value: parts.reduce((a, p) => (a << 8n) | BigInt(p), 0n), v6: false };
  }
  if (!s.includes(':')) return undefined;
  let host: string;
  try {
    host = new URL(`http://[${s}]/`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
  const [head, tail] = host.includes('::') ? host.split('::') : [host, undefined];
  const groups = (x: string | undefined) => (x ? x.split(':') : []);
  const h = groups(head);
  const t = groups(tail);
  const all = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const value = all.reduce((a, g) => (a << 16n) | BigInt(parseInt(g, 16)), 0n);
  if (value >> 32n === 0xffffn) return { value: value & 0xffffffffn, v6: false };
  return { value, v6: true };
}

/** docker's subnetMatches: whether `data` (an address or a CIDR) is in `subnet`. */
function subnetMatches(subnet: string, data: string): boolean {
  let net: ReturnType<typeof parseCidr>;
  try {
    net = parseCidr(subnet);
  } catch (err) {
    throw new Error(`invalid subnet: ${(err as Error).message}`);
  }
  const ip = data.includes('/') ? parseCidr(data) : parseIp(data);
  if (!ip) return false;
  const value = 'ip' in ip ? ip.ip : ip.value;
  if (ip.v6 !== net.v6) return false;
  const width = net.v6 ? 128 : 32;
  const mask = ((1n << BigInt(width)) - 1n) ^ ((1n << BigInt(width - net.bits)) - 1n);
  return (value & mask) === net.base;
}

/** docker's createIPAMConfig: subnets with their ranges, gateways and
 * auxiliary addresses, each matched to the subnet that holds it. */
function ipamConfigs(subnets: string[], ranges: string[], gateways: string[], aux: Record<string, string>): IpamConfig[] {
  if (subnets.length < ranges.length || subnets.length < gateways.length || subnets.length < Object.keys(aux).length) {
    throw new StatusError('every ip-range or gateway must have a corresponding subnet');
  }
  const data = new Map<string, IpamConfig>();
  try {
    for (const s of subnets) {
      for (const k of data.keys()) {
        if (subnetMatches(s, k) || subnetMatches(k, s)) throw new Error('multiple overlapping subnet configuration is not supported');
      }
      data.set(s, { Subnet: s, AuxiliaryAddresses: {} });
    }
    const attach = (what: 'IPRange' | 'Gateway', values: string[], label: string, many: string) => {
      for (const v of values) {
        let match = false;
        for (const s of subnets) {
          if (what === 'IPRange') parseCidr(v);
          if (!subnetMatches(s, v)) continue;
          const d = data.get(s)!;
          if (d[what]) throw new Error(`cannot configure multiple ${many} (${v}, ${d[what]}) ${what === 'IPRange' ? 'on' : 'for'} the same subnet (${s})`);
          d[what] = v;
          match = true;
        }
        if (!match) throw new Error(`no matching subnet for ${label} ${v}`);
      }
    };
    attach('IPRange', ranges, 'range', 'ranges');
    attach('Gateway', gateways, 'gateway', 'gateways');
    for (const [key, addr] of Object.entries(aux)) {
      let match = false;
      for (const s of subnets) {
        if (!subnetMatches(s, addr)) continue;
        data.get(s)!.AuxiliaryAddresses[key] = addr;
        match = true;
      }
      if (!match) throw new Error(`no matching subnet for aux-address ${addr}`);
    }
  } catch (err) {
    if (err instanceof StatusError) throw err;
    throw new StatusError((err as Error).message);
  }
  return [...data.values()];
}

export async function runNetworkCreate(cli: Cli, name: string, o: NetworkCreateOptions): Promise<void> {
  const config = ipamConfigs(commaList(o.subnet), commaList(o.ipRange), commaList(o.gateway), keyValues(o.auxAddress));
  // the body as the docker CLI sends it: network.CreateOptions, then Name
  const body = {
    Driver: o.driver ?? 'bridge',
    Scope: o.scope ?? '',
    ...(o.ipv4 !== undefined ? { EnableIPv4: o.ipv4 } : {}),
    ...(o.ipv6 !== undefined ? { EnableIPv6: o.ipv6 } : {}),
    IPAM: { Driver: o.ipamDriver ?? 'default', Options: keyValues(o.ipamOpt), Config: config.map((c) => ({ Subnet: c.Subnet, ...(c.IPRange ? { IPRange: c.IPRange } : {}), ...(c.Gateway ? { Gateway: c.Gateway } : {}), ...(Object.keys(c.AuxiliaryAddresses).length ? { AuxiliaryAddresses: c.AuxiliaryAddresses } : {}) })) },
    Internal: !!o.internal,
    Attachable: !!o.attachable,
    Ingress: !!o.ingress,
    ConfigOnly: !!o.configOnly,
    ConfigFrom: o.configFrom ? { Network: o.configFrom } : null,
    Options: keyValues(o.opt),
    Labels: keyValues(o.label),
    Name: name,
  };
  const res = await cli.client.post<{ Id: string }>('/networks/create', { body });
  cli.out(`${res.Id}\n`);
}

interface NetworkSummary {
  Name: string;
  Id: string;
  Created?: string;
  Scope?: string;
  Driver?: string;
  EnableIPv4?: boolean;
  EnableIPv6?: boolean;
  Internal?: boolean;
  Labels?: Record<string, string> | null;
}

const HEADERS: Record<string, unknown> = {
  ID: 'NETWORK ID', Name: 'NAME', Driver: 'DRIVER', Scope: 'SCOPE', IPv4: 'IPV4', IPv6: 'IPV6', Internal: 'INTERNAL', Labels: 'LABELS', CreatedAt: 'CREATED AT',
  // docker's header row shows a label's column by its name
  Label: new GoMethod(['string'], (name: string) => name),
};

/** docker's networkContext: the fields a --format template sees. */
export function networkContext(n: NetworkSummary, trunc: boolean) {
  const labels = n.Labels ?? null;
  const fields = {
    ID: trunc ? truncateId(n.Id) : n.Id,
    Name: n.Name,
    Driver: n.Driver ?? '',
    Scope: n.Scope ?? '',
    IPv4: String(!!n.EnableIPv4),
    IPv6: String(!!n.EnableIPv6),
    Internal: String(!!n.Internal),
    // Go ranges over a map here (random order): sorted is one of its orders
    Labels: labels === null ? '' : Object.keys(labels).sort().map((k) => `${k}=${labels[k]}`).join(','),
    Label: new GoMethod(['string'], (name: string) => (labels === null ? '' : (labels[name] ?? ''))),
    CreatedAt: goTimeStringOf(n.Created ?? '0001-01-01T00:00:00Z'),
  };
  const marshal = () => {
    const o: Record<string, unknown> = {};
    for (const k of Object.keys(fields).filter((k) => k !== 'Label').sort()) o[k] = fields[k as keyof typeof fields];
    return goJson(o, true);
  };
  return goStruct('*network.networkContext', fields, marshal);
}

export function renderNetworks(networks: NetworkSummary[], opts: { quiet?: boolean; format?: string; noTrunc?: boolean }): string {
  let format = opts.format || TABLE;
  if (format === TABLE) format = opts.quiet ? '{{.ID}}' : 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}';
  else if (format === 'raw') format = opts.quiet ? 'network_id: {{.ID}}' : 'network_id: {{.ID}}\\nname: {{.Name}}\\ndriver: {{.Driver}}\\nscope: {{.Scope}}\\n';
  const sorted = [...networks].sort((a, b) => naturalCompare(a.Name, b.Name));
  return renderRows(format, sorted.map((n) => networkContext(n, !opts.noTrunc)), HEADERS);
}

export async function runNetworkList(cli: Cli, opts: { filter?: string[]; format?: string; quiet?: boolean; noTrunc?: boolean }): Promise<void> {
  const networks = await cli.client.get<NetworkSummary[] | null>('/networks', { query: { filters: filtersParam(toFilters(opts.filter)) } });
  let format = opts.format;
  if (!format) format = cli.config.networksFormat && !opts.quiet ? cli.config.networksFormat : TABLE;
  cli.out(renderNetworks(networks ?? [], { ...opts, format }));
}

export async function runNetworkInspect(cli: Cli, names: string[], opts: { format?: string; verbose?: boolean }): Promise<void> {
  await inspectObjects(cli, names, opts.format, (n) => fetchText(cli, `/networks/${escapePath(n)}`, { verbose: opts.verbose ? 'true' : undefined }), goNetwork);
}

/** network.IPAMConfig's omitted fields back, as docker's templates see them
 * ("{10.9.0.0/24  10.9.0.1 map[]}"). */
function goNetwork(n: { IPAM?: { Config?: Array<Record<string, unknown>> | null } | null }): unknown {
  const config = n?.IPAM?.Config;
  if (!Array.isArray(config)) return n;
  const full = config.map((c) => ({ Subnet: c.Subnet ?? '', IPRange: c.IPRange ?? '', Gateway: c.Gateway ?? '', AuxiliaryAddresses: c.AuxiliaryAddresses ?? null }));
  return { ...n, IPAM: { ...n.IPAM, Config: full } };
}

const INGRESS_WARNING =
  'WARNING! Before removing the routing-mesh network, make sure all the nodes in your swarm run the same docker engine version. ' +
  'Otherwise, removal may not be effective and functionality of newly create ingress networks will be impaired.\nAre you sure you want to continue?';

/** Each network in turn; errors are printed as they come, and the exit status is 1 if any. */
export async function runNetworkRemove(cli: Cli, names: string[], opts: { force?: boolean }): Promise<void> {
  let failed = false;
  for (const name of names) {
    const ingress = await cli.client.get<{ Ingress?: boolean }>(`/networks/${escapePath(name)}`).then((n) => !!n?.Ingress, () => false);
    if (ingress && !(await confirm(cli.io.stdin, cli.io.stdout, INGRESS_WARNING))) continue;
    try {
      await cli.client.delete(`/networks/${escapePath(name)}`);
    } catch (err) {
      if (opts.force && (err as { status?: number }).status === 404) continue;
      cli.err(`${displayError(err)}\n`);
      failed = true;
      continue;
    }
    cli.out(`${name}\n`);
  }
  // docker's cli.StatusError without a message prints as its Error()
  if (failed) throw new StatusError('exit status 1');
}

export interface ConnectOptions {
  ip?: string;
  ip6?: string;
  link?: string[];
  alias?: string[];
  linkLocalIp?: string[];
  driverOpt?: string[];
  gwPriority?: number;
}

/** docker's convertDriverOpt: "k=v" pairs, trimmed; a pair needs a key and "=". */
function driverOpts(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const i = v.indexOf('=');
    const k = (i < 0 ? v : v.slice(0, i)).trim();
    if (i < 0 || k === '') throw new StatusError('invalid key/value pair format in driver options');
    out[k] = v.slice(i + 1).trim();
  }
  return out;
}

export async function runNetworkConnect(cli: Cli, network: string, container: string, o: ConnectOptions): Promise<void> {
  const opts = driverOpts(commaList(o.driverOpt));
  const linkLocal = commaList(o.linkLocalIp);
  const ipam: Record<string, unknown> = {};
  if (o.ip) ipam.IPv4Address = o.ip;
  if (o.ip6) ipam.IPv6Address = o.ip6;
  if (linkLocal.length) ipam.LinkLocalIPs = linkLocal;
  const endpoint = endpointBody({
    IPAMConfig: ipam,
    Links: o.link?.length ? o.link : null,
    Aliases: commaList(o.alias),
    MacAddress: '',
    DriverOpts: opts,
    GwPriority: o.gwPriority ?? 0,
  });
  await cli.client.post(`/networks/${escapePath(network)}/connect`, { body: { Container: container, EndpointConfig: endpoint } });
}

export async function runNetworkDisconnect(cli: Cli, network: string, container: string, opts: { force?: boolean }): Promise<void> {
  await cli.client.post(`/networks/${escapePath(network)}/disconnect`, { body: { Container: container, Force: !!opts.force } });
}

const PRUNE_WARNING = 'WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue?';

export async function runNetworkPrune(cli: Cli, opts: { filter?: string[]; force?: boolean }): Promise<void> {
  const filters = toFilters(opts.filter);
  if (!opts.force && !(await confirm(cli.io.stdin, cli.io.stdout, PRUNE_WARNING))) throw new CancelledError('network prune has been cancelled');
  const report = await cli.client.post<{ NetworksDeleted?: string[] | null }>('/networks/prune', { query: { filters: filtersParam(filters) } });
  const deleted = report?.NetworksDeleted ?? [];
  if (deleted.length > 0) cli.out('Deleted Networks:\n' + deleted.map((n) => n + '\n').join('') + '\n');
}
