import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CAPABILITY_NAMES, DEFAULT_CAPABILITIES, allCapabilities, resolveCapabilities } from './capabilities.ts';

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

  test('unknown capabilities are invalid errors naming them', () => {
    assert.throws(() => resolveCapabilities({ capAdd: ['NET_FOO'], capLastCap: LAST }), { kind: 'invalid', message: /CapAdd: unknown capability: "NET_FOO"/ });
    assert.throws(() => resolveCapabilities({ capDrop: ['CAP_'], capLastCap: LAST }), { kind: 'invalid', message: /CapDrop: unknown capability/ });
    assert.throws(() => resolveCapabilities({ capAdd: ['BPF'], capLastCap: 37 }), { kind: 'invalid', message: /not supported by this kernel/ });
  });
});
