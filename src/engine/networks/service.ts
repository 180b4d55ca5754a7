// The networks of one daemon: the default bridge, user-defined bridges, the
// built-in host and none; each container's endpoints, wired with CNI in a
// network namespace the engine owns; the embedded DNS of user networks.
import { randomBytes } from 'node:crypto';
import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { conflict, forbidden, invalid, is, messageOf, notFound } from '../../errdefs/index.ts';
import type { Filters } from '../../images/types.ts';
import type { Database } from '../../metadata/db.ts';
import type { CniExec } from '../../sys/cni.ts';
import type { FirewallOps } from '../../sys/iptables.ts';
import type { LinkOps } from '../../sys/netlink.ts';
import type { NetnsOps } from '../../sys/netns.ts';
import type { PortProbe } from '../../sys/ports.ts';
import { Mutex } from '../../util/concurrency.ts';
import { checkFilterKeys, labelMatches, parseTimeFilter } from '../../util/filters.ts';
import { log } from '../../util/log.ts';
import type { ContainerRecord } from '../containers/record.ts';
import type { ContainerConfig, HostConfig } from '../containers/types.ts';
import type { EventBus } from '../types.ts';
import { cniName, dualStack, hasIpv4, loopbackConfig, pluginChain, readResult, rulesSpec } from './conflist.ts';
import { DnsServer } from './dns-server.ts';
import { checkFixedCidrV6Overlap } from './fixed-cidr-v6.ts';
import { contains, contains6, formatCidr, formatCidr6, formatIp, formatIp6, isIpv4, isIpv6, overlaps, overlaps6, parseCidr, parseCidr6, parseIp, parseIp6, type Cidr, type Cidr6 } from './ipnet.ts';
import { allocateSubnet, defaultIpv4Pools, parsePoolSpec, parsePrefix, randomUlaGlobalId, ulaPool, type AddressPool, type Family, type Prefix } from './pools.ts';
import { allocatePorts, checkIpv6OnlyBindings, EPHEMERAL, portsView, wantedPorts } from './ports.ts';
import { NetworkStore } from './store.ts';
import type { CreateNetworkRequest, EndpointConfig, EndpointRecord, EndpointSettingsRequest, EndpointState, NetworkRecord, NetworkService, PortMapping } from './types.ts';
import { createHash } from 'node:crypto';

export interface NetworkSys {
  cni: CniExec;
  netns: NetnsOps;
  links: LinkOps;
  portFree: PortProbe;
  /** The per-network iptables rules (NAT, forwarding). */
  firewall: FirewallOps;
}

export interface NetworksConfig {
  dataRoot: string;
  execRoot: string;
  /** The default bridge's name; "none" disables it. */
  bridge: string;
  /** --bip: the default bridge's gateway/prefix. */
  bip?: string;
  /** --fixed-cidr: where the default bridge hands out addresses. */
  fixedCidr?: string;
  /** --ipv6 with --fixed-cidr-v6: the default bridge is dual-stack, its IPv6 subnet that. */
  fixedCidrV6?: string;
  iptables: boolean;
  /** default-address-pools: IPv4 entries replace the built-in pools, IPv6
   * ones the daemon's ULA /48. */
  addressPools?: Array<{ base: string; size: number }>;
  /** Port the embedded DNS listens on (53; tests use others). */
  dnsPort?: number;
}

/** What the networks need of the containers. */
export interface ContainerView {
  find(idOrName: string): ContainerRecord;
  get(id: string): ContainerRecord | undefined;
  all(): ContainerRecord[];
  lock<T>(id: string, fn: () => Promise<T>): Promise<T>;
}

/** A container's planned attachment, recorded at create. */
export interface EndpointPlan {
  networkId: string;
  config: EndpointConfig;
}

/** What a start needs from the network side. */
export interface Attached {
  netnsPath: string;
  /** The primary interface's address (for /etc/hosts). */
  ip: string;
  /** Its IPv6 address on a dual-stack network (/etc/hosts too). */
  ip6?: string;
  /** The embedded resolver, for user networks. */
  nameserver?: string;
  /** What "host-gateway" in --add-host means: the primary network's gateway. */
  hostGateway?: string;
}

/** The addresses an endpoint had, asked for again when a container restarts
 * as the same thing (an in-place upgrade): by network id. */
export type KeptAddresses = Record<string, { ip?: string; ip6?: string; mac?: string; ports?: PortMapping[] }>;

export interface NetworkAttachment {
  network: NetworkRecord;
  endpoint: EndpointRecord;
}

const BUILTIN = new Set(['bridge', 'host', 'none']);
/** An endpoint that is wired (its container runs): it has an address of one family or both. */
const live = (st: EndpointState | null | undefined): st is EndpointState => !!(st?.ip || st?.ip6);
/** A DNS client's address as endpoints record it (IPv6 in canonical form). */
const canonical = (addr: string): string => (isIpv6(addr) ? formatIp6(parseIp6(addr)) : addr);
const hex = (s: string): string => createHash('sha256').update(s).digest('hex');
/** Stable ids for the built-in networks. */
export const builtinNetworkId = (name: string): string => hex(`joey/network/${name}`);

export class Networks implements NetworkService {
  readonly store: NetworkStore;
  private containers?: ContainerView;
  private readonly dns = new Map<string, DnsServer>();
  private readonly alloc = new Mutex();
  /** Network creation: a subnet picked is inserted before the next is picked. */
  private readonly creating = new Mutex();
  private nextPort = EPHEMERAL[0];
  private hostResolvers: string[] = [];

  constructor(private readonly deps: { db: Database; events: EventBus; sys: NetworkSys; config: NetworksConfig }) {
    this.store = new NetworkStore(deps.db);
  }

  private get cfg(): NetworksConfig {
    return this.deps.config;
  }
  private get ipamDir(): string {
    return join(this.cfg.dataRoot, 'network', 'ipam');
  }
  netnsPathOf(id: string): string {
    return join(this.cfg.execRoot, 'netns', id);
  }
  private view(): ContainerView {
    if (!this.containers) throw new Error('networks: containers are not wired');
    return this.containers;
  }

