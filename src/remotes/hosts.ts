// Which hosts a repository is reached through, and how: docker.io's real
// host, mirrors before it, and the insecure-registry rules (plain http or
// unverified TLS for listed hosts, CIDRs and loopback, as Docker does).
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { invalid } from '../errdefs/index.ts';
import { parseServiceUrl } from '../util/url.ts';

export type Scheme = 'https' | 'http';

export interface Endpoint {
  /** host[:port] as it appears in URLs. */
  host: string;
  /** A mirror URL's path ("" or "/prefix"), put before "/v2/". */
  prefix: string;
  /** Schemes to try, in order: insecure hosts fall back to plain http. */
  schemes: Scheme[];
  /** https without certificate verification. */
  insecureTls: boolean;
  mirror: boolean;
}

export const DOCKER_HUB_DOMAIN = 'docker.io';
export const DOCKER_HUB_HOST = 'registry-1.docker.io';
const HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/** The host name of "host[:port]" or "[v6]:port", lowercase, without brackets. */
export function hostname(host: string): string {
  const h = host.toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') > 0 ? h.indexOf(']') : undefined);
  const colon = h.indexOf(':');
  // More than one colon without brackets is a bare IPv6 address.
  if (colon >= 0 && h.indexOf(':', colon + 1) < 0) return h.slice(0, colon);
  return h;
}

function family(ip: string): 'ipv4' | 'ipv6' | undefined {
  const v = isIP(ip);
  return v === 4 ? 'ipv4' : v === 6 ? 'ipv6' : undefined;
}

/** Decides which hosts are insecure, caching answers (they may need DNS). */
export class InsecurePolicy {
  #exact = new Set<string>();
  #cidrs = new BlockList();
  #cache = new Map<string, Promise<boolean>>();
  readonly #resolve: (name: string) => Promise<string[]>;

  constructor(entries: string[], resolve?: (name: string) => Promise<string[]>) {
    this.#resolve = resolve ?? (async (name) => (await lookup(name, { all: true })).map((a) => a.address));
    // Docker treats loopback as insecure by default.
    this.#cidrs.addSubnet('127.0.0.0', 8, 'ipv4');
    this.#cidrs.addAddress('::1', 'ipv6');
    for (const raw of entries) {
      const entry = raw.trim().replace(/^[a-z]+:\/\//i, '').replace(/\/+$/, '').toLowerCase();
      if (entry === '') continue;
      const slash = entry.indexOf('/');
      if (slash < 0) {
        this.#exact.add(entry);
        continue;
      }
      const addr = entry.slice(0, slash);
      const bits = Number(entry.slice(slash + 1));
      const fam = family(addr);
      const max = fam === 'ipv4' ? 32 : 128;
      if (!fam || !Number.isInteger(bits) || bits < 0 || bits > max) {
        throw invalid(`insecure registry ${JSON.stringify(raw)} is neither host[:port] nor a valid CIDR`);
      }
      this.#cidrs.addSubnet(addr, bits, fam);
    }
  }

  isInsecure(host: string): Promise<boolean> {
    const key = host.toLowerCase();
    let p = this.#cache.get(key);
    if (!p) {
      p = this.#decide(key);
      this.#cache.set(key, p);
    }
    return p;
  }

  async #decide(host: string): Promise<boolean> {
    if (this.#exact.has(host)) return true;
    const name = hostname(host);
    if (name === 'localhost' || this.#exact.has(name)) return true;
    let ips: string[];
    if (family(name)) ips = [name];
    else {
      try {
        ips = await this.#resolve(name);
      } catch {
        return false; // unresolvable: the connection attempt will say so
      }
    }
    return ips.some((ip) => {
      const fam = family(ip);
      return fam !== undefined && this.#cidrs.check(ip, fam);
    });
  }
}

/** The registry itself for a reference's domain. */
export async function originEndpoint(domain: string, policy: InsecurePolicy, hubHost = DOCKER_HUB_HOST): Promise<Endpoint> {
  const host = domain === DOCKER_HUB_DOMAIN ? hubHost : domain;
  // Docker Hub is always secure; skip the DNS lookup for it.
  const insecure = host === DOCKER_HUB_HOST ? false : await policy.isInsecure(host);
  return { host, prefix: '', schemes: insecure ? ['https', 'http'] : ['https'], insecureTls: insecure, mirror: false };
}

/** Checks a mirror URL ("http://127.0.0.1:5001", "https://mirror.example/prefix"). */
export function parseMirror(raw: string): URL {
  return parseServiceUrl(raw, 'registry mirror');
}

export async function mirrorEndpoint(url: URL, policy: InsecurePolicy): Promise<Endpoint> {
  const prefix = url.pathname.replace(/\/+$/, '').replace(/\/v2$/, '');
  if (url.protocol === 'http:') return { host: url.host, prefix, schemes: ['http'], insecureTls: false, mirror: true };
  const insecure = await policy.isInsecure(url.host);
  return { host: url.host, prefix, schemes: insecure ? ['https', 'http'] : ['https'], insecureTls: insecure, mirror: true };
}

/** Where to pull from, in order: mirrors (docker.io only), then the origin. */
export async function pullEndpoints(domain: string, mirrors: URL[], policy: InsecurePolicy, hubHost = DOCKER_HUB_HOST): Promise<Endpoint[]> {
  const out: Endpoint[] = [];
  if (domain === DOCKER_HUB_DOMAIN) for (const m of mirrors) out.push(await mirrorEndpoint(m, policy));
  out.push(await originEndpoint(domain, policy, hubHost));
  return out;
}

/** The domain a login is for: "https://index.docker.io/v1/" -> "docker.io",
 * "http://127.0.0.1:5000/" -> "127.0.0.1:5000". */
export function loginDomain(serverAddress: string): string {
  let s = serverAddress.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  const slash = s.indexOf('/');
  if (slash >= 0) s = s.slice(0, slash);
  if (s === '' || HUB_ALIASES.has(s.toLowerCase())) return DOCKER_HUB_DOMAIN;
  return s;
}
