import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bridgeRulesPlan, isolationRule, jumpRule, splitRule } from './iptables.ts';

const spec = { tag: '0123456789', bridge: 'jbr-x', subnet: '10.88.0.0/16', internal: false };
const c = ['-m', 'comment', '--comment', 'joey jbr-x 10.88.0.0/16'];

test('a network: one MASQUERADE for its subnet leaving elsewhere, forwarding out and replies back', () => {
  const [fwd, nat] = bridgeRulesPlan(spec);
  assert.equal(fwd!.table, 'filter');
  assert.equal(fwd!.parent, 'FORWARD');
  assert.equal(fwd!.chain, 'JOEY-0123456789-FWD');
  assert.equal(fwd!.insert, true);
  assert.deepEqual(fwd!.rules, [
    ['-o', 'jbr-x', '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', ...c, '-j', 'ACCEPT'],
    ['-o', 'jbr-x', '-m', 'conntrack', '--ctstate', 'DNAT', ...c, '-j', 'ACCEPT'],
    ['-i', 'jbr-x', ...c, '-j', 'ACCEPT'],
  ]);
  assert.equal(nat!.table, 'nat');
  assert.equal(nat!.parent, 'POSTROUTING');
  assert.equal(nat!.chain, 'JOEY-0123456789-NAT');
  assert.deepEqual(nat!.rules, [['-s', '10.88.0.0/16', '!', '-o', 'jbr-x', ...c, '-j', 'MASQUERADE']]);
  assert.deepEqual(jumpRule(spec, 'JOEY-0123456789-FWD'), [...c, '-j', 'JOEY-0123456789-FWD']);
  for (const p of [fwd!, nat!]) assert.ok(p.chain.length <= 28);
});

test('isolation: new connections towards another bridge go to the daemon\'s chain, which drops those into each network', () => {
  const iso = { ...spec, isolation: 'JOEY-abcdefabcd-ISO' };
  const [fwd] = bridgeRulesPlan(iso);
  // after the replies and published ports are let in, before the catch-all ACCEPT
  assert.deepEqual(fwd!.rules[2], ['-i', 'jbr-x', '!', '-o', 'jbr-x', '-m', 'conntrack', '!', '--ctstate', 'RELATED,ESTABLISHED,DNAT', ...c, '-j', 'JOEY-abcdefabcd-ISO']);
  assert.deepEqual(fwd!.rules.map((r) => r.at(-1)), ['ACCEPT', 'ACCEPT', 'JOEY-abcdefabcd-ISO', 'ACCEPT']);
  assert.deepEqual(isolationRule(iso), ['-o', 'jbr-x', ...c, '-j', 'DROP']);
  assert.ok('JOEY-abcdefabcd-ISO'.length <= 28);
});

test('an internal network: no NAT, nothing forwarded out of or into the bridge', () => {
  const [fwd, nat] = bridgeRulesPlan({ ...spec, internal: true });
  assert.deepEqual(fwd!.rules.map((r) => r.at(-1)), ['ACCEPT', 'DROP', 'DROP']);
  assert.deepEqual(fwd!.rules[0]!.slice(0, 4), ['-i', 'jbr-x', '-o', 'jbr-x']);
  assert.deepEqual(nat!.rules, []);
});

test('iptables -S lines split back into arguments', () => {
  assert.deepEqual(splitRule('-A FORWARD -m comment --comment "joey jbr-x 10.88.0.0/16" -j JOEY-0123456789-FWD'), ['-A', 'FORWARD', ...c, '-j', 'JOEY-0123456789-FWD']);
  assert.deepEqual(splitRule('-A X -m comment --comment "a \\"b\\"" -j ACCEPT'), ['-A', 'X', '-m', 'comment', '--comment', 'a "b"', '-j', 'ACCEPT']);
  assert.deepEqual(splitRule('-A X --comment "" -j Y'), ['-A', 'X', '--comment', '', '-j', 'Y']);
});

test('a dual-stack network: the same chains in ip6tables, its IPv6 subnet masqueraded, the same comment', () => {
  const dual = { ...spec, subnet6: 'fd00:1:2::/64', isolation: 'JOEY-abcdefabcd-ISO' };
  const [fwd4, nat4] = bridgeRulesPlan(dual, 4);
  const [fwd6, nat6] = bridgeRulesPlan(dual, 6);
  assert.deepEqual(fwd6, fwd4, 'forwarding and isolation are the same rules');
  assert.deepEqual(nat4!.rules, [['-s', '10.88.0.0/16', '!', '-o', 'jbr-x', ...c, '-j', 'MASQUERADE']]);
  assert.deepEqual(nat6!.rules, [['-s', 'fd00:1:2::/64', '!', '-o', 'jbr-x', ...c, '-j', 'MASQUERADE']]);
  assert.deepEqual(bridgeRulesPlan({ ...dual, internal: true }, 6)[1]!.rules, []);
});

test('an IPv6-only network\'s rules are commented with its IPv6 subnet and masquerade it', () => {
  const spec = { tag: '0123456789', bridge: 'jbr-x', subnet: '', subnet6: 'fd6b:1::/64', internal: false };
  const [, nat] = bridgeRulesPlan(spec, 6);
  assert.deepEqual(nat!.rules, [['-s', 'fd6b:1::/64', '!', '-o', 'jbr-x', '-m', 'comment', '--comment', 'joey jbr-x fd6b:1::/64', '-j', 'MASQUERADE']]);
});