  /** Start-up, before the containers': built-in networks, bridges and DNS
   * servers back, and endpoints of containers that are not running released. */
  async init(containers: ContainerView): Promise<void> {
    this.containers = containers;
    this.hostResolvers = await hostNameservers();
    await this.ensureBuiltins();
    for (const n of this.store.all()) {
      if (n.driver !== 'bridge') continue;
      await this.ensureBridge(n).catch((e) => log.warn('restoring a bridge failed', { network: n.name, bridge: n.bridge, err: e }));
      await this.ensureRules(n).catch((e) => log.warn('restoring a network\'s iptables rules failed', { network: n.name, bridge: n.bridge, err: e }));
      if (n.name !== 'bridge') await this.startDns(n);
    }
    for (const ep of this.store.endpoints()) {
      if (!ep.state) continue;
      const c = containers.get(ep.containerId);
      if (c?.state.Running) continue;
      await this.delEndpoint(ep).catch((e) => log.warn('releasing a stale endpoint failed', { container: ep.containerId, err: e }));
    }
    const nsDir = join(this.cfg.execRoot, 'netns');
    for (const id of await readdir(nsDir).catch(() => [] as string[])) {
      if (containers.get(id)?.state.Running) continue;
      await this.deps.sys.netns.remove(join(nsDir, id)).catch((e) => log.warn('removing a stale netns failed', { container: id, err: e }));
    }
    let maxPort = EPHEMERAL[0] - 1;
    for (const ep of this.store.endpoints()) for (const p of ep.state?.ports ?? []) maxPort = Math.max(maxPort, p.hostPort);
    if (maxPort >= EPHEMERAL[0] && maxPort < EPHEMERAL[1]) this.nextPort = maxPort + 1;
  }

  /** At daemon exit. The bridges stay (as docker0 does); so do the networks'
   * rules while a container of ours runs on (live restore), else they go:
   * they serve nothing, and the next start puts them back. */
  async close(): Promise<void> {
    for (const s of this.dns.values()) s.close();
    this.dns.clear();
    if (this.store.endpoints().some((e) => e.state)) return;
    for (const n of this.store.all()) await this.removeRules(n);
  }

  /** The network's bridge with its gateway address(es). */
  private ensureBridge(n: NetworkRecord): Promise<void> {
    return this.deps.sys.links.ensureBridge(n.bridge, hasIpv4(n) ? `${n.gateway}/${parseCidr(n.subnet).prefix}` : undefined, dualStack(n) ? `${n.gateway6}/${parseCidr6(n.subnet6).prefix}` : undefined);
  }

  private async ensureBuiltins(): Promise<void> {
    const now = new Date().toISOString();
    for (const [name, driver] of [['host', 'host'], ['none', 'null']] as const) {
      if (!this.store.byName(name)) this.store.insert({ id: builtinNetworkId(name), name, driver, bridge: '', subnet: '', gateway: '', ipRange: '', ipv4: true, ipv6: false, subnet6: '', gateway6: '', ipRange6: '', internal: false, labels: {}, options: {}, createdAt: now });
    }
    const existing = this.store.byName('bridge');
    if (this.cfg.bridge === 'none') {
      if (existing && !this.store.endpointsOn(existing.id).some((e) => e.state)) {
        this.store.delete(existing.id);
        await this.removeRules(existing);
      }
      return;
    }
    let subnet: Cidr;
    let gateway: string;
    if (this.cfg.bip) {
      const bip = parseCidr(this.cfg.bip);
      subnet = { base: bip.base, prefix: bip.prefix };
      gateway = formatIp(bip.ip === bip.base ? bip.base + 1 : bip.ip);
    } else if (existing?.subnet) {
      subnet = parseCidr(existing.subnet);
      gateway = existing.gateway;
    } else {
      subnet = await this.freeSubnet();
      gateway = formatIp(subnet.base + 1);
    }
    let ipRange = '';
    if (this.cfg.fixedCidr) {
      const fixed = parseCidr(this.cfg.fixedCidr);
      if (!contains(subnet, fixed.base) || fixed.prefix < subnet.prefix) throw invalid(`--fixed-cidr ${this.cfg.fixedCidr} is not within the bridge's subnet ${formatCidr(subnet)}`);
      ipRange = formatCidr(fixed);
    }
    let subnet6 = '';
    let gateway6 = '';
    if (this.cfg.fixedCidrV6) {
      // As dockerd: the bridge's IPv6 gateway is the first address of --fixed-cidr-v6.
      const c6 = parseCidr6(this.cfg.fixedCidrV6);
      checkFixedCidrV6Overlap(c6, this.store.all());
      subnet6 = formatCidr6(c6);
      gateway6 = formatIp6(c6.base + 1n);
    }
    const rec: NetworkRecord = { id: builtinNetworkId('bridge'), name: 'bridge', driver: 'bridge', bridge: this.cfg.bridge, subnet: formatCidr(subnet), gateway, ipRange, ipv4: true, ipv6: !!subnet6, subnet6, gateway6, ipRange6: '', internal: false, labels: {}, options: {}, createdAt: existing?.createdAt ?? now };
    if (!existing) this.store.insert(rec);
    else if (existing.bridge !== rec.bridge || existing.subnet !== rec.subnet || existing.gateway !== rec.gateway || existing.ipRange !== rec.ipRange || existing.subnet6 !== rec.subnet6 || existing.ipv6 !== rec.ipv6) {
      if (existing.bridge !== rec.bridge || existing.subnet !== rec.subnet || existing.subnet6 !== rec.subnet6) await this.deps.sys.links.deleteLink(existing.bridge).catch(() => undefined);
      if (existing.subnet6 !== rec.subnet6 || existing.bridge !== rec.bridge || existing.subnet !== rec.subnet) await this.removeRules(existing);
      this.store.update(rec);
    }
  }

