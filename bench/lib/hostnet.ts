// The host-side pieces of bench/run's bridge case: a private bridge name and
// IPv4 /24 per engine (in 10.0.0.0/8, overlapping no host route and no link
// that exists), and the undoing of what the engines leave in the host's
// network namespace: the bridges, the iptables rules and chains they added,
// the FORWARD policy and the sysctls dockerd changes. Everything here is
// scoped: a rule is deleted only if it names one of our bridges or subnets or
// sits in (or jumps to) a chain that did not exist before and holds nothing
// else, so the rules of other engines and test runs on the host are kept.
import { existsSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { excerpt, run } from './proc.ts';
import { splitRule } from '../../src/sys/iptables.ts';

export interface BridgeSpec {
  /** the bridge link's name (≤ 15 characters) */
  name: string;
  /** 10.A.B.0/24 */
  subnet: string;
  /** 10.A.B.1 */
  gateway: string;
  prefix: number;
}

const ipv4 = (s: string): number => s.split('.').reduce((a, x) => a * 256 + Number(x), 0);

function parseCidr(c: string): { base: number; size: number } {
  const [addr, p] = c.split('/');
  const prefix = p === undefined ? 32 : Number(p);
  const size = 2 ** (32 - prefix);
  return { base: Math.floor(ipv4(addr ?? '0.0.0.0') / size) * size, size };
}

const overlaps = (a: { base: number; size: number }, b: { base: number; size: number }) =>
  a.base < b.base + b.size && b.base < a.base + a.size;

/** The host's routes (all tables) and interface addresses, as CIDRs. */
async function usedRanges(): Promise<string[]> {
  const out: string[] = [];
  const routes = await run(['ip', '-4', 'route', 'show', 'table', 'all']);
  for (const l of routes.stdout.split('\n')) {
    const w = l.trim().split(/\s+/);
    let dst = w[0] ?? '';
    if (['local', 'broadcast', 'unicast', 'multicast', 'blackhole', 'unreachable', 'prohibit', 'throw'].includes(dst)) dst = w[1] ?? '';
    if (/^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(dst)) out.push(dst);
  }
  const addrs = await run(['ip', '-4', '-o', 'addr']);
  for (const m of addrs.stdout.matchAll(/inet (\d+\.\d+\.\d+\.\d+\/\d+)/g)) if (m[1]) out.push(m[1]);
  return out;
}

async function linkExists(name: string): Promise<boolean> {
  return (await run(['ip', 'link', 'show', 'dev', name])).code === 0;
}

/**
 * One bridge name and /24 per engine: names `<prefix><pid>` (jb, db, pb…),
 * subnets 10.A.B.0/24 with A from 200 upwards, B from the pid, the first that
 * overlaps no route or address of the host and no other pick.
 */
export async function pickBridges(prefixes: string[]): Promise<BridgeSpec[]> {
  const used = (await usedRanges()).map(parseCidr);
  const picks: BridgeSpec[] = [];
  let n = process.pid % 256;
  let a = 200;
  for (const p of prefixes) {
    const name = `${p}${process.pid}`.slice(0, 15);
    if (await linkExists(name)) throw new Error(`a link named ${name} already exists`);
    for (let tries = 0; ; tries++) {
      if (tries > 50 * 256) throw new Error('no free 10.x.y.0/24 for a bench bridge');
      const subnet = `10.${a}.${n}.0/24`;
      const r = parseCidr(subnet);
      n = (n + 1) % 256;
      if (n === 0) a = a >= 250 ? 200 : a + 1;
      if (used.some((u) => overlaps(u, r))) continue;
      used.push(r);
      picks.push({ name, subnet, gateway: subnet.replace(/0\/24$/, '1'), prefix: 24 });
      break;
    }
  }
  return picks;
}

/** Creates the bridge with its gateway address, up (for dockerd, which only adopts an existing one). */
export async function createBridge(b: BridgeSpec): Promise<void> {
  const steps = [
    ['ip', 'link', 'add', b.name, 'type', 'bridge'],
    ['ip', 'addr', 'add', `${b.gateway}/${b.prefix}`, 'dev', b.name],
    ['ip', 'link', 'set', b.name, 'up'],
  ];
  for (const s of steps) {
    const r = await run(s);
    if (r.code !== 0) {
      if (s !== steps[0]) await deleteBridge(b.name);
      throw new Error(`${s.join(' ')}: ${excerpt(r.stderr)}`);
    }
  }
}

/** Deletes the bridge if it is there (and only a bridge); its veths, if any are left, go with it. */
export async function deleteBridge(name: string): Promise<string | null> {
  if (!(await linkExists(name))) return null;
  if (!existsSync(`/sys/class/net/${name}/bridge`)) return `${name} is not a bridge, left alone`;
  const r = await run(['ip', 'link', 'del', name]);
  return r.code === 0 ? null : `ip link del ${name}: ${excerpt(r.stderr)}`;
}

// ---- iptables --------------------------------------------------------------

const TABLES = ['filter', 'nat', 'mangle', 'raw'] as const;

interface TableState {
  chains: Set<string>;
  /** built-in chains' policies */
  policies: Map<string, string>;
  /** `-A CHAIN …` lines, tokenised (without the -A) */
  rules: string[][];
}

export interface HostNetSnapshot {
  tables: Map<string, TableState>;
  sysctls: Map<string, string>;
  /** of HOST_DIRS, those that existed */
  dirs: Set<string>;
}

/**
 * Host directories the engines create whatever their flags say: podman's
 * libcni keeps its result cache in /var/lib/cni/results (one file per
 * container, removed by DEL) and podman 4.3 makes its network namespaces in
 * /run/netns, which it bind-mounts onto itself (shared), as `ip netns` does.
 * Removed at the end if they were not there before and are empty (unmounted,
 * then rmdir, never recursively), deepest first.
 */
const HOST_DIRS = ['/var/lib/cni/results', '/var/lib/cni', '/run/netns'];

const SYSCTLS = ['/proc/sys/net/ipv4/ip_forward', '/proc/sys/net/bridge/bridge-nf-call-iptables', '/proc/sys/net/bridge/bridge-nf-call-ip6tables'];

export async function snapshotHostNet(): Promise<HostNetSnapshot> {
  const tables = new Map<string, TableState>();
  for (const t of TABLES) {
    const r = await run(['iptables-save', '-t', t]);
    if (r.code !== 0) throw new Error(`iptables-save -t ${t}: ${excerpt(r.stderr)}`);
    const st: TableState = { chains: new Set(), policies: new Map(), rules: [] };
    for (const l of r.stdout.split('\n')) {
      if (l.startsWith(':')) {
        const [chain, policy] = l.slice(1).split(' ');
        if (chain) st.chains.add(chain);
        if (chain && policy && policy !== '-') st.policies.set(chain, policy);
      } else if (l.startsWith('-A ')) st.rules.push(splitRule(l.slice(3)));
    }
    tables.set(t, st);
  }
  const sysctls = new Map<string, string>();
  for (const p of SYSCTLS) {
    try {
      sysctls.set(p, readFileSync(p, 'utf8').trim());
    } catch {
      // br_netfilter not loaded
    }
  }
  return { tables, sysctls, dirs: new Set(HOST_DIRS.filter((d) => existsSync(d))) };
}

function mountedAt(dir: string): boolean {
  return readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[1] === dir);
}

