import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkPruneFilters, pruneBuildCache } from './prune.ts';

test('builder prune checks filters as dockerd does and, like dockerd after classic builds, reclaims nothing', async () => {
  assert.deepEqual(checkPruneFilters({ until: ['1h30m'] }), { untilNs: 5400e9 });
  assert.deepEqual(checkPruneFilters({ 'unused-for': ['10s'], label: ['a', 'b'] }), { untilNs: 10e9 });
  assert.throws(() => checkPruneFilters({ bogus: ['x'] }), /failed to prune build cache: Invalid filter 'bogus'/);
  assert.throws(() => checkPruneFilters({ mutable: ['1'] }), /Invalid filter 'mutable'/);
  assert.throws(() => checkPruneFilters({ until: ['xyz'] }), /"until" filter expects a duration \(e\.g\., '24h'\): time: invalid duration "xyz"/);
  assert.throws(() => checkPruneFilters({ until: ['1h'], 'unused-for': ['2h'] }), /filters expect only one value/);
  assert.throws(() => checkPruneFilters({ id: ['a', 'b'] }), /filters expect only one value/);
  assert.deepEqual(await pruneBuildCache({ all: true, filters: { until: ['24h'] }, keepStorage: 1 << 20 }), { CachesDeleted: null, SpaceReclaimed: 0 });
  await assert.rejects(pruneBuildCache({ filters: { bogus: ['x'] } }), /Invalid filter/);
});