  /** The network's NAT and forwarding rules, once per network (not per
   * container): nothing with --iptables=false, as dockerd. */
  private async ensureRules(n: NetworkRecord): Promise<void> {
    if (!this.cfg.iptables || n.driver !== 'bridge' || (!hasIpv4(n) && !dualStack(n))) return;
    await this.deps.sys.firewall.ensureBridgeRules(rulesSpec(this.cfg.dataRoot, n));
  }

  private async removeRules(n: NetworkRecord): Promise<void> {
    if (!this.cfg.iptables || n.driver !== 'bridge') return;
    await this.deps.sys.firewall.removeBridgeRules(rulesSpec(this.cfg.dataRoot, n)).catch((e) => log.warn('removing a network\'s iptables rules failed', { network: n.name, bridge: n.bridge, err: e }));
  }

  /** The configured pools of one family (default-address-pools), checked
   * again here (the daemon's config checked them at start). */
  private configuredPools(family: Family): AddressPool[] {
    return (this.cfg.addressPools ?? []).map((p) => parsePoolSpec(p, 'default-address-pools')).filter((p) => p.family === family);
  }

  /** What a new subnet of one family must not overlap: the host's routes
   * and every network of this daemon. */
  private async takenPrefixes(family: Family): Promise<Prefix[]> {
    const taken: Prefix[] = [];
    const routes = family === 4 ? this.deps.sys.links.routes() : this.deps.sys.links.routes6();
    for (const r of await routes.catch(() => [] as string[])) {
      try {
        const p = parsePrefix(r);
        if (p.family === family) taken.push(p);
      } catch {
        // a route we cannot read takes nothing
      }
    }
    for (const n of this.store.all()) {
      const sub = family === 4 ? n.subnet : n.subnet6;
      if (sub) taken.push(parsePrefix(sub));
    }
    return taken;
  }

  /** A subnet that overlaps no host route and no network of this daemon,
   * from default-address-pools' IPv4 entries or Docker's built-in pools.
   * None left is a NotFound (404), as dockerd's IPAM says it. */
  private async freeSubnet(): Promise<Cidr> {
    const pools = this.configuredPools(4);
    const s = allocateSubnet(pools.length ? pools : defaultIpv4Pools(), await this.takenPrefixes(4));
    if (!s) throw notFound(`could not find an available, non-overlapping IPv4 address pool among the ${pools.length ? 'default-address-pools' : 'defaults'} to assign to the network`);
    return { base: Number(s.base), prefix: s.prefix };
  }

  /** The same for IPv6: default-address-pools' IPv6 entries, or else a /64
   * of the daemon's ULA /48 (its 40-bit global ID drawn once, kept in the
   * database). */
  private async freeSubnet6(): Promise<Cidr6> {
    const configured = this.configuredPools(6);
    const pools = configured.length ? configured : [ulaPool(this.store.settingOnce('ula_global_id', randomUlaGlobalId()))];
    const s = allocateSubnet(pools, await this.takenPrefixes(6));
    if (!s) throw notFound(`could not find an available, non-overlapping IPv6 address pool among the ${configured.length ? 'default-address-pools' : 'defaults'} to assign to the network`);
    return { base: s.base, prefix: s.prefix };
  }

  private async startDns(n: NetworkRecord): Promise<void> {
    if (this.dns.has(n.id)) return;
    const address = hasIpv4(n) ? n.gateway : dualStack(n) ? n.gateway6 : '';
    if (!address) return;
    const server = new DnsServer(
      address,
      {
        lookup: (name, client, family) => this.lookupFor(n, name, client, family),
        upstreams: (client) => this.upstreamsFor(n, client),
      },
      this.cfg.dnsPort ?? 53,
    );
    try {
      await server.start();
      // Removed (or started twice) while the sockets were binding: this one is not wanted.
      if (!this.store.get(n.id) || this.dns.has(n.id)) {
        server.close();
        return;
      }
      this.dns.set(n.id, server);
    } catch (e) {
      log.warn('the embedded DNS could not listen: names will not resolve on this network', { network: n.name, address, err: e });
    }
  }

  /** A name as a client on network `n` sees it: on every user network its
   * container is attached to (Docker's embedded DNS does the same). The
   * addresses of one family (4: A records, 6: AAAA); [] for a name that is
   * ours but has none of that family, undefined for a name that is not ours. */
  lookupFor(n: NetworkRecord, name: string, client: string, family: 4 | 6 = 4): string[] | undefined {
    const self = this.endpointAt(n, client);
    const nets = self ? this.store.endpointsOf(self.containerId).filter((e) => e.state).map((e) => this.store.get(e.networkId)).filter((x): x is NetworkRecord => !!x && x.name !== 'bridge') : [n];
    if (!nets.some((x) => x.id === n.id)) nets.unshift(n);
    const linked = self && this.lookupLink(self.containerId, nets, name, family);
    if (linked?.length) return linked;
    // A network that knows the name but has no address of this family (an
    // IPv4-only one, for AAAA) does not end the search: a later one may.
    let known = linked;
    for (const net of nets) {
      const hit = this.lookupName(net, name, family);
      if (hit?.length) return hit;
      known ??= hit;
    }
    return known;
  }

  /** Docker's links on user networks (`--link`, compose's `links:`): an
   * alias only the linking container resolves, to the linked container's
   * address on a network both are on. */
  private lookupLink(selfId: string, nets: NetworkRecord[], name: string, family: 4 | 6): string[] | undefined {
    for (const link of this.store.endpointsOf(selfId).flatMap((e) => e.config.links ?? [])) {
      const l = parseLink(link);
      if (!l || l.alias.toLowerCase() !== name) continue;
      const target = this.containers?.all().find((c) => c.name === l.target || c.id === l.target);
      if (!target) continue;
      let known = false;
      for (const net of nets) {
        const st = this.store.endpointsOf(target.id).find((e) => e.networkId === net.id)?.state;
        if (!live(st)) continue;
        known = true;
        const ip = family === 6 ? st.ip6 : st.ip;
        if (ip) return [ip];
      }
      if (known) return [];
    }
    return undefined;
  }

