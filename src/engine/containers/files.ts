// The files joey manages inside a container: /etc/hosts, /etc/hostname and
// /etc/resolv.conf, written on the host and bind-mounted in.
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { invalid } from '../../errdefs/index.ts';
import type { Paths } from './record.ts';
import type { HostConfig } from './types.ts';

const BASE_HOSTS = [
  '127.0.0.1\tlocalhost',
  '::1\tlocalhost ip6-localhost ip6-loopback',
  'fe00::0\tip6-localnet',
  'ff00::0\tip6-mcastprefix',
  'ff02::1\tip6-allnodes',
  'ff02::2\tip6-allrouters',
];

/** `links`: the lines of legacy links (link-setup.ts), after --add-host's
 * and before the container's own, where dockerd puts them. `ip6`: the
 * container's IPv6 address, a line after the IPv4 one as dockerd writes it. */
export function hostsFile(hostname: string, extraHosts: string[] = [], ip?: string, hostGateway = '127.0.0.1', links: string[] = [], ip6?: string): string {
  const lines = [...BASE_HOSTS];
  for (const h of extraHosts) {
    const i = h.indexOf(':');
    const host = h.slice(0, i);
    const addr = h.slice(i + 1).replace(/^\[|\]$/g, '');
    if (i <= 0 || !addr) throw invalid(`invalid extra host "${h}": expected host:ip`);
    lines.push(`${addr === 'host-gateway' ? hostGateway : addr}\t${host}`);
  }
  lines.push(...links);
  if (ip) lines.push(`${ip}\t${hostname}`);
  if (ip6) lines.push(`${ip6}\t${hostname}`);
  return lines.join('\n') + '\n';
}

/** The host's resolv.conf without loopback resolvers (unreachable from a
 * container's network namespace), with the container's own overrides. */
export async function resolvConf(hc: HostConfig, hostNetwork: boolean, embedded?: string): Promise<string> {
  let host = '';
  try {
    host = await readFile('/etc/resolv.conf', 'utf8');
  } catch {
    // no host resolv.conf: start empty
  }
  if (hostNetwork && !hc.Dns?.length && !hc.DnsSearch?.length && !hc.DnsOptions?.length) return host;
  const lines = host.split('\n');
  // On user networks the embedded resolver answers (and forwards to --dns).
  const servers = embedded ? [embedded] : hc.Dns?.length ? hc.Dns : lines.filter((l) => /^\s*nameserver\s/.test(l)).map((l) => l.trim().split(/\s+/)[1]!).filter((s) => hostNetwork || !/^(127\.|::1$)/.test(s));
  const search = hc.DnsSearch?.length ? hc.DnsSearch : lines.filter((l) => /^\s*search\s/.test(l)).flatMap((l) => l.trim().split(/\s+/).slice(1));
  let options = hc.DnsOptions?.length ? hc.DnsOptions : lines.filter((l) => /^\s*options\s/.test(l)).flatMap((l) => l.trim().split(/\s+/).slice(1));
  if (embedded && !options.some((o) => o.startsWith('ndots:'))) options = [...options, 'ndots:0'];
  const out: string[] = [];
  if (search.length) out.push(`search ${search.join(' ')}`);
  for (const s of servers) out.push(`nameserver ${s}`);
  if (options.length) out.push(`options ${options.join(' ')}`);
  return out.join('\n') + '\n';
}

export async function writeContainerFiles(paths: Paths, hostname: string, hc: HostConfig): Promise<void> {
  const hostNetwork = hc.NetworkMode === 'host';
  await writeFile(paths.hostnamePath, (hostNetwork ? os.hostname() : hostname) + '\n', { mode: 0o644 });
  await writeFile(paths.hostsPath, hostNetwork ? await readFile('/etc/hosts', 'utf8').catch(() => hostsFile(os.hostname())) : hostsFile(hostname, hc.ExtraHosts ?? []), { mode: 0o644 });
  await writeFile(paths.resolvConfPath, await resolvConf(hc, hostNetwork), { mode: 0o644 });
}

/** At start, once the network is wired: the container's own address in
 * /etc/hosts, and the embedded resolver of a user network in resolv.conf. */
export async function writeNetworkFiles(paths: Paths, hostname: string, hc: HostConfig, net: { ip: string; ip6?: string; nameserver?: string; hostGateway?: string; links?: string[] }): Promise<void> {
  await writeFile(paths.hostsPath, hostsFile(hostname, hc.ExtraHosts ?? [], net.ip || undefined, net.hostGateway, net.links, net.ip6), { mode: 0o644 });
  await writeFile(paths.resolvConfPath, await resolvConf(hc, false, net.nameserver), { mode: 0o644 });
}
