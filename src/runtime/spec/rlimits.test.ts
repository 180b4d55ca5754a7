import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readHostLimits } from './host.ts';
import { toOciJson } from './json.ts';
import { buildRlimits } from './rlimits.ts';

const HOST = { nofileHard: 20000, nprocHard: 96365, memlockHard: Infinity };

describe('rlimits', () => {
  test('ulimits become OCI rlimits', () => {
    assert.deepEqual(buildRlimits(undefined, HOST), []);
    assert.deepEqual(
      buildRlimits([{ Name: 'nofile', Soft: 1024, Hard: 20000 }, { Name: 'NPROC', Soft: 100, Hard: 200 }, { Name: 'core', Soft: 0, Hard: 0 }], HOST),
      [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 20000 }, { type: 'RLIMIT_NPROC', soft: 100, hard: 200 }, { type: 'RLIMIT_CORE', soft: 0, hard: 0 }],
    );
    // Unlimited is fine where the daemon itself is unlimited.
    assert.deepEqual(buildRlimits([{ Name: 'memlock', Soft: -1, Hard: -1 }], HOST), [{ type: 'RLIMIT_MEMLOCK', soft: -1, hard: -1 }]);
    // A later entry for the same name wins.
    assert.deepEqual(buildRlimits([{ Name: 'nofile', Soft: 1, Hard: 2 }, { Name: 'nofile', Soft: 3, Hard: 4 }], HOST), [{ type: 'RLIMIT_NOFILE', soft: 3, hard: 4 }]);
  });

  test('errors', () => {
    const cases: Array<[Parameters<typeof buildRlimits>[0], RegExp]> = [
      [[{ Name: 'nofile', Soft: 1048576, Hard: 1048576 }], /^ulimit nofile=1048576:1048576 exceeds the daemon's hard limit 20000$/],
      [[{ Name: 'nofile', Soft: -1, Hard: -1 }], /ulimit nofile=unlimited:unlimited exceeds the daemon's hard limit 20000/],
      [[{ Name: 'nproc', Soft: 1, Hard: 100000 }], /exceeds the daemon's hard limit 96365/],
      [[{ Name: 'nofile', Soft: 200, Hard: 100 }], /ulimit soft limit must be less than or equal to hard limit: nofile=200:100/],
      [[{ Name: 'nofile', Soft: -1, Hard: 100 }], /soft limit must be less than or equal to hard limit/],
      [[{ Name: 'files', Soft: 1, Hard: 1 }], /invalid ulimit type: "files"/],
      [[{ Name: 'core', Soft: -5, Hard: 1 }], /invalid ulimit core: -5/],
      [[{ Name: 'core', Soft: 1.5, Hard: 2 }], /invalid ulimit core: 1\.5/],
    ];
    for (const [u, message] of cases) assert.throws(() => buildRlimits(u, HOST), { kind: 'invalid', message }, JSON.stringify(u));
  });

  test('RLIM_INFINITY is written as a uint64', () => {
    const process = { args: ['sh'], rlimits: [{ type: 'RLIMIT_MEMLOCK', hard: -1, soft: -1 }, { type: 'RLIMIT_NOFILE', hard: 10, soft: 5 }], env: ['X=-1'] };
    const json = toOciJson({ process, linux: { resources: { memory: { swap: -1 } } } });
    assert.equal(json, '{"process":{"args":["sh"],"rlimits":[{"type":"RLIMIT_MEMLOCK","hard":18446744073709551615,"soft":18446744073709551615},{"type":"RLIMIT_NOFILE","hard":10,"soft":5}],"env":["X=-1"]},"linux":{"resources":{"memory":{"swap":-1}}}}');
    // An exec process.json has rlimits at the top.
    assert.match(toOciJson({ rlimits: [{ type: 'RLIMIT_CORE', hard: -1, soft: 0 }] }), /"hard":18446744073709551615,"soft":0/);
  });

  test('the daemon\'s hard limits come from /proc/self/limits', () => {
    const text = `Limit                     Soft Limit           Hard Limit           Units
Max processes             96365                96365                processes
Max open files            20000                20000                files
Max locked memory         8388608              unlimited            bytes
`;
    const lim = readHostLimits(text);
    assert.equal(lim.nofileHard, 20000);
    assert.equal(lim.nprocHard, 96365);
    assert.equal(lim.memlockHard, Infinity);
  });
});