  /** Names on a network: container name, short id and aliases of every running
   * container attached, also with ".<network>" appended. */
  lookupName(n: NetworkRecord, name: string, family: 4 | 6 = 4): string[] | undefined {
    const out: string[] = [];
    let known = false;
    for (const ep of this.store.endpointsOn(n.id)) {
      if (!live(ep.state)) continue;
      const c = this.containers?.get(ep.containerId);
      if (!c) continue;
      const names = dnsNames(c, ep).map((x) => x.toLowerCase());
      if (!names.some((x) => x === name || `${x}.${n.name.toLowerCase()}` === name)) continue;
      known = true;
      const ip = family === 6 ? ep.state.ip6 : ep.state.ip;
      if (ip) out.push(ip);
    }
    return known ? out : undefined;
  }

  /** The endpoint on `n` that a DNS query came from, by its source address. */
  private endpointAt(n: NetworkRecord, client: string): EndpointRecord | undefined {
    const addr = canonical(client);
    return this.store.endpointsOn(n.id).find((e) => live(e.state) && (e.state.ip === addr || e.state.ip6 === addr));
  }

  private upstreamsFor(n: NetworkRecord, client: string): string[] {
    const ep = this.endpointAt(n, client);
    const dns = ep && this.containers?.get(ep.containerId)?.hostConfig.Dns;
    return dns?.length ? dns : this.hostResolvers;
  }

  // ---- lookups

  /** By exact id, exact name, then a unique id prefix, as Docker. */
  find(idOrName: string): NetworkRecord {
    const all = this.store.all();
    const hit = all.find((n) => n.id === idOrName) ?? all.find((n) => n.name === idOrName);
    if (hit) return hit;
    const byPrefix = idOrName ? all.filter((n) => n.id.startsWith(idOrName)) : [];
    if (byPrefix.length === 1) return byPrefix[0]!;
    if (byPrefix.length > 1) throw invalid(`network ${idOrName} is ambiguous (${byPrefix.length} matches found based on ID prefix)`);
    throw notFound(`network ${idOrName} not found`);
  }

  // ---- the container side

  /** At create: the networks a container attaches to, checked. */
  plan(c: { hostConfig: HostConfig; config: ContainerConfig }, endpoints: Record<string, EndpointSettingsRequest | null | undefined> = {}): EndpointPlan[] {
    const mode = c.hostConfig.NetworkMode || 'default';
    wantedPorts(c.hostConfig.PortBindings, c.config.ExposedPorts, !!c.hostConfig.PublishAllPorts); // refuses bad specs now
    if (mode === 'host' || mode === 'none' || mode.startsWith('container:')) {
      if (c.config.MacAddress) throw invalid('conflicting options: mac-address and the network mode');
      return [];
    }
    const name = mode === 'default' ? 'bridge' : mode;
    if (name === 'bridge' && this.cfg.bridge === 'none') return [];
    const primary = this.find(name);
    const plans: EndpointPlan[] = [];
    const add = (n: NetworkRecord, req: EndpointSettingsRequest | null | undefined, mac?: string): void => {
      if (n.driver !== 'bridge') throw invalid(`container cannot be connected to network ${n.name} and another network mode`);
      const config = this.endpointConfig(n, req, mac);
      if (plans.some((p) => p.networkId === n.id)) return;
      plans.push({ networkId: n.id, config });
    };
    let primaryReq = endpoints[mode] ?? endpoints[primary.name] ?? endpoints[primary.id];
    // HostConfig.Links on a user network (docker-py and compose put them
    // there) belong to its endpoint, where dockerd moves them too.
    const legacy = primary.name !== 'bridge' ? (c.hostConfig.Links ?? []) : [];
    if (legacy.length) primaryReq = { ...primaryReq, Links: [...new Set([...(primaryReq?.Links ?? []), ...legacy])] };
    add(primary, primaryReq, primaryReq?.MacAddress || c.config.MacAddress);
    for (const [key, req] of Object.entries(endpoints)) {
      if (key === mode || key === primary.name || key === primary.id) continue;
      add(this.find(key), req, req?.MacAddress);
    }
    return plans;
  }

  private endpointConfig(n: NetworkRecord, req: EndpointSettingsRequest | null | undefined, mac?: string): EndpointConfig {
    const config: EndpointConfig = {};
    const ip = req?.IPAMConfig?.IPv4Address;
    const ip6 = req?.IPAMConfig?.IPv6Address;
    const aliases = (req?.Aliases ?? []).filter(Boolean);
    if (n.name === 'bridge' && (ip || ip6)) throw invalid('user specified IP address is supported on user defined networks only');
    if (n.name === 'bridge' && aliases.length) throw invalid('network-scoped alias is supported only for containers in user defined networks');
    if (ip) {
      if (!isIpv4(ip)) throw invalid(`invalid IPv4 address: ${ip}`);
      if (!n.subnet || !contains(parseCidr(n.subnet), parseIp(ip))) throw invalid(`no configured subnet or ip-range contain the IP address ${ip}`);
      config.ipv4 = ip;
    }
    if (ip6) {
      if (!isIpv6(ip6)) throw invalid(`invalid IPv6 address: ${ip6}`);
      if (!dualStack(n) || !contains6(parseCidr6(n.subnet6), parseIp6(ip6))) throw invalid(`Invalid address ${ip6}: It does not belong to any of this network's subnets`);
      config.ipv6 = formatIp6(parseIp6(ip6));
    }
    if (mac) {
      if (!/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(mac)) throw invalid(`invalid MAC address: ${mac}`);
      config.mac = mac.toLowerCase();
    }
    if (aliases.length) config.aliases = aliases;
    const links = (req?.Links ?? []).filter(Boolean);
    if (links.length && n.name !== 'bridge') {
      for (const l of links) if (!parseLink(l)) throw invalid(`invalid link: ${l}`);
      config.links = links;
    }
    return config;
  }

  /** Records the plan (inside the create's transaction). */
  record(containerId: string, plans: EndpointPlan[]): void {
    plans.forEach((p, idx) => this.store.putEndpoint({ containerId, networkId: p.networkId, idx, config: p.config, state: null }));
  }

