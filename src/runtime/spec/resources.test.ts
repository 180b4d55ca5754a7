import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { HostConfig } from '../../engine/containers/types.ts';
import { buildResources, parseCpuList, resourcesFromHostConfig } from './resources.ts';

const MiB = 1024 * 1024;
const V1 = { cgroupV2: false, ncpu: 2, cpusOnline: '0-1', memsOnline: '0', swapLimit: true, blkioWeight: true, cpuRealtime: true };
const V2 = { ...V1, cgroupV2: true, cpuRealtime: false };

const create = (hc: HostConfig, host = V1) => buildResources(hc, host);

describe('resources', () => {
  test('conversion on create', () => {
    const cases: Array<[string, HostConfig, object]> = [
      ['nothing', {}, {}],
      ['memory alone gets swap = 2 × memory', { Memory: 64 * MiB }, { memory: { limit: 64 * MiB, swap: 128 * MiB } }],
      ['explicit swap', { Memory: 64 * MiB, MemorySwap: 96 * MiB }, { memory: { limit: 64 * MiB, swap: 96 * MiB } }],
      ['unlimited swap', { Memory: 64 * MiB, MemorySwap: -1 }, { memory: { limit: 64 * MiB, swap: -1 } }],
      ['reservation', { MemoryReservation: 32 * MiB }, { memory: { reservation: 32 * MiB } }],
      ['--cpus 1.5', { NanoCpus: 1.5e9 }, { cpu: { quota: 150000, period: 100000 } }],
      ['--cpus 0.01', { NanoCpus: 1e7 }, { cpu: { quota: 1000, period: 100000 } }],
      ['quota and period', { CpuQuota: 50000, CpuPeriod: 200000, CpuShares: 512 }, { cpu: { shares: 512, quota: 50000, period: 200000 } }],
      ['cpuset', { CpusetCpus: '0-1', CpusetMems: '0' }, { cpu: { cpus: '0-1', mems: '0' } }],
      ['pids', { PidsLimit: 50 }, { pids: { limit: 50 } }],
      ['pids 0 and -1 mean unlimited (unset)', { PidsLimit: -1 }, {}],
      ['oom-kill-disable with memory', { Memory: 64 * MiB, MemorySwap: -1, OomKillDisable: true }, { memory: { limit: 64 * MiB, swap: -1, disableOOMKiller: true } }],
      ['blkio weight', { BlkioWeight: 300 }, { blockIO: { weight: 300 } }],
      ['swappiness', { MemorySwappiness: 10 }, { memory: { swappiness: 10 } }],
      ['swappiness -1 = inherit', { MemorySwappiness: -1 }, {}],
      ['realtime', { CpuRealtimePeriod: 1000000, CpuRealtimeRuntime: 950000 }, { cpu: { realtimePeriod: 1000000, realtimeRuntime: 950000 } }],
    ];
    for (const [name, hc, want] of cases) {
      const { resources, warnings } = create(hc);
      assert.deepEqual(resources, want, name);
      assert.deepEqual(warnings, [], name);
    }
  });

  test('Docker\'s validation errors', () => {
    const cases: Array<[HostConfig, RegExp]> = [
      [{ Memory: 4 * MiB }, /^Minimum memory limit allowed is 6MB$/],
      [{ MemoryReservation: MiB }, /^Minimum memory reservation allowed is 6MB$/],
      [{ Memory: 64 * MiB, MemorySwap: 32 * MiB }, /Minimum memoryswap limit should be larger than memory limit/],
      [{ MemorySwap: 64 * MiB }, /You should always set the Memory limit when using Memoryswap limit/],
      [{ Memory: 64 * MiB, MemoryReservation: 128 * MiB }, /Minimum memory limit can not be less than memory reservation limit/],
      [{ MemorySwap: -2 }, /use -1 for unlimited swap/],
      [{ MemorySwappiness: 101 }, /valid memory swappiness range is 0-100/],
      [{ NanoCpus: 1e9, CpuQuota: 50000 }, /^Conflicting options: Nano CPUs and CPU Quota cannot both be set$/],
      [{ NanoCpus: 1e9, CpuPeriod: 50000 }, /^Conflicting options: Nano CPUs and CPU Period cannot both be set$/],
      [{ NanoCpus: 3e9 }, /^range of CPUs is from 0\.01 to 2\.00, as there are only 2 CPUs available$/],
      [{ NanoCpus: 1e6 }, /range of CPUs is from 0\.01/],
      [{ NanoCpus: -1 }, /range of CPUs/],
      [{ CpuPeriod: 500 }, /CPU cfs period can not be less than 1ms/],
      [{ CpuPeriod: 2000000 }, /larger than 1s/],
      [{ CpuQuota: 999 }, /CPU cfs quota can not be less than 1ms/],
      [{ CpuShares: -5 }, /invalid CPU shares \(-5\)/],
      [{ CpusetCpus: '0-3' }, /^Requested CPUs are not available - requested 0-3, available: 0-1$/],
      [{ CpusetCpus: 'a-b' }, /^Invalid value a-b for cpuset cpus$/],
      [{ CpusetMems: '1' }, /Requested memory nodes are not available - requested 1, available: 0/],
      [{ BlkioWeight: 5 }, /^Range of blkio weight is from 10 to 1000$/],
      [{ BlkioWeight: 1001 }, /Range of blkio weight/],
      [{ CpuRealtimePeriod: 1000, CpuRealtimeRuntime: 2000 }, /cpu real-time runtime cannot be higher than cpu real-time period/],
      [{ Memory: 1.5 * MiB + 0.5 }, /Memory must be an integer/],
    ];
    for (const [hc, message] of cases) assert.throws(() => create(hc), { kind: 'invalid', message }, JSON.stringify(hc));
    assert.throws(() => create({ CpuRealtimePeriod: 1000000 }, V2), { kind: 'invalid', message: /does not support cgroup cpu real-time period/ });
  });

  test('warnings for what the host cannot do', () => {
    const oomNoMem = create({ OomKillDisable: true });
    assert.deepEqual(oomNoMem.resources, { memory: { disableOOMKiller: true } });
    assert.match(oomNoMem.warnings[0]!, /OOM killer is disabled for the container, but no memory limit is set/);

    const v2 = create({ Memory: 64 * MiB, OomKillDisable: true, MemorySwappiness: 0 }, V2);
    assert.deepEqual(v2.resources, { memory: { limit: 64 * MiB, swap: 128 * MiB } });
    assert.equal(v2.warnings.length, 2);
    assert.match(v2.warnings.join('\n'), /OomKillDisable discarded/);
    assert.match(v2.warnings.join('\n'), /Memory swappiness discarded/);

    const noSwap = create({ Memory: 64 * MiB }, { ...V1, swapLimit: false });
    assert.deepEqual(noSwap.resources, { memory: { limit: 64 * MiB } });
    assert.match(noSwap.warnings[0]!, /Memory limited without swap/);

    const noBlkio = create({ BlkioWeight: 500 }, { ...V1, blkioWeight: false });
    assert.deepEqual(noBlkio.resources, {});
    assert.match(noBlkio.warnings[0]!, /Block I\/O weight .* Weight discarded/);

    assert.match(create({ KernelMemory: 64 * MiB }).warnings[0]!, /Kernel memory limits .* discarded/);
  });

  test('update: only what was given, -1 lifts limits', () => {
    const host = { host: V1 };
    assert.deepEqual(resourcesFromHostConfig({ Memory: 64 * MiB }, host), { memory: { limit: 64 * MiB } });
    assert.deepEqual(resourcesFromHostConfig({ MemorySwap: 256 * MiB }, host), { memory: { swap: 256 * MiB } });
    assert.deepEqual(resourcesFromHostConfig({ PidsLimit: 0 }, host), { pids: { limit: -1 } });
    assert.deepEqual(resourcesFromHostConfig({ PidsLimit: 20 }, host), { pids: { limit: 20 } });
    assert.deepEqual(resourcesFromHostConfig({ CpuQuota: -1 }, host), { cpu: { quota: -1 } });
    assert.deepEqual(resourcesFromHostConfig({ NanoCpus: 5e8, CpuShares: 512, BlkioWeight: 300 }, host), { cpu: { shares: 512, quota: 50000, period: 100000 }, blockIO: { weight: 300 } });
    assert.deepEqual(resourcesFromHostConfig({ OomKillDisable: true }, host), {}); // create-only
    const warnings: string[] = [];
    assert.deepEqual(resourcesFromHostConfig({ BlkioWeight: 300 }, { host: { ...V1, blkioWeight: false }, warnings }), {});
    assert.equal(warnings.length, 1);
    assert.throws(() => resourcesFromHostConfig({ Memory: MiB }, host), { kind: 'invalid', message: /Minimum memory limit allowed is 6MB/ });
  });

  test('cpu lists', () => {
    assert.deepEqual([...parseCpuList('0-2,4')!], [0, 1, 2, 4]);
    assert.deepEqual([...parseCpuList('3')!], [3]);
    for (const bad of ['2-1', '0,,1', 'x', '0-']) assert.equal(parseCpuList(bad), undefined, bad);
  });
});
