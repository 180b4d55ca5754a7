import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { cgroupPaths, hierarchies, parseHierarchies, readCgroupLimits, readCgroupStats, removeCgroup } from './cgroups.ts';

const V1 = [
  '25 22 0:22 / /sys/fs/cgroup rw,nosuid - tmpfs tmpfs ro,mode=755',
  '26 25 0:23 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd',
  '27 25 0:24 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct',
  '28 25 0:25 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory',
].join('\n');

test('parseHierarchies tells v1, hybrid and v2 apart', () => {
  const v1 = parseHierarchies(V1);
  assert.equal(v1.mode, 'v1');
  assert.equal(v1.v1['cpuacct'], '/sys/fs/cgroup/cpu,cpuacct');
  assert.equal(v1.v1['name=systemd'], '/sys/fs/cgroup/systemd');
  const hybrid = parseHierarchies(`${V1}\n29 25 0:26 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw,nsdelegate`);
  assert.equal(hybrid.mode, 'hybrid');
  assert.equal(hybrid.unified, '/sys/fs/cgroup/unified');
  const v2 = parseHierarchies('30 22 0:27 /ns /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate');
  assert.equal(v2.mode, 'v2');
  assert.deepEqual(v2.roots, { '/sys/fs/cgroup': '/ns' });
});

test('v2 limits and stats read the unified files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'joey-cg2-'));
  try {
    const files: Record<string, string> = {
      'memory.max': '67108864',
      'memory.current': '1234567',
      'memory.swap.max': 'max',
      'memory.stat': 'anon 1000\nfile 4096\n',
      'memory.events': 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n',
      'cpu.max': '50000 100000',
      'cpu.weight': '39',
      'cpu.stat': 'usage_usec 2000\nuser_usec 1500\nsystem_usec 500\nnr_periods 10\nnr_throttled 2\nthrottled_usec 300\n',
      'pids.max': '50',
      'pids.current': '3',
      'cpuset.cpus': '0-1',
      'cgroup.events': 'populated 1\nfrozen 1\n',
      'io.stat': '8:0 rbytes=100 wbytes=200 rios=1 wios=2\n8:16 rbytes=1 wbytes=2 rios=1 wios=1\n',
    };
    for (const [f, v] of Object.entries(files)) writeFileSync(join(dir, f), v);
    const p = { mode: 'v2' as const, v1: {}, unified: dir };
    assert.deepEqual(readCgroupLimits(p), {
      memoryLimit: 67108864,
      memorySwapLimit: -1,
      cpuQuota: 50000,
      cpuPeriod: 100000,
      cpuWeight: 39,
      pidsMax: 50,
      cpusetCpus: '0-1',
      oomKills: 1,
      frozen: true,
    });
    const s = readCgroupStats(p);
    assert.deepEqual(s.cpu, { usageNs: 2_000_000, userNs: 1_500_000, systemNs: 500_000, perCpuNs: [], throttledPeriods: 2, throttledTimeNs: 300_000 });
    assert.equal(s.memory.usage, 1234567);
    assert.equal(s.memory.limit, 67108864);
    assert.equal(s.memory.cache, 4096);
    assert.deepEqual(s.pids, { current: 3, limit: 50 });
    assert.deepEqual(s.blkio, { read: 101, write: 202 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('removeCgroup removes a cgroup, its children and its empty parents everywhere', { skip: process.getuid?.() !== 0 && 'needs root' }, async () => {
  const parent = `/joey-cg-test-${process.pid}`;
  const paths = await cgroupPaths(`${parent}/leak/child`);
  const dirs = [...Object.values(paths.v1), ...(paths.unified ? [paths.unified] : [])];
  try {
    for (const d of dirs) mkdirSync(d, { recursive: true });
    const lim = readCgroupLimits(await cgroupPaths(`${parent}/leak`));
    assert.equal(lim.memoryLimit, -1);
    assert.equal(lim.pidsMax, -1);
    assert.equal(lim.frozen, false);
    assert.deepEqual(await removeCgroup(`${parent}/leak`), { busy: [] });
    const h = await hierarchies();
    for (const m of [...Object.values(h.v1), ...(h.unified ? [h.unified] : [])]) assert.equal(existsSync(join(m, parent)), false, m);
    assert.deepEqual(await removeCgroup(`${parent}/leak`), { busy: [] }, 'idempotent');
  } finally {
    await removeCgroup(parent);
  }
});

test('removeCgroup leaves a cgroup that holds a process', { skip: process.getuid?.() !== 0 && 'needs root' }, async () => {
  const parent = `/joey-cg-test-${process.pid}-busy`;
  const paths = await cgroupPaths(`${parent}/c`);
  const child = spawn('sleep', ['100'], { stdio: 'ignore' });
  try {
    mkdirSync(paths.v1['pids'] ?? paths.unified!, { recursive: true });
    writeFileSync(join(paths.v1['pids'] ?? paths.unified!, 'cgroup.procs'), String(child.pid));
    const { busy } = await removeCgroup(parent);
    assert.deepEqual(busy, [paths.v1['pids'] ?? paths.unified!]);
  } finally {
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    await new Promise((r) => setTimeout(r, 50));
    await removeCgroup(parent);
  }
});