  /** At start: the netns, loopback, one interface per network. Undefined for
   * containers that take no network namespace of their own from us. */
  async attach(c: ContainerRecord, keep?: KeptAddresses): Promise<Attached | undefined> {
    const mode = c.hostConfig.NetworkMode || 'default';
    if (mode === 'host' || mode === 'none' || mode.startsWith('container:') || c.config.NetworkDisabled) return undefined;
    const name = mode === 'default' ? 'bridge' : mode;
    if (name === 'bridge' && this.cfg.bridge === 'none') return undefined;
    const primary = this.find(name);
    let eps = this.store.endpointsOf(c.id);
    if (!eps.some((e) => e.networkId === primary.id)) {
      // A network re-created under the same name, or a record from before networks.
      this.store.putEndpoint({ containerId: c.id, networkId: primary.id, idx: -1, config: {}, state: null });
      eps = this.store.endpointsOf(c.id);
    }
    eps.sort((a, b) => (a.networkId === primary.id ? -1 : b.networkId === primary.id ? 1 : a.idx - b.idx));
    const nsPath = this.netnsPathOf(c.id);
    await this.deps.sys.netns.create(nsPath);
    try {
      await this.deps.sys.cni({ command: 'ADD', containerId: c.id, netns: nsPath, ifname: 'lo', config: loopbackConfig() });
      let first: EndpointState | undefined;
      for (const [i, ep] of eps.entries()) {
        const st = await this.addEndpoint(c, ep, nsPath, `eth${i}`, i === 0, keep?.[ep.networkId]);
        first ??= st;
      }
      return {
        netnsPath: nsPath,
        ip: first?.ip ?? '',
        ...(first?.ip6 ? { ip6: first.ip6 } : {}),
        // The embedded DNS listens on the IPv4 gateway, or the IPv6 one of an IPv6-only network.
        ...(primary.name !== 'bridge' && (first?.gateway || first?.gateway6) ? { nameserver: first.gateway || first.gateway6! } : {}),
        ...(primary.gateway || primary.gateway6 ? { hostGateway: primary.gateway || primary.gateway6 } : {}),
      };
    } catch (e) {
      await this.detach(c).catch(() => undefined);
      throw e;
    }
  }

  private async addEndpoint(c: ContainerRecord, ep: EndpointRecord, nsPath: string, ifname: string, publish: boolean, kept?: KeptAddresses[string]): Promise<EndpointState> {
    const n = this.store.get(ep.networkId);
    if (!n) throw notFound(`network ${ep.networkId} not found`);
    const state = await this.alloc.lock(async () => {
      let ports: PortMapping[] = [];
      if (publish && this.cfg.iptables) {
        const used = new Set<string>();
        for (const e of this.store.endpoints()) for (const p of e.state?.ports ?? []) used.add(`${p.protocol}/${p.hostPort}`);
        const prefer = new Map((kept?.ports ?? []).map((p) => [`${p.protocol}/${p.containerPort}`, p.hostPort]));
        if (!hasIpv4(n)) checkIpv6OnlyBindings(c.hostConfig.PortBindings, n.name);
        ports = await allocatePorts(wantedPorts(c.hostConfig.PortBindings, c.config.ExposedPorts, !!c.hostConfig.PublishAllPorts), used, this.deps.sys.portFree, this.nextPort, prefer);
        for (const p of ports) if (p.hostPort >= this.nextPort && p.hostPort < EPHEMERAL[1]) this.nextPort = p.hostPort + 1;
      }
      // Kept addresses are asked of IPAM and the bridge as --ip and
      // --mac-address would be, for this start only.
      const endpoint = { ...ep.config, ...(kept?.ip ? { ipv4: kept.ip } : {}), ...(kept?.ip6 ? { ipv6: kept.ip6 } : {}), ...(kept?.mac ? { mac: kept.mac } : {}) };
      const plugins = pluginChain(n, { ipamDir: this.ipamDir, iptables: this.cfg.iptables, endpoint, ports });
      const st: EndpointState = { endpointId: randomBytes(32).toString('hex'), netns: nsPath, ifname, ip: '', prefixLen: 0, gateway: '', mac: '', ports, plugins };
      // Saved before ADD: a crash half-way leaves something that start-up DELs.
      this.store.setState(c.id, n.id, st);
      return st;
    });
    let prev: Record<string, unknown> | undefined;
    try {
      for (const p of state.plugins) {
        const res = await this.deps.sys.cni({ command: 'ADD', containerId: c.id, netns: nsPath, ifname, config: prev ? { ...p, prevResult: prev } : p });
        if (res) prev = res;
      }
    } catch (e) {
      if (/already (in use|allocated)|requested IP address/i.test(messageOf(e))) throw conflict(`Address already in use: ${messageOf(e)}`);
      throw e;
    }
    const r = readResult(prev, ifname);
    const done: EndpointState = { ...state, ...r, ...(prev ? { result: prev } : {}) };
    this.store.setState(c.id, n.id, done);
    return done;
  }

  private async delEndpoint(ep: EndpointRecord): Promise<void> {
    const st = ep.state;
    if (!st) return;
    const prevResult = st.result;
    for (const p of [...st.plugins].reverse()) {
      await this.deps.sys
        .cni({ command: 'DEL', containerId: ep.containerId, netns: st.netns, ifname: st.ifname, config: prevResult ? { ...p, prevResult } : p })
        .catch((e) => log.warn('CNI DEL failed', { container: ep.containerId, plugin: p.type, err: e }));
    }
    this.store.setState(ep.containerId, ep.networkId, null);
  }

  /** At exit, stop, failed start and remove: every endpoint released, the netns
   * removed. Idempotent. */
  async detach(c: { id: string }): Promise<void> {
    const eps = this.store.endpointsOf(c.id).filter((e) => e.state).reverse();
    for (const ep of eps) await this.delEndpoint(ep);
    const nsPath = this.netnsPathOf(c.id);
    await this.deps.sys.netns.remove(nsPath);
  }

