import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CpuPinner, allowedCpus, cpusForQuota, formatCpuList, pickCpus, type PinnedUser } from './lxcfs-cpus.ts';

test('a quota is worth ceil(quota/period) CPUs; none is worth all', () => {
  assert.equal(cpusForQuota(100000, 100000), 1);
  assert.equal(cpusForQuota(150000, 100000), 2);
  assert.equal(cpusForQuota(1000, 100000), 1);
  assert.equal(cpusForQuota(400000, 200000), 2);
  assert.equal(cpusForQuota(-1, 100000), Infinity);
  assert.equal(cpusForQuota(0, 100000), Infinity);
});

test('cpu lists print in ranges', () => {
  assert.equal(formatCpuList([0, 1, 2, 4]), '0-2,4');
  assert.equal(formatCpuList([5, 3]), '3,5');
  assert.equal(formatCpuList([7]), '7');
  assert.equal(formatCpuList([2, 1, 1, 0, 9, 10]), '0-2,9-10');
});

test('picks the least loaded CPUs, lowest first on ties', () => {
  assert.deepEqual(pickCpus([0, 1, 2, 3], 1, new Map()), [0]);
  assert.deepEqual(pickCpus([0, 1, 2, 3], 2, new Map([[0, 1], [1, 1]])), [2, 3]);
  assert.deepEqual(pickCpus([0, 1, 2, 3], 2, new Map([[0, 2], [1, 1], [2, 2]])), [1, 3]);
  assert.deepEqual(pickCpus([4, 6], 1, new Map([[4, 1]])), [6]);
});

function pinner(online: number[], users: PinnedUser[], cpus: Record<number, number[]>, now = { t: 0 }) {
  return new CpuPinner(() => online, () => users, async (pid) => cpus[pid], () => now.t);
}

test('containers started one after the other spread over the CPUs', async () => {
  const users: PinnedUser[] = [];
  const cpus: Record<number, number[]> = {};
  const p = pinner([0, 1, 2, 3], users, cpus);
  assert.equal(await p.cpusFor('a', 100000, 100000), '0');
  // "a" is starting (no process yet): its pick still counts.
  assert.equal(await p.cpusFor('b', 100000, 100000), '1');
  users.push({ id: 'a', pid: 10 }, { id: 'b', pid: 11 });
  cpus[10] = [0];
  cpus[11] = [1];
  assert.equal(await p.cpusFor('c', 200000, 100000), '2-3');
  // Asking again for a running container leaves its own CPUs out of the load.
  assert.equal(await p.cpusFor('a', 100000, 100000), '0');
});

test('a container without a quota, or with as much as the host, gets every CPU', async () => {
  const p = pinner([0, 1], [], {});
  assert.equal(await p.cpusFor('a', -1, 100000), '0-1');
  assert.equal(await p.cpusFor('a', 200000, 100000), '0-1');
  assert.equal(await p.cpusFor('a', 900000, 100000), '0-1');
});

test('a pick for a container that never ran stops counting after a minute', async () => {
  const now = { t: 0 };
  const p = pinner([0, 1], [], {}, now);
  assert.equal(await p.cpusFor('a', 100000, 100000), '0');
  assert.equal(await p.cpusFor('b', 100000, 100000), '1');
  now.t = 61_000;
  assert.equal(await p.cpusFor('c', 100000, 100000), '0');
});

test('a process that is gone counts for nothing', async () => {
  const p = pinner([0, 1], [{ id: 'gone', pid: 99 }], {});
  assert.equal(await p.cpusFor('a', 100000, 100000), '0');
});

test('allowedCpus reads this process and nothing for a missing one', async () => {
  const mine = await allowedCpus(process.pid);
  assert.ok(mine && mine.length >= 1);
  assert.equal(await allowedCpus(2 ** 22 + 7), undefined);
});
