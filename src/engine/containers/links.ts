// Docker's legacy links on the default bridge (`--link name:alias`), the pure
// part: parsing, the /etc/hosts line and the environment the linking
// container gets, as dockerd writes them. The engine side is link-setup.ts.
import { invalid } from '../../errdefs/index.ts';

export interface Link {
  /** The linked container's name (or id, as given). */
  target: string;
  alias: string;
}

/** A link as the CLI passes it ("name:alias", "name") or as dockerd shows it
 * ("/name:/self/alias"), with dockerd's errors for the malformed ones. */
export function parseLink(spec: string): Link {
  if (!spec) throw invalid('empty string specified for links');
  const parts = spec.split(':');
  if (parts.length > 2) throw invalid(`bad format for links: ${spec}`);
  const [name = '', alias] = parts;
  if (alias === undefined) return { target: name, alias: name };
  // The stored form names the link "/self/alias": its last part is the alias.
  const a = name.startsWith('/') ? (alias.split('/').pop() ?? '') : alias;
  if (!a) throw invalid(`bad format for links: ${spec}`);
  return { target: name.replace(/^\//, ''), alias: a };
}

/** HostConfig.Links as dockerd shows it: "/<linked>:/<linking>/<alias>". */
export function formatLink(target: string, self: string, alias: string): string {
  return `/${target}:/${self}/${alias}`;
}

/** The line of the linking container's /etc/hosts: the alias first, then the
 * linked container's hostname and (unless the alias is that) its name. */
export function linkHostsLine(ip: string, alias: string, hostname: string, name: string): string {
  return `${ip}\t${alias} ${hostname}${alias === name ? '' : ` ${name}`}`;
}

/** The hosts file with the address of `alias`'s line(s) replaced: what dockerd
 * does to a linking container's file when the linked one starts again. */
export function updateLinkHost(hosts: string, alias: string, ip: string): string {
  return hosts
    .split('\n')
    .map((l) => {
      const tab = l.indexOf('\t');
      return tab > 0 && l.slice(tab + 1).split(/\s+/)[0] === alias ? `${ip}${l.slice(tab)}` : l;
    })
    .join('\n');
}

/** The hosts file without the line(s) of `alias`: what `docker rm --link`
 * does to a running linking container's file. */
export function removeLinkHost(hosts: string, alias: string): string {
  return hosts
    .split('\n')
    .filter((l) => {
      const tab = l.indexOf('\t');
      return !(tab > 0 && l.slice(tab + 1).split(/\s+/)[0] === alias);
    })
    .join('\n');
}

/** `docker rm --link` names a link "/<linking>/<alias>" (the leading slash
 * optional): the linking container's name and the alias. A name with no
 * parent part is a container's own name. */
export function splitLinkName(name: string): { parent: string; alias: string } | undefined {
  const full = name.startsWith('/') ? name : `/${name}`;
  const slash = full.lastIndexOf('/');
  if (slash === 0) return undefined;
  return { parent: full.slice(1, slash), alias: full.slice(slash + 1) };
}

interface Port {
  port: number;
  proto: string;
}

/** The exposed ports by number, tcp first among equal numbers (dockerd's order). */
export function sortedPorts(exposed: Record<string, unknown> | null | undefined): Port[] {
  const ports = Object.keys(exposed ?? {}).map((k) => {
    const [p = '', proto = 'tcp'] = k.split('/');
    return { port: Number(p), proto: proto.toLowerCase() };
  }).filter((p) => Number.isInteger(p.port) && p.port > 0);
  return ports.sort((a, b) => a.port - b.port || (a.proto === b.proto ? 0 : a.proto === 'tcp' ? -1 : b.proto === 'tcp' ? 1 : a.proto < b.proto ? -1 : 1));
}

/** The last index of the run of ports from `i` whose numbers climb by one per
 * entry whatever their protocol (dockerd counts them that way). */
function runEnd(ports: Port[], i: number): number {
  let value = ports[i]!.port;
  for (let k = i + 1; k < ports.length; k++) {
    if (ports[k]!.port > value + 1) return k - 1;
    value++;
  }
  return ports.length - 1;
}

/** `extra` over `base`: a variable already there keeps its place, takes the new value. */
function overlay(base: string[], extra: string[]): string[] {
  const out = [...base];
  const at = new Map(out.map((e, i) => [e.split('=')[0]!, i]));
  for (const e of extra) {
    const k = e.split('=')[0]!;
    const i = at.get(k);
    if (i === undefined) {
      at.set(k, out.length);
      out.push(e);
    } else out[i] = e;
  }
  return out;
}

/** The prefix of a link's variables: the alias upper-cased, '-' as '_'
 * (dockerd changes nothing else: "my.db" gives MY.DB_…). */
export function envPrefix(alias: string): string {
  return alias.toUpperCase().replace(/-/g, '_');
}

export interface LinkEnvInput {
  alias: string;
  /** The linking container's name (no slash). */
  self: string;
  /** The linked container's address on the default bridge. */
  ip: string;
  /** The linked container's Config.Env. */
  env: string[] | null | undefined;
  /** The linked container's Config.ExposedPorts. */
  exposedPorts: Record<string, unknown> | null | undefined;
}

/** The variables one link gives: <ALIAS>_PORT (the lowest port), runs of
 * consecutive ports (_START/_END), each port (_ADDR, _PORT, _PROTO),
 * <ALIAS>_NAME and the linked container's env as <ALIAS>_ENV_<VAR> (but HOME
 * and PATH), in dockerd's order. */
export function linkEnv(l: LinkEnvInput): string[] {
  const A = envPrefix(l.alias);
  const ports = sortedPorts(l.exposedPorts);
  const out: string[] = [];
  const url = (p: Port): string => `${p.proto}://${l.ip}:${p.port}`;
  const key = (p: Port, proto = p.proto): string => `${A}_PORT_${p.port}_${proto.toUpperCase()}`;
  if (ports[0]) out.push(`${A}_PORT=${url(ports[0])}`);
  for (let i = 0; i < ports.length;) {
    const j = runEnd(ports, i);
    if (j <= i + 1) {
      i++;
      continue;
    }
    const p = ports[i]!;
    const q = ports[j]!;
    out.push(`${key(p)}_START=${url(p)}`, `${key(p)}_ADDR=${l.ip}`, `${key(p)}_PROTO=${p.proto}`, `${key(p)}_PORT_START=${p.port}`);
    // The end keeps the first port's number in its name, with the last's protocol.
    out.push(`${key(p, q.proto)}_END=${url(q)}`, `${key(p, q.proto)}_PORT_END=${q.port}`);
    i = j + 1;
  }
  for (const p of ports) out.push(`${key(p)}=${url(p)}`, `${key(p)}_ADDR=${l.ip}`, `${key(p)}_PORT=${p.port}`, `${key(p)}_PROTO=${p.proto}`);
  out.push(`${A}_NAME=/${l.self}/${l.alias}`);
  for (const e of l.env ?? []) {
    const i = e.indexOf('=');
    if (i < 0) continue;
    const k = e.slice(0, i);
    if (k === 'HOME' || k === 'PATH') continue;
    out.push(`${A}_ENV_${k}=${e.slice(i + 1)}`);
  }
  return overlay([], out);
}

/** A container's own variables over its links' (a name set by both keeps the link's place). */
export function underLinkEnv(links: string[], own: string[] | null | undefined): string[] {
  return overlay(links, own ?? []);
}

/** The variables of several links, a later one's replacing an earlier one's. */
export function linksEnv(links: LinkEnvInput[]): string[] {
  return links.reduce((env, l) => overlay(env, linkEnv(l)), [] as string[]);
}