  /** The addresses and ports a running container holds, to ask for again. */
  addressesOf(c: { id: string }): KeptAddresses {
    const out: KeptAddresses = {};
    for (const ep of this.store.endpointsOf(c.id)) {
      if (live(ep.state)) out[ep.networkId] = { ...(ep.state.ip ? { ip: ep.state.ip } : {}), ...(ep.state.ip6 ? { ip6: ep.state.ip6 } : {}), ...(ep.state.mac ? { mac: ep.state.mac } : {}), ports: ep.state.ports };
    }
    return out;
  }

  /** A container's attachments, the primary first. */
  attachments(c: ContainerRecord): NetworkAttachment[] {
    const out: NetworkAttachment[] = [];
    for (const ep of this.store.endpointsOf(c.id)) {
      const network = this.store.get(ep.networkId);
      if (network) out.push({ network, endpoint: ep });
    }
    return out;
  }

  /** NetworkSettings.Ports of a container. */
  portsOf(c: ContainerRecord): Record<string, Array<{ HostIp: string; HostPort: string }> | null> {
    // A mapping for every host address is 0.0.0.0, as dockerd shows it; on an
    // IPv6-only network it is only the IPv6 one, ::.
    const mappings = this.store.endpointsOf(c.id).flatMap((e) => {
      const n = this.store.get(e.networkId);
      return (e.state?.ports ?? []).map((p) => (p.hostIP || !n || hasIpv4(n) ? p : { ...p, hostIP: '::' }));
    });
    return portsView(mappings, c.config.ExposedPorts, c.hostConfig.PortBindings);
  }

  // ---- the Docker API side

  async list(opts: { filters?: Filters } = {}): Promise<Array<Record<string, unknown>>> {
    const f = checkFilterKeys(opts.filters, new Set(['name', 'id', 'driver', 'label', 'type', 'scope', 'dangling']));
    const out: Array<Record<string, unknown>> = [];
    for (const n of this.store.all()) {
      if (f.name?.length && !f.name.some((x) => n.name.includes(x))) continue;
      if (f.id?.length && !f.id.some((x) => n.id.startsWith(x))) continue;
      if (f.driver?.length && !f.driver.includes(n.driver)) continue;
      if (f.label?.length && !f.label.every((l) => labelMatches(n.labels, l))) continue;
      if (f.scope?.length && !f.scope.includes('local')) continue;
      if (f.type?.length) {
        const t = BUILTIN.has(n.name) ? 'builtin' : 'custom';
        if (f.type.some((x) => x !== 'builtin' && x !== 'custom')) throw invalid(`invalid filter: 'type'='${f.type.join(',')}'`);
        if (!f.type.includes(t)) continue;
      }
      if (f.dangling?.length) {
        const want = f.dangling[0] === 'true' || f.dangling[0] === '1';
        const dangling = !BUILTIN.has(n.name) && this.store.endpointsOn(n.id).length === 0;
        if (want !== dangling) continue;
      }
      out.push(this.describe(n, false));
    }
    return out;
  }

  async inspect(idOrName: string): Promise<Record<string, unknown>> {
    return this.describe(this.find(idOrName), true);
  }

  private describe(n: NetworkRecord, withContainers: boolean): Record<string, unknown> {
    const containers: Record<string, unknown> = {};
    if (withContainers) {
      for (const ep of this.store.endpointsOn(n.id)) {
        if (!live(ep.state)) continue;
        const c = this.containers?.get(ep.containerId);
        containers[ep.containerId] = { Name: c?.name ?? '', EndpointID: ep.state.endpointId, MacAddress: ep.state.mac, IPv4Address: ep.state.ip ? `${ep.state.ip}/${ep.state.prefixLen}` : '', IPv6Address: ep.state.ip6 ? `${ep.state.ip6}/${ep.state.prefixLen6}` : '' };
      }
    }
    const ipamConfig = n.subnet ? [{ Subnet: n.subnet, ...(n.ipRange ? { IPRange: n.ipRange } : {}), Gateway: n.gateway }] : [];
    if (n.subnet6) ipamConfig.push({ Subnet: n.subnet6, ...(n.ipRange6 ? { IPRange: n.ipRange6 } : {}), Gateway: n.gateway6 });
    return {
      Name: n.name,
      Id: n.id,
      Created: n.createdAt,
      Scope: 'local',
      Driver: n.driver,
      EnableIPv4: n.ipv4,
      EnableIPv6: n.ipv6,
      IPAM: { Driver: 'default', Options: null, Config: ipamConfig },
      Internal: n.internal,
      Attachable: false,
      Ingress: false,
      ConfigFrom: { Network: '' },
      ConfigOnly: false,
      Containers: containers,
      Options: networkOptions(n),
      Labels: n.labels,
    };
  }

