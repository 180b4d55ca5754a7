// LXCFS: containers that ask for it (--enableLxcfs) see their own memory and
// CPU limits in /proc and /sys; joeyd keeps lxcfs alive under them: killed,
// it comes back and the running containers read their files again without
// a restart, across a joeyd restart too. A daemon without lxcfs, or whose
// lxcfs cannot start, refuses such containers with the reason.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { removeAllContainers, startContainerDaemon, teardownContainerDaemon, type ContainerDaemon } from './lib/containers.ts';
import type { Daemon } from './lib/daemon.ts';
import { makeTempDir, removeDir, run, waitFor } from './lib/proc.ts';
import { busyboxInitTar } from './lib/rich-images.ts';

const IMAGE = 'lxcfs-busybox:latest';
let cd: ContainerDaemon | undefined;
let d: Daemon;
let work: string;
let home: string;

const pidOfLxcfs = async (of: Daemon = d): Promise<number> => Number((await readFile(join(of.execRoot, 'lxcfs.pid'), 'utf8')).trim());
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const memTotal = async (name: string): Promise<string> => {
  const r = await d.docker(['exec', name, 'sh', '-c', 'grep MemTotal /proc/meminfo']);
  return r.code === 0 ? r.stdout.trim() : `exit ${r.code}: ${r.stderr.trim()}`;
};

/** Stops the lxcfs a daemon started (by its pid) and clears its mount. */
async function stopLxcfs(): Promise<void> {
  const pid = await pidOfLxcfs().catch(() => 0);
  if (pid > 0 && alive(pid)) {
    process.kill(pid, 'SIGKILL');
    await waitFor('lxcfs to exit', () => !alive(pid), 10_000);
  }
  await run('umount', ['-l', home]);
}
const sh = async (of: Daemon, name: string, cmd: string): Promise<string> => (await of.dockerOk(['exec', name, 'sh', '-c', cmd])).stdout.trim();
const allowed = (of: Daemon, name: string): Promise<string> => sh(of, name, 'grep ^Cpus_allowed_list: /proc/self/status');