const key = (rule: string[]) => JSON.stringify(rule);

/** Rules of after not in before (as a multiset). */
function added(before: string[][], after: string[][]): string[][] {
  const count = new Map<string, number>();
  for (const r of before) count.set(key(r), (count.get(key(r)) ?? 0) + 1);
  const out: string[][] = [];
  for (const r of after) {
    const k = key(r);
    const c = count.get(k) ?? 0;
    if (c > 0) count.set(k, c - 1);
    else out.push(r);
  }
  return out;
}

/** What the engines' daemons and plugins name their chains: dockerd's and the CNI plugins'. */
const ENGINE_CHAIN = /^(DOCKER|DOCKER-USER|DOCKER-INGRESS|DOCKER-ISOLATION-STAGE-[12]|CNI-.+)$/;

export interface HostNetCleanup {
  /** what was deleted or restored, one line each */
  done: string[];
  /** added since the snapshot and kept (another user's, or not ours to judge) */
  kept: string[];
}

/**
 * Undoes, scoped, what appeared in iptables since before: (1) added rules that
 * name one of the bridges or subnets; (2) chains that did not exist before,
 * have a name dockerd or a CNI plugin uses, and hold only rules added since
 * (none naming another bridge or address): flushed and deleted with the
 * added rules that jump to them; (3) built-in chains' policies that changed
 * (dockerd sets FORWARD to DROP) are set back, if no chain of another dockerd
 * remains; (4) the sysctls ip_forward and bridge-nf-call-ip(6)tables are
 * set back if they changed.
 */
