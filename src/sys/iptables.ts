// The per-network iptables rules of a bridge network, installed once when the
// network is created (or found again at start-up) and removed with it, so
// that attaching a container adds no rule at all (as dockerd does for
// docker0). Two chains of the network's own, `JOEY-<tag>-FWD` in filter
// (jumped to from the top of FORWARD) and `JOEY-<tag>-NAT` in nat (jumped to
// from POSTROUTING), and one rule in the daemon's isolation chain
// `JOEY-<daemon tag>-ISO`; `tag` is per daemon and network, and every rule,
// the jumps too, carries the comment `joey <bridge> <subnet>`, so that the
// rules are found and removed exactly and never collide with another daemon's.
// A dual-stack network has the same chains, rules and comments in ip6tables
// (its IPv6 subnet masqueraded), and the daemon's isolation chain there too;
// an IPv6-only one has them in ip6tables only.
import { run } from './exec.ts';

export interface BridgeRulesSpec {
  /** 10 hex digits, per daemon and network: the chains' names. */
  tag: string;
  bridge: string;
  /** The network's IPv4 subnet (a.b.c.d/len); '' for an IPv6-only
   * network, which has no rule in iptables at all. */
  subnet: string;
  /** The IPv6 subnet of a dual-stack or IPv6-only network: the same rules in ip6tables. */
  subnet6?: string;
  /** No way out: forwarding out of (and into) the bridge dropped, no NAT. */
  internal: boolean;
  /** The daemon's isolation chain (`JOEY-<daemon tag>-ISO`), shared by its
   * networks: one `-o <bridge> -j DROP` per network. A network's chain sends
   * what its containers open towards another bridge there, so that two
   * networks of a daemon cannot reach each other directly, as Docker's
   * DOCKER-ISOLATION chains do; published ports (DNAT) stay reachable. */
  isolation?: string;
}

export interface FirewallOps {
  /** Installs the network's rules, or leaves them be when they are already
   * exactly there (a daemon restart): idempotent. */
  ensureBridgeRules(spec: BridgeRulesSpec): Promise<void>;
  /** Removes the network's chains, every jump to them and its rule in the
   * isolation chain (the chain too once empty). Idempotent. */
  removeBridgeRules(spec: BridgeRulesSpec): Promise<void>;
}

type Family = 4 | 6;

interface ChainPlan {
  table: 'filter' | 'nat';
  parent: string;
  chain: string;
  /** Where the jump goes: the top of the parent (ahead of whatever drops), or its end. */
  insert: boolean;
  rules: string[][];
}

export const bridgeChains = (tag: string): { fwd: string; nat: string } => ({ fwd: `JOEY-${tag}-FWD`, nat: `JOEY-${tag}-NAT` });

/** `joey <bridge> <subnet>`: the IPv4 subnet, the IPv6 one on an IPv6-only network. */
export function ruleComment(spec: BridgeRulesSpec): string {
  return `joey ${spec.bridge} ${spec.subnet || spec.subnet6}`;
}

/** The chains and rules of a network (pure, for tests), for iptables (4)
 * or ip6tables (6). */
export function bridgeRulesPlan(spec: BridgeRulesSpec, family: Family = 4): ChainPlan[] {
  const { fwd, nat } = bridgeChains(spec.tag);
  const br = spec.bridge;
  const c = ['-m', 'comment', '--comment', ruleComment(spec)];
  const forward: string[][] = spec.internal
    ? [
        // Neighbours reach each other (with br_netfilter bridged traffic comes here too) ...
        ['-i', br, '-o', br, ...c, '-j', 'ACCEPT'],
        // ... nothing leaves the bridge, and nothing routed gets in.
        ['-i', br, ...c, '-j', 'DROP'],
        ['-o', br, ...c, '-j', 'DROP'],
      ]
    : [
        // Replies to what the containers opened.
        ['-o', br, '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', ...c, '-j', 'ACCEPT'],
        // Published ports (portmap DNATs them), from other hosts too.
        ['-o', br, '-m', 'conntrack', '--ctstate', 'DNAT', ...c, '-j', 'ACCEPT'],
        // Connections opened towards another network of the daemon: dropped there.
        ...(spec.isolation ? [['-i', br, '!', '-o', br, '-m', 'conntrack', '!', '--ctstate', 'RELATED,ESTABLISHED,DNAT', ...c, '-j', spec.isolation]] : []),
        // Out of the bridge: outside, the neighbours, hairpin.
        ['-i', br, ...c, '-j', 'ACCEPT'],
      ];
  const plans: ChainPlan[] = [{ table: 'filter', parent: 'FORWARD', chain: fwd, insert: true, rules: forward }];
  plans.push({ table: 'nat', parent: 'POSTROUTING', chain: nat, insert: false, rules: spec.internal ? [] : [['-s', family === 6 ? spec.subnet6! : spec.subnet, '!', '-o', br, ...c, '-j', 'MASQUERADE']] });
  return plans;
}

/** The network's rule in the daemon's isolation chain. */
export function isolationRule(spec: BridgeRulesSpec): string[] {
  return ['-o', spec.bridge, '-m', 'comment', '--comment', ruleComment(spec), '-j', 'DROP'];
}

/** The jump from the parent chain to a network's chain. */
export function jumpRule(spec: BridgeRulesSpec, chain: string): string[] {
  return ['-m', 'comment', '--comment', ruleComment(spec), '-j', chain];
}