before(async () => {
  work = await makeTempDir();
  home = join(work, 'lxcfs');
  cd = await startContainerDaemon('lxcfs', { args: ['--enable-lxcfs', '--lxcfs-home', home] });
  d = cd.d;
  const tar = await busyboxInitTar(work);
  await d.dockerOk(['import', '--change', 'CMD ["sh"]', '--change', 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin', tar, IMAGE], { timeoutMs: 60_000 });
});

after(async () => {
  if (d?.running) await removeAllContainers(d).catch(() => undefined);
  await teardownContainerDaemon(cd).catch((e) => console.error(e));
  if (home) await stopLxcfs().catch(() => undefined);
  if (work) await removeDir(work);
});

describe('lxcfs', () => {
  test('a container with --enableLxcfs sees its limits; one without sees the host', async () => {
    const id = (await d.joeyOk(['run', '-d', '--name', 'lx', '--enableLxcfs', '-m', '256m', '--cpus', '1', IMAGE, 'sleep', '600'])).stdout.trim();
    assert.equal(await memTotal('lx'), 'MemTotal:         262144 kB');
    assert.equal((await d.dockerOk(['exec', 'lx', 'sh', '-c', 'grep -c ^processor /proc/cpuinfo'])).stdout.trim(), '1');
    assert.equal((await d.dockerOk(['exec', 'lx', 'cat', '/sys/devices/system/cpu/online'])).stdout.trim(), '0');
    // (busybox's free asks sysinfo(2), which no /proc file can change: not checked)
    const c = await d.dockerJson<any[]>(['inspect', id]);
    assert.equal(c[0].HostConfig.EnableLxcfs, true);
    await d.dockerOk(['run', '-d', '--name', 'plain', '-m', '256m', IMAGE, 'sleep', '600']);
    const hostTotal = /MemTotal:\s+(\d+)/.exec(await readFile('/proc/meminfo', 'utf8'))![1];
    assert.equal(/MemTotal:\s+(\d+) kB/.exec(await memTotal('plain'))?.[1], hostTotal);
  });

  test('nproc equals the CPU quota: lxcfs containers get as many CPUs, spread; own cpusets and containers without lxcfs are left alone', async (t) => {
    const hostCpus = availableParallelism();
    if (hostCpus < 2) return t.skip('one CPU: a quota of one cannot be told from the host');
    // "lx" (--cpus 1) runs from the first test
    assert.equal(await sh(d, 'lx', 'nproc'), '1');
    assert.equal((await d.dockerJson<any[]>(['inspect', 'lx']))[0].HostConfig.CpusetCpus, '', 'the settings asked for are unchanged');
    await d.joeyOk(['run', '-d', '--name', 'lx2', '--enableLxcfs', '--cpus', '0.5', IMAGE, 'sleep', '600']);
    assert.equal(await sh(d, 'lx2', 'nproc'), '1');
    assert.equal(await sh(d, 'lx2', 'grep -c ^processor /proc/cpuinfo'), '1');
    assert.match(await sh(d, 'lx2', 'cat /sys/devices/system/cpu/online'), /^\d+$/, 'one CPU online');
    assert.notEqual(await allowed(d, 'lx2'), await allowed(d, 'lx'), 'the second one is put on another CPU');
    // the quota is changed live, and the CPUs with it
    await d.dockerOk(['update', '--cpus', String(hostCpus), 'lx2']);
    assert.equal(await sh(d, 'lx2', 'nproc'), String(hostCpus));
    await d.dockerOk(['update', '--cpus', '1', 'lx2']);
    assert.equal(await sh(d, 'lx2', 'nproc'), '1');
    // a cpuset of its own wins; no lxcfs, no change to scheduling
    await d.joeyOk(['run', '-d', '--name', 'lxset', '--enableLxcfs', '--cpus', '1', '--cpuset-cpus', `0-${hostCpus - 1}`, IMAGE, 'sleep', '600']);
    assert.equal(await sh(d, 'lxset', 'nproc'), String(hostCpus));
    await d.dockerOk(['run', '-d', '--name', 'nolx', '--cpus', '1', IMAGE, 'sleep', '600']);
    assert.equal(await sh(d, 'nolx', 'nproc'), String(hostCpus));
    await d.dockerOk(['rm', '-f', 'lx2', 'lxset', 'nolx']);
  });

  test('lxcfs killed under running containers comes back, and they read their files again without a restart', async () => {
    const before = (await d.dockerJson<any[]>(['inspect', 'lx']))[0].State;
    const first = await pidOfLxcfs();
    process.kill(first, 'SIGKILL');
    await waitFor('lxcfs to die', () => !alive(first), 10_000);
    const t0 = Date.now();
    await waitFor('the container to read its meminfo again', async () => (await memTotal('lx')) === 'MemTotal:         262144 kB', 15_000, 200);
    const healedMs = Date.now() - t0;
    assert.ok(healedMs < 10_000, `healed in ${healedMs} ms`);
    console.log(`lxcfs killed: the container read its meminfo again after ${healedMs} ms`);
    const second = await pidOfLxcfs();
    assert.notEqual(second, first, 'a new lxcfs');
    assert.ok(alive(second));
    const now = (await d.dockerJson<any[]>(['inspect', 'lx']))[0].State;
    assert.equal(now.Pid, before.Pid, 'the container was not restarted');
    assert.equal(now.StartedAt, before.StartedAt);
    // every file, not only meminfo
    for (const f of ['/proc/cpuinfo', '/proc/stat', '/proc/uptime', '/proc/diskstats', '/proc/swaps', '/proc/loadavg', '/sys/devices/system/cpu/online']) {
      const r = await d.docker(['exec', 'lx', 'cat', f]);
      assert.equal(r.code, 0, `${f}: ${r.stderr}`);
    }
    // read-only as before
    assert.notEqual((await d.docker(['exec', 'lx', 'sh', '-c', 'echo x > /proc/meminfo'])).code, 0);
  });

  test('across a joeyd restart: the containers keep lxcfs, and the new joeyd heals it', async () => {
    const pid = await pidOfLxcfs();
    await d.restart();
    assert.equal(await pidOfLxcfs(), pid, 'joeyd adopted the running lxcfs');
    assert.equal(await memTotal('lx'), 'MemTotal:         262144 kB');
    process.kill(pid, 'SIGKILL');
    await waitFor('lxcfs to die', () => !alive(pid), 10_000);
    await waitFor('the container to read its meminfo again', async () => (await memTotal('lx')) === 'MemTotal:         262144 kB', 15_000, 200);
    // a container started now gets it too
    await d.joeyOk(['run', '-d', '--name', 'later', '--enableLxcfs', '-m', '128m', IMAGE, 'sleep', '600']);
    assert.equal(await memTotal('later'), 'MemTotal:         131072 kB');
  });

  test('--lxcfs-pin-cpus=false leaves the CPUs to the quota alone', async (t) => {
    const hostCpus = availableParallelism();
    if (hostCpus < 2) return t.skip('one CPU: a quota of one cannot be told from the host');
    const at = join(work, 'lxcfs-nopin');
    const other = await startContainerDaemon('nopin', { args: ['--enable-lxcfs', '--lxcfs-home', at, '--lxcfs-pin-cpus=false'] });
    try {
      await other.d.dockerOk(['import', join(work, 'busybox-rootfs.tar'), IMAGE], { timeoutMs: 60_000 });
      await other.d.joeyOk(['run', '-d', '--name', 'free', '--enableLxcfs', '--cpus', '1', IMAGE, 'sleep', '600']);
      assert.equal(await sh(other.d, 'free', 'grep -c ^processor /proc/cpuinfo'), '1', 'lxcfs still shows the quota');
      assert.equal(await sh(other.d, 'free', 'nproc'), String(hostCpus));
    } finally {
      const pid = await pidOfLxcfs(other.d).catch(() => 0);
      await removeAllContainers(other.d).catch(() => undefined);
      await teardownContainerDaemon(other).catch((e) => console.error(e));
      if (pid > 0 && alive(pid)) process.kill(pid, 'SIGKILL');
      await waitFor('its lxcfs to exit', () => !(pid > 0 && alive(pid)), 10_000).catch(() => undefined);
      await run('umount', ['-l', at]);
    }
  });

  test('a daemon without lxcfs, or with an lxcfs that cannot start, refuses --enableLxcfs with the reason', async () => {
    const other = await startContainerDaemon('nolxcfs');
    try {
      await other.d.dockerOk(['import', join(work, 'busybox-rootfs.tar'), IMAGE], { timeoutMs: 60_000 });
      const r = await other.d.api('POST', '/containers/create', { Image: IMAGE, Cmd: ['true'], HostConfig: { EnableLxcfs: true } });
      assert.equal(r.status, 400, r.text);
      assert.match(r.text, /lxcfs is not enabled on this daemon.*--enable-lxcfs/);
      assert.equal((await other.d.api('GET', '/containers/json?all=1')).json<unknown[]>().length, 0, 'nothing created');
    } finally {
      await teardownContainerDaemon(other);
    }
    const broken = await startContainerDaemon('badlxcfs', { args: ['--enable-lxcfs', '--lxcfs-home', join(work, 'lxcfs-broken'), '--lxcfs', '/nonexistent/lxcfs'] });
    try {
      await broken.d.dockerOk(['import', join(work, 'busybox-rootfs.tar'), IMAGE], { timeoutMs: 60_000 });
      const r = await broken.d.joey(['run', '--enableLxcfs', IMAGE, 'true']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /lxcfs is not available at .*lxcfs-broken.*\/nonexistent\/lxcfs/);
      // a container that does not ask for it runs
      assert.equal((await broken.d.dockerOk(['run', '--rm', IMAGE, 'echo', 'fine'])).stdout.trim(), 'fine');
    } finally {
      await teardownContainerDaemon(broken);
    }
  });
});
