import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CAPABILITY_NAMES, DEFAULT_CAPABILITIES, allCapabilities, capabilitiesInMask, resolveCapabilities } from './capabilities.ts';

const LAST = 40;
const sorted = (a: string[]): string[] => [...a].sort();

describe('capabilities', () => {
  test('defaults are Docker\'s fourteen', () => {
    assert.deepEqual(sorted(resolveCapabilities({ capLastCap: LAST })), sorted(DEFAULT_CAPABILITIES));
    assert.equal(DEFAULT_CAPABILITIES.length, 14);
  });

  test('add and drop, with or without CAP_, any case', () => {
    const cases: Array<[string[] | null, string[] | null, { has: string[]; lacks: string[] }]> = [
      [['NET_ADMIN'], null, { has: ['CAP_NET_ADMIN', 'CAP_CHOWN'], lacks: [] }],
      [['cap_sys_admin', 'Sys_Time'], null, { has: ['CAP_SYS_ADMIN', 'CAP_SYS_TIME'], lacks: [] }],
      [null, ['chown', 'CAP_NET_RAW'], { has: ['CAP_KILL'], lacks: ['CAP_CHOWN', 'CAP_NET_RAW'] }],
      // Added and dropped: the add wins, as in Docker.
      [['NET_RAW'], ['NET_RAW'], { has: ['CAP_NET_RAW'], lacks: [] }],
    ];
    for (const [capAdd, capDrop, want] of cases) {
      const caps = resolveCapabilities({ capAdd, capDrop, capLastCap: LAST });
      for (const c of want.has) assert.ok(caps.includes(c), `${c} in ${caps}`);
      for (const c of want.lacks) assert.ok(!caps.includes(c), `${c} not in ${caps}`);
      assert.equal(new Set(caps).size, caps.length, 'no duplicates');
    }
  });

  test('ALL', () => {
    assert.deepEqual(resolveCapabilities({ capDrop: ['ALL'], capLastCap: LAST }), []);
    assert.deepEqual(resolveCapabilities({ capDrop: ['all'], capAdd: ['chown', 'kill'], capLastCap: LAST }), ['CAP_CHOWN', 'CAP_KILL']);
    const addAll = resolveCapabilities({ capAdd: ['ALL'], capDrop: ['SYS_ADMIN'], capLastCap: LAST });
    assert.equal(addAll.length, 40);
    assert.ok(!addAll.includes('CAP_SYS_ADMIN'));
  });

  test('privileged gets every capability the kernel knows, and ignores the lists', () => {
    assert.deepEqual(resolveCapabilities({ privileged: true, capDrop: ['ALL'], capLastCap: LAST }), [...CAPABILITY_NAMES]);
    const older = resolveCapabilities({ privileged: true, capLastCap: 37 });
    assert.equal(older.length, 38);
    assert.equal(older.at(-1), 'CAP_AUDIT_READ');
    assert.deepEqual(allCapabilities(0), ['CAP_CHOWN']);
  });

  test('the daemon\'s bounding set limits privileged, ALL and the defaults', () => {
    // Root without CAP_SYS_RESOURCE (bit 24) and CAP_MKNOD (27), as in some VMs and CI runners.
    const mask = ((1n << 41n) - 1n) & ~(1n << 24n) & ~(1n << 27n);
    const bounding = capabilitiesInMask(mask, LAST);
    assert.equal(bounding.length, 39);
    assert.ok(!bounding.includes('CAP_SYS_RESOURCE') && !bounding.includes('CAP_MKNOD'));
    assert.deepEqual(resolveCapabilities({ privileged: true, capLastCap: LAST, bounding }), bounding);
    const addAll = resolveCapabilities({ capAdd: ['ALL'], capDrop: ['NET_RAW'], capLastCap: LAST, bounding });
    assert.deepEqual(addAll, bounding.filter((c) => c !== 'CAP_NET_RAW'));
    const defaults = resolveCapabilities({ capLastCap: LAST, bounding });
    assert.deepEqual(sorted(defaults), sorted(DEFAULT_CAPABILITIES.filter((c) => c !== 'CAP_MKNOD')));
    // A capability the kernel knows but the daemon cannot hand out: a clear error, not a runc failure.
    assert.throws(() => resolveCapabilities({ capAdd: ['SYS_RESOURCE'], capLastCap: LAST, bounding }), { kind: 'invalid', message: /CAP_SYS_RESOURCE is not in joeyd's own capability bounding set/ });
    // Dropping one the daemon lacks is harmless.
    assert.ok(!resolveCapabilities({ capDrop: ['SYS_RESOURCE'], capLastCap: LAST, bounding }).includes('CAP_SYS_RESOURCE'));
    // Bits beyond cap_last_cap are ignored.
    assert.equal(capabilitiesInMask((1n << 64n) - 1n, 37).length, 38);
  });

  test('unknown capabilities are invalid errors naming them', () => {
    assert.throws(() => resolveCapabilities({ capAdd: ['NET_FOO'], capLastCap: LAST }), { kind: 'invalid', message: /CapAdd: unknown capability: "NET_FOO"/ });
    assert.throws(() => resolveCapabilities({ capDrop: ['CAP_'], capLastCap: LAST }), { kind: 'invalid', message: /CapDrop: unknown capability/ });
    assert.throws(() => resolveCapabilities({ capAdd: ['BPF'], capLastCap: 37 }), { kind: 'invalid', message: /not supported by this kernel/ });
  });
});