/** Splits a line of `iptables -S` into its arguments (double quotes, backslash escapes). */
export function splitRule(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inToken = false;
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '\\' && i + 1 < line.length) cur += line[++i];
      else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') {
      quoted = true;
      inToken = true;
    } else if (ch === ' ' || ch === '\t') {
      if (inToken) out.push(cur);
      cur = '';
      inToken = false;
    } else {
      cur += ch;
      inToken = true;
    }
  }
  if (inToken) out.push(cur);
  return out;
}

const bin = (f: Family): string => (f === 6 ? 'ip6tables' : 'iptables');
const ipt = (f: Family, table: string, args: string[]) => run(bin(f), ['-w', '-t', table, ...args], { allowFailure: true });

async function must(f: Family, table: string, args: string[]): Promise<void> {
  const r = await ipt(f, table, args);
  if (r.code !== 0) throw new Error(`${bin(f)} -t ${table} ${args.join(' ')}: ${r.stderr.trim() || `exit ${r.code}`}`);
}

/** Deletes every rule of `parent` that jumps to `chain`. */
async function removeJumps(f: Family, table: string, parent: string, chain: string): Promise<void> {
  const r = await ipt(f, table, ['-S', parent]);
  if (r.code !== 0) return;
  for (const line of r.stdout.split('\n')) {
    const args = splitRule(line.trim());
    if (args[0] !== '-A' || args[args.length - 1] !== chain || args[args.length - 2] !== '-j') continue;
    await ipt(f, table, ['-D', ...args.slice(1)]);
  }
}

async function removeChain(f: Family, table: string, parent: string, chain: string): Promise<void> {
  await removeJumps(f, table, parent, chain);
  const flushed = await ipt(f, table, ['-F', chain]);
  if (flushed.code !== 0) return; // no such chain
  await must(f, table, ['-X', chain]);
}

async function ensureChain(f: Family, spec: BridgeRulesSpec, p: ChainPlan): Promise<void> {
  if (!p.rules.length) {
    await removeChain(f, p.table, p.parent, p.chain);
    return;
  }
  const cur = await ipt(f, p.table, ['-S', p.chain]);
  if (cur.code !== 0) await must(f, p.table, ['-N', p.chain]);
  const count = cur.code === 0 ? cur.stdout.split('\n').filter((l) => l.startsWith('-A ')).length : 0;
  let same = cur.code === 0 && count === p.rules.length;
  for (const rule of same ? p.rules : []) {
    if ((await ipt(f, p.table, ['-C', p.chain, ...rule])).code !== 0) {
      same = false;
      break;
    }
  }
  if (!same) {
    if (cur.code === 0) await must(f, p.table, ['-F', p.chain]);
    for (const rule of p.rules) await must(f, p.table, ['-A', p.chain, ...rule]);
  }
  const jump = jumpRule(spec, p.chain);
  if ((await ipt(f, p.table, ['-C', p.parent, ...jump])).code === 0) return;
  await removeJumps(f, p.table, p.parent, p.chain); // a jump of an older bridge name or subnet
  await must(f, p.table, p.insert ? ['-I', p.parent, '1', ...jump] : ['-A', p.parent, ...jump]);
}

/** The network's DROP in the isolation chain (made when missing), before
 * any chain jumps there. */
async function ensureIsolationMember(f: Family, spec: BridgeRulesSpec, chain: string): Promise<void> {
  if ((await ipt(f, 'filter', ['-S', chain])).code !== 0) {
    const made = await ipt(f, 'filter', ['-N', chain]);
    // Another network's set-up may have made it meanwhile.
    if (made.code !== 0 && (await ipt(f, 'filter', ['-S', chain])).code !== 0) throw new Error(`${bin(f)} -N ${chain}: ${made.stderr.trim()}`);
  }
  const rule = isolationRule(spec);
  if ((await ipt(f, 'filter', ['-C', chain, ...rule])).code !== 0) await must(f, 'filter', ['-A', chain, ...rule]);
}

/** Drops the network's rules from the isolation chain, and the chain once
 * nothing is left in it (and nothing jumps to it). */
async function removeIsolationMember(f: Family, spec: BridgeRulesSpec, chain: string): Promise<void> {
  const cur = await ipt(f, 'filter', ['-S', chain]);
  if (cur.code !== 0) return;
  let left = 0;
  for (const line of cur.stdout.split('\n')) {
    const args = splitRule(line.trim());
    if (args[0] !== '-A') continue;
    const i = args.indexOf('-o');
    if (i > 0 && args[i + 1] === spec.bridge) await ipt(f, 'filter', ['-D', ...args.slice(1)]);
    else left++;
  }
  if (left === 0) await ipt(f, 'filter', ['-X', chain]);
}

async function ensureFamily(f: Family, spec: BridgeRulesSpec): Promise<void> {
  if (spec.isolation) await ensureIsolationMember(f, spec, spec.isolation);
  for (const p of bridgeRulesPlan(spec, f)) await ensureChain(f, spec, p);
}

async function removeFamily(f: Family, spec: BridgeRulesSpec): Promise<void> {
  const { fwd, nat } = bridgeChains(spec.tag);
  await removeChain(f, 'filter', 'FORWARD', fwd);
  await removeChain(f, 'nat', 'POSTROUTING', nat);
  if (spec.isolation) await removeIsolationMember(f, spec, spec.isolation);
}

export const firewall: FirewallOps = {
  async ensureBridgeRules(spec) {
    if (spec.subnet) await ensureFamily(4, spec);
    if (spec.subnet6) await ensureFamily(6, spec);
  },
  async removeBridgeRules(spec) {
    if (spec.subnet) await removeFamily(4, spec);
    if (spec.subnet6) await removeFamily(6, spec);
  },
};
