// Host links and routes through iproute2's `ip` (JSON output): the bridges
// that networks own and the routes used to pick subnets that collide with
// nothing on the host.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { run } from './exec.ts';

/** addr_assign_type of a link whose address was set (NET_ADDR_SET). */
const ADDR_SET = '3';

/** A random locally administered unicast MAC address. */
function randomMac(): string {
  const b = randomBytes(6);
  b[0] = (b[0]! & 0xfe) | 0x02;
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

export interface LinkOps {
  /** Creates the bridge when missing, gives it `address` (a.b.c.d/len; none
   * on an IPv6-only network), and
   * `address6` (x::1/len) when given, and brings it up. Its MAC address is
   * fixed: a bridge whose address was never set takes the lowest of its
   * ports', so a container leaving would change the gateway's MAC under the
   * others, whose ARP caches then point at nothing for up to a minute (their
   * DNS, served on the gateway, goes silent); dockerd sets it for the same reason. */
  ensureBridge(name: string, address: string | undefined, address6?: string): Promise<void>;
  deleteLink(name: string): Promise<void>;
  linkExists(name: string): Promise<boolean>;
  /** Destinations of the host's IPv4 routes (CIDRs; "default" left out). */
  routes(): Promise<string[]>;
  /** The same for IPv6 (unicast routes of every table: link-local, the
   * host's own prefixes, other engines' bridges). */
  routes6(): Promise<string[]>;
  /** Names of the host's links. */
  links(): Promise<string[]>;
}

export const links: LinkOps = {
  async ensureBridge(name, address, address6) {
    if (!(await this.linkExists(name))) {
      const r = await run('ip', ['link', 'add', name, 'address', randomMac(), 'type', 'bridge'], { allowFailure: true });
      if (r.code !== 0 && !/exists/i.test(r.stderr)) throw new Error(`ip link add ${name}: ${r.stderr.trim()}`);
    }
    const sys = `/sys/class/net/${name}`;
    if ((await readFile(`${sys}/addr_assign_type`, 'utf8')).trim() !== ADDR_SET) {
      // A bridge made before (by an older joeyd, or by hand): its current
      // address, which the containers already on it have cached, is kept.
      await run('ip', ['link', 'set', 'dev', name, 'address', (await readFile(`${sys}/address`, 'utf8')).trim()]);
    }
    if (address) {
      const r = await run('ip', ['addr', 'add', address, 'dev', name], { allowFailure: true });
      if (r.code !== 0 && !/exists/i.test(r.stderr)) throw new Error(`ip addr add ${address} dev ${name}: ${r.stderr.trim()}`);
    }
    if (address6) {
      // nodad: the gateway answers at once (a tentative address would not
      // route the containers' first packets).
      const r = await run('ip', ['-6', 'addr', 'add', address6, 'dev', name, 'nodad'], { allowFailure: true });
      if (r.code !== 0 && !/exists/i.test(r.stderr)) throw new Error(`ip -6 addr add ${address6} dev ${name}: ${r.stderr.trim()}`);
    }
    await run('ip', ['link', 'set', name, 'up']);
  },
  async deleteLink(name) {
    const r = await run('ip', ['link', 'del', name], { allowFailure: true });
    if (r.code !== 0 && !/cannot find device|does not exist/i.test(r.stderr)) throw new Error(`ip link del ${name}: ${r.stderr.trim()}`);
  },
  async linkExists(name) {
    return (await run('ip', ['link', 'show', 'dev', name], { allowFailure: true })).code === 0;
  },
  routes() {
    return unicastRoutes(4);
  },
  routes6() {
    return unicastRoutes(6);
  },
  async links() {
    const r = await run('ip', ['-j', 'link', 'show']);
    return (JSON.parse(r.stdout || '[]') as Array<{ ifname: string }>).map((l) => l.ifname);
  },
};

/** Destinations of the host's unicast routes of one family, every table, as
 * CIDRs (a host route gets /32 or /128); "default" left out. */
async function unicastRoutes(family: 4 | 6): Promise<string[]> {
  const r = await run('ip', [`-${family}`, '-j', 'route', 'show', 'table', 'all']);
  const rows = JSON.parse(r.stdout || '[]') as Array<{ dst?: string; type?: string }>;
  const host = family === 4 ? '/32' : '/128';
  return rows.filter((x) => x.dst && x.dst !== 'default' && (!x.type || x.type === 'unicast')).map((x) => (x.dst!.includes('/') ? x.dst! : `${x.dst}${host}`));
}
