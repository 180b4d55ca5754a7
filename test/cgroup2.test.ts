// The engine on a pure cgroup v2 host, as Debian 12 and most current
// distributions boot by default. This host is hybrid (v1 controllers, a
// cgroup2 mount beside them), so Debian's stock kernel boots under QEMU (TCG;
// see test/lib/guest-vm.ts) with only cgroup2 mounted, and the real joeyd,
// runc, crun and conmon run in it (test/guest/cgroup2.sh and -guest.ts),
// driven by the real joey CLI. The guest prints one JSON line; each check
// here reads a part of it.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { guestUnavailable, runGuestDriver } from './lib/guest-vm.ts';
import { makeTempDir, removeDir } from './lib/proc.ts';
import { busyboxInitTar } from './lib/rich-images.ts';

const SCRIPT = new URL('./guest/cgroup2.sh', import.meta.url).pathname;
const DRIVER = new URL('./guest/cgroup2-guest.ts', import.meta.url).pathname;
const MiB = 1024 * 1024;

interface Step {
  code: number;
  out: string;
  ms: number;
}

interface Result {
  error?: string;
  controllers: string;
  steps: Record<string, Step>;
  cgroupsRunning: string[];
  stopped: string;
  problems: string[];
  mountsLeft: string[];
  cgroupsLeft: string[];
}

const show = (s: Step | undefined): string => (s ? `exit ${s.code}:\n${s.out}` : 'not run');

/** "name=value" lines a step printed, as a map. */
function values(s: Step | undefined): Record<string, string> {
  return Object.fromEntries((s?.out ?? '').split('\n').flatMap((l) => {
    const i = l.indexOf('=');
    return i > 0 ? [[l.slice(0, i), l.slice(i + 1).trim()]] : [];
  }));
}

let work: string | undefined;
after(async () => {
  if (work) await removeDir(work);
});

const skip = guestUnavailable();
test('the engine on a cgroup v2 host (guest running Debian\'s stock kernel, cgroup2 alone)', { skip, timeout: 400_000 }, async (t) => {
  work = await makeTempDir('joey-it-cg2-');
  const tar = await busyboxInitTar(work);
  const { result: res, ms } = await runGuestDriver<Result>(SCRIPT, DRIVER, work, [tar]);
  t.diagnostic(`guest: ${ms} ms from boot to power-off; steps: ${Object.entries(res.steps ?? {}).map(([k, v]) => `${k} ${v.ms}`).join(', ')} ms`);
  assert.ok(!res.error, `the driver failed: ${res.error}\n${JSON.stringify(res, null, 1)}`);
  const s = res.steps;
  const ok = (name: string): void => assert.equal(s[name]?.code, 0, `${name}: ${show(s[name])}`);

  assert.match(res.controllers, /\bmemory\b/, 'the guest has the memory controller on cgroup2');
  ok('import');

  ok('limits');
  assert.deepEqual(values(s.limits), {
    'memory.max': String(32 * MiB),
    // --memory alone: as much swap again, as Docker gives (memory-swap = 2 × memory).
    'memory.swap.max': String(32 * MiB),
    'cpu.max': '50000 100000',
    // runc's conversion of --cpu-shares 512 to a cgroup v2 weight.
    'cpu.weight': '20',
    'pids.max': '20',
  }, `the container reads its limits from its own /sys/fs/cgroup: ${show(s.limits)}`);
  ok('cgroupFile');
  assert.equal(s.cgroupFile!.out.trim(), '0::/', `a private cgroup namespace: /proc/self/cgroup is "0::/": ${show(s.cgroupFile)}`);

  assert.equal(s.oom?.code, 137, `a container past --memory 16m is killed by the kernel: ${show(s.oom)}`);
  assert.equal(s.oomInspect?.out.trim(), 'true 137', `inspect says OOMKilled: ${show(s.oomInspect)}`);
  ok('oomRm');

  ok('live');
  assert.ok(res.cgroupsRunning.length > 0, `the running container has a cgroup under --cgroup-parent: ${JSON.stringify(res.cgroupsRunning)}`);
  ok('update');
  assert.deepEqual(values(s.updated), {
    'memory.max': String(64 * MiB),
    'memory.swap.max': String(64 * MiB),
    'cpu.max': '100000 100000',
    'pids.max': '50',
  }, `update changes the running container's cgroup: ${show(s.updated)}`);
  ok('stats');
  assert.match(s.stats!.out, /\/ 64MiB\|1$/, `stats shows the new limit and one process: ${show(s.stats)}`);
  ok('pause');
  assert.equal(s.frozen?.out.trim(), 'paused', `pause freezes through cgroup.freeze: ${show(s.frozen)}`);
  ok('unpause');
  ok('top');
  assert.match(s.top!.out, /sleep 1d/, `top lists the container's processes from its cgroup: ${show(s.top)}`);
  ok('rm');

  ok('lxcfs');
  assert.deepEqual(values(s.lxcfs), { memtotal: 'MemTotal: 65536 kB', nproc: '1', online: '0', cpuinfo: '1' },
    `with lxcfs, /proc/meminfo, /proc/cpuinfo, the CPU list and nproc show --memory 64m and --cpus 1 (the guest has 2 CPUs): ${show(s.lxcfs)}`);

  assert.equal(s.crun?.code, 0, `crun runs containers on cgroup v2: ${show(s.crun)}`);
  assert.equal(values(s.crun)['memory.max'], String(48 * MiB), `crun applies the limit: ${show(s.crun)}`);

  assert.equal(res.stopped, '0', 'joeyd exits 0 on SIGTERM');
  assert.deepEqual(res.mountsLeft, [], 'nothing is left mounted under the data root');
  assert.deepEqual(res.cgroupsLeft, [], 'no container cgroup is left under the --cgroup-parent');
  assert.deepEqual(res.problems, [], 'joeyd logged no warning or error');
});