export async function cleanupHostNet(before: HostNetSnapshot, bridges: BridgeSpec[]): Promise<HostNetCleanup> {
  const done: string[] = [];
  const kept: string[] = [];
  const names = new Set(bridges.map((b) => b.name));
  const nets = bridges.map((b) => parseCidr(b.subnet));
  const mentionsOurs = (rule: string[]) =>
    rule.some((w) => names.has(w) || (/^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(w) && !w.startsWith('0.') && nets.some((n) => overlaps(n, parseCidr(w)) && parseCidr(w).size <= n.size)));
  const ipt = async (table: string, args: string[]) => {
    const r = await run(['iptables', '-w', '5', '-t', table, ...args]);
    if (r.code !== 0) kept.push(`${table}: iptables ${args.join(' ')} failed: ${excerpt(r.stderr, 120)}`);
    else done.push(`${table}: iptables ${args.join(' ')}`);
    return r.code === 0;
  };
  const after = await snapshotHostNet();
  for (const t of TABLES) {
    const b = before.tables.get(t);
    const a = after.tables.get(t);
    if (!b || !a) continue;
    let rules = added(b.rules, a.rules);
    // (1) rules that name our bridges or subnets
    for (const r of rules.filter(mentionsOurs)) await ipt(t, ['-D', ...r]);
    rules = rules.filter((r) => !mentionsOurs(r));
    // (2) new engine chains holding nothing but rules added since (and none naming
    // other bridges or addresses); repeat, since chains jump to chains
    // (a per-container CNI-<hash> chain only if one of our rules was in it: another
    // run's chain may be empty for a moment while its plugin fills it)
    const ours = new Set(a.rules.filter(mentionsOurs).map((r) => r[0]));
    const newChains = [...a.chains].filter(
      (c) => !b.chains.has(c) && ENGINE_CHAIN.test(c) && (!/^CNI-[0-9a-f]{24}$/.test(c) || ours.has(c)),
    );
    const current = () => a.rules.filter((r) => !done.includes(`${t}: iptables -D ${r.join(' ')}`));
    const removable = new Set<string>();
    for (const c of newChains) {
      const inside = current().filter((r) => r[0] === c);
      const foreign = inside.filter((r) => r.some((w) => /^\d+\.\d+\.\d+\.\d+/.test(w) || w === '-i' || w === '-o'));
      if (foreign.length === 0) removable.add(c);
      else kept.push(`${t}: chain ${c} (created during the run, holds ${foreign.length} rule(s) of someone else)`);
    }
    // dockerd's chains are shared by every dockerd: if one holds another's
    // rules (a dockerd started during the run), all of them stay
    if (newChains.some((c) => c.startsWith('DOCKER') && !removable.has(c))) {
      for (const c of [...removable]) if (c.startsWith('DOCKER')) removable.delete(c);
    }
    // a chain jumped to from a chain we keep is kept too
    let changed = true;
    while (changed) {
      changed = false;
      for (const r of current()) {
        const target = r[r.indexOf('-j') + 1];
        if (target && removable.has(target) && r[0] && !removable.has(r[0]) && !rules.some((x) => key(x) === key(r))) {
          removable.delete(target);
          kept.push(`${t}: chain ${target} (a rule that was there before jumps to it)`);
          changed = true;
        }
      }
    }
    for (const r of rules) {
      const target = r[r.indexOf('-j') + 1];
      if (r[0] && !removable.has(r[0]) && target && removable.has(target)) await ipt(t, ['-D', ...r]);
    }
    for (const c of removable) await ipt(t, ['-F', c]);
    for (const c of removable) await ipt(t, ['-X', c]);
    // (3) policies
    const otherDocker = [...a.chains].some((c) => c.startsWith('DOCKER') && !removable.has(c));
    for (const [chain, policy] of b.policies) {
      const now = a.policies.get(chain);
      if (now && now !== policy) {
        if (otherDocker) kept.push(`${t}: ${chain} policy ${now} (was ${policy}; another dockerd's chains are there)`);
        else await ipt(t, ['-P', chain, policy]);
      }
    }
  }
  // what else was added and is not ours
  const left = await snapshotHostNet();
  for (const t of TABLES) {
    const b = before.tables.get(t);
    const l = left.tables.get(t);
    if (!b || !l) continue;
    for (const r of added(b.rules, l.rules)) kept.push(`${t}: -A ${r.join(' ')}`);
    for (const c of l.chains) if (!b.chains.has(c)) kept.push(`${t}: chain ${c}`);
  }
  // (4) sysctls
  for (const [p, v] of before.sysctls) {
    let now: string | undefined;
    try {
      now = readFileSync(p, 'utf8').trim();
    } catch {
      continue;
    }
    if (now !== v) {
      try {
        writeFileSync(p, v + '\n');
        done.push(`${p}: ${now} -> ${v}`);
      } catch (e) {
        kept.push(`${p}: ${now} (was ${v}; ${(e as Error).message})`);
      }
    }
  }
  for (const d of HOST_DIRS) {
    if (before.dirs.has(d) || !existsSync(d)) continue;
    try {
      if (readdirSync(d).length > 0) throw new Error('not empty');
      for (let i = 0; i < 4 && mountedAt(d); i++) {
        const r = await run(['umount', d]);
        if (r.code !== 0) throw new Error(`umount: ${excerpt(r.stderr, 120)}`);
        done.push(`umount ${d}`);
      }
      rmdirSync(d);
      done.push(`rmdir ${d}`);
    } catch (e) {
      kept.push(`${d} (created during the run; ${(e as Error).message})`);
    }
  }
  return { done, kept: [...new Set(kept)] };
}