  async create(req: CreateNetworkRequest): Promise<{ Id: string; Warning: string }> {
    const name = req?.Name?.trim();
    if (!name) throw invalid('network name is required');
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) throw invalid(`invalid network name "${name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    const driver = req.Driver || 'bridge';
    if (driver !== 'bridge') throw notFound(`plugin "${driver}" not found`);
    if (BUILTIN.has(name)) throw forbidden(`${name} is a pre-defined network and cannot be created`);
    if (this.store.byName(name)) throw conflict(`network with name ${name} already exists`);
    if (req.IPAM?.Driver && req.IPAM.Driver !== 'default') throw invalid(`IPAM driver "${req.IPAM.Driver}" is not supported: joey has only "default"`);
    const confs = (req.IPAM?.Config ?? []).filter((c) => c && (c.Subnet || c.Gateway || c.IPRange));
    // A config is IPv6 by its subnet (or, without one, its gateway or range).
    const isV6 = (c: { Subnet?: string; Gateway?: string; IPRange?: string }): boolean => (c.Subnet || c.Gateway || c.IPRange || '').includes(':');
    if (confs.filter((c) => !isV6(c)).length > 1) throw invalid('joey networks take one IPv4 subnet');
    if (confs.filter(isV6).length > 1) throw invalid('joey networks take one IPv6 subnet');
    const ipam = confs.find((c) => !isV6(c));
    // API 1.47's EnableIPv4 (absent: true). dockerd refuses a network with neither family.
    const ipv4 = req.EnableIPv4 !== false;
    if (!ipv4 && !req.EnableIPv6) throw invalid('IPv4 or IPv6 must be enabled: EnableIPv4 is false, so EnableIPv6 must be true (an IPv6-only network)');
    if (!ipv4 && ipam) throw invalid(`an IPv4 subnet, gateway or ip-range (${ipam.Subnet || ipam.Gateway || ipam.IPRange}) needs EnableIPv4: this network is IPv6-only`);
    if (!ipam?.Subnet && (ipam?.Gateway || ipam?.IPRange)) throw invalid('a gateway or an ip-range needs a subnet');
    const rec = await this.creating.lock(async () => {
      const v6 = this.checkIpv6(confs.find(isV6));
      if (req.EnableIPv6 && !v6.subnet6) {
        // No IPv6 subnet given: one from the pools, as dockerd 27 does.
        const c = await this.freeSubnet6();
        Object.assign(v6, { subnet6: formatCidr6(c), gateway6: formatIp6(c.base + 1n), ipRange6: '' });
      }
      const v4 = ipv4 ? await this.ipv4Config(ipam) : { subnet: '', gateway: '', ipRange: '' };
      const id = randomBytes(32).toString('hex');
      const rec: NetworkRecord = {
        id,
        name,
        driver,
        bridge: (req.Options?.['com.docker.network.bridge.name'] || `jbr-${id.slice(0, 11)}`).slice(0, 15),
        ...v4,
        ipv4,
        ipv6: !!req.EnableIPv6,
        ...v6,
        internal: !!req.Internal,
        labels: req.Labels ?? {},
        options: { ...req.Options },
        createdAt: new Date().toISOString(),
      };
      if (this.store.all().some((n) => n.bridge === rec.bridge)) throw conflict(`bridge ${rec.bridge} is used by another network`);
      await this.ensureBridge(rec);
      try {
        await this.ensureRules(rec);
        this.store.insert(rec);
      } catch (e) {
        await this.removeRules(rec);
        await this.deps.sys.links.deleteLink(rec.bridge).catch(() => undefined);
        if (/UNIQUE/.test(messageOf(e))) throw conflict(`network with name ${name} already exists`);
        throw e;
      }
      return rec;
    });
    const id = rec.id;
    await this.startDns(rec);
    this.deps.events.publish({ Type: 'network', Action: 'create', Actor: { ID: id, Attributes: { name, type: driver } } });
    return { Id: id, Warning: '' };
  }

  /** A network's IPv4 subnet (given, or a free one from the pools), gateway and range. */
  private async ipv4Config(ipam: { Subnet?: string; Gateway?: string; IPRange?: string } | undefined): Promise<{ subnet: string; gateway: string; ipRange: string }> {
    let subnet: Cidr;
    if (ipam?.Subnet) {
      subnet = parseCidr(ipam.Subnet, { strict: true });
      if (subnet.prefix > 30) throw invalid(`subnet ${ipam.Subnet} is too small`);
      for (const other of this.store.all()) {
        if (other.subnet && overlaps(parseCidr(other.subnet), subnet)) throw forbidden(`Pool overlaps with other one on this address space`);
      }
    } else {
      subnet = await this.freeSubnet();
    }
    let gateway = formatIp(subnet.base + 1);
    if (ipam?.Gateway) {
      if (!isIpv4(ipam.Gateway) || !contains(subnet, parseIp(ipam.Gateway))) throw invalid(`invalid gateway ${ipam.Gateway}: not in subnet ${formatCidr(subnet)}`);
      gateway = ipam.Gateway;
    }
    let ipRange = '';
    if (ipam?.IPRange) {
      const r = parseCidr(ipam.IPRange, { strict: true });
      if (!contains(subnet, r.base) || r.prefix < subnet.prefix) throw invalid(`invalid ip-range ${ipam.IPRange}: not within subnet ${formatCidr(subnet)}`);
      ipRange = formatCidr(r);
    }
    return { subnet: formatCidr(subnet), gateway, ipRange };
  }

  /** A network's IPv6 subnet, gateway and range, checked as the IPv4 ones
   * (and against the other networks' IPv6 subnets). */
  private checkIpv6(c: { Subnet?: string; Gateway?: string; IPRange?: string } | undefined): { subnet6: string; gateway6: string; ipRange6: string } {
    if (!c) return { subnet6: '', gateway6: '', ipRange6: '' };
    if (!c.Subnet) throw invalid('a gateway or an ip-range needs a subnet');
    const subnet = parseCidr6(c.Subnet, { strict: true });
    if (subnet.prefix > 126) throw invalid(`subnet ${c.Subnet} is too small`);
    for (const other of this.store.all()) {
      if (other.subnet6 && overlaps6(parseCidr6(other.subnet6), subnet)) throw forbidden('Pool overlaps with other one on this address space');
    }
    let gateway6 = formatIp6(subnet.base + 1n);
    if (c.Gateway) {
      if (!isIpv6(c.Gateway) || !contains6(subnet, parseIp6(c.Gateway))) throw invalid(`invalid gateway ${c.Gateway}: not in subnet ${formatCidr6(subnet)}`);
      gateway6 = formatIp6(parseIp6(c.Gateway));
    }
    let ipRange6 = '';
    if (c.IPRange) {
      const r = parseCidr6(c.IPRange, { strict: true });
      if (!contains6(subnet, r.base) || r.prefix < subnet.prefix) throw invalid(`invalid ip-range ${c.IPRange}: not within subnet ${formatCidr6(subnet)}`);
      ipRange6 = formatCidr6(r);
    }
    return { subnet6: formatCidr6(subnet), gateway6, ipRange6 };
  }

  async remove(idOrName: string): Promise<void> {
    const n = this.find(idOrName);
    if (BUILTIN.has(n.name)) throw forbidden(`${n.name} is a pre-defined network and cannot be removed`);
    const active = this.store.endpointsOn(n.id).filter((e) => e.state);
    if (active.length) throw forbidden(`error while removing network: network ${n.name} id ${n.id} has active endpoints`);
    this.dns.get(n.id)?.close();
    this.dns.delete(n.id);
    this.store.delete(n.id); // endpoints of stopped containers go with it, as in Docker
    await this.deps.sys.links.deleteLink(n.bridge).catch((e) => log.warn('deleting a bridge failed', { bridge: n.bridge, err: e }));
    await this.removeRules(n);
    await rm(join(this.ipamDir, cniName(n)), { recursive: true, force: true });
    this.deps.events.publish({ Type: 'network', Action: 'destroy', Actor: { ID: n.id, Attributes: { name: n.name, type: n.driver } } });
  }

  async prune(filters: Filters = {}): Promise<{ NetworksDeleted: string[] }> {
    const f = checkFilterKeys(filters, new Set(['label', 'label!', 'until']));
    const until = f.until?.length ? parseTimeFilter(f.until[0]!) : undefined;
    const deleted: string[] = [];
    for (const n of this.store.all()) {
      // As Docker: only running containers hold a network (a stopped one's
      // endpoint goes with the network, and its next start says so).
      if (BUILTIN.has(n.name) || this.store.endpointsOn(n.id).some((e) => e.state)) continue;
      if (until !== undefined && !(Date.parse(n.createdAt) / 1000 < until)) continue;
      if (f.label?.length && !f.label.every((l) => labelMatches(n.labels, l))) continue;
      if (f['label!']?.length && f['label!'].some((l) => labelMatches(n.labels, l))) continue;
      try {
        await this.remove(n.id);
        deleted.push(n.name);
      } catch (e) {
        if (!is(e, 'not-found') && !is(e, 'forbidden')) throw e;
      }
    }
    return { NetworksDeleted: deleted };
  }

  async connect(idOrName: string, container: string, req: EndpointSettingsRequest = {}): Promise<void> {
    const n = this.find(idOrName);
    const c0 = this.view().find(container);
    await this.view().lock(c0.id, async () => {
      const c = this.view().get(c0.id);
      if (!c) throw notFound(`No such container: ${container}`);
      const mode = c.hostConfig.NetworkMode || 'default';
      if (n.driver !== 'bridge' || mode === 'host' || mode === 'none') throw forbidden(`container cannot be disconnected from host network or connected to host network`);
      if (mode.startsWith('container:')) throw forbidden(`container sharing network namespace with another container or host cannot be connected to any other network`);
      const eps = this.store.endpointsOf(c.id);
      if (eps.some((e) => e.networkId === n.id)) throw forbidden(`endpoint with name ${c.name} already exists in network ${n.name}`);
      const config = this.endpointConfig(n, req, req.MacAddress);
      const ep: EndpointRecord = { containerId: c.id, networkId: n.id, idx: Math.max(-1, ...eps.map((e) => e.idx)) + 1, config, state: null };
      this.store.putEndpoint(ep);
      if (c.state.Running && !c.state.Restarting) {
        const used = new Set(eps.map((e) => e.state?.ifname).filter(Boolean));
        let i = 0;
        while (used.has(`eth${i}`)) i++;
        try {
          await this.addEndpoint(c, ep, this.netnsPathOf(c.id), `eth${i}`, false);
        } catch (e) {
          await this.delEndpoint({ ...ep, state: this.store.endpointsOf(c.id).find((x) => x.networkId === n.id)?.state ?? null }).catch(() => undefined);
          this.store.deleteEndpoint(c.id, n.id);
          throw e;
        }
      }
    });
    this.deps.events.publish({ Type: 'network', Action: 'connect', Actor: { ID: n.id, Attributes: { container: c0.id, name: n.name, type: n.driver } } });
  }

  async disconnect(idOrName: string, container: string, force = false): Promise<void> {
    const n = this.find(idOrName);
    let cid: string;
    try {
      cid = this.view().find(container).id;
    } catch (e) {
      // --force drops a container that no longer exists from the network.
      if (!force) throw e;
      return;
    }
    await this.view().lock(cid, async () => {
      const ep = this.store.endpointsOf(cid).find((e) => e.networkId === n.id);
      if (!ep) throw forbidden(`container ${cid} is not connected to network ${n.name}`);
      await this.delEndpoint(ep);
      this.store.deleteEndpoint(cid, n.id);
    });
    this.deps.events.publish({ Type: 'network', Action: 'disconnect', Actor: { ID: n.id, Attributes: { container: cid, name: n.name, type: n.driver } } });
  }
}

/**
 * A network's Options as Docker shows them: what was asked at create, and the
 * bridge name only on the default bridge (dockerd shows it there and nowhere
 * else; docker-compose compares Options with its file's driver_opts and
 * refuses to reuse a network whose Options hold a key the file lacks).
 */
export function networkOptions(n: NetworkRecord): Record<string, string> {
  return n.name === 'bridge' ? { 'com.docker.network.bridge.name': n.bridge, ...n.options } : { ...n.options };
}

/** A link as given ("name:alias", "name") or as dockerd stores it ("/name:/self/alias"). */
export function parseLink(link: string): { target: string; alias: string } | undefined {
  const [t = '', a] = link.split(':');
  const target = t.replace(/^\//, '');
  const alias = (a ?? target).split('/').pop() ?? '';
  return target && alias ? { target, alias } : undefined;
}

/** DNSNames as Docker shows them: name, aliases, short id. */
export function dnsNames(c: ContainerRecord, ep: EndpointRecord): string[] {
  return [c.name, ...(ep.config.aliases ?? []), c.id.slice(0, 12)];
}

async function hostNameservers(): Promise<string[]> {
  const text = await readFile('/etc/resolv.conf', 'utf8').catch(() => '');
  return text.split('\n').map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1]).filter((s): s is string => !!s);
}
