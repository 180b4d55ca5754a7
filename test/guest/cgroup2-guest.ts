// The guest side of test/cgroup2.test.ts: the engine on a pure cgroup v2
// host (this host is hybrid, v1 controllers, so v2 is otherwise only tested
// with fakes). Starts the real joeyd in the guest, where test/guest/cgroup2.sh
// mounted only cgroup2, drives it with the real CLI, and prints one line,
// `JOEY-RESULT {json}`: each step's exit code and output (what the container
// reads from its own /sys/fs/cgroup, what inspect and stats say), and what
// was left behind.
//
// Arguments: REPO TAR DIR (REPO holds bin/joeyd and bin/joey, TAR is a
// busybox rootfs tarball to import, DIR the data root's parent).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readMountInfo } from '../../src/sys/mount.ts';
import { cgroupsUnder, joeyCli, readLog, startJoeyd, stopJoeyd, uptime, type Step } from './guest-joeyd.ts';

const IMAGE = 'cg2-busybox:latest';
const [repo, tar, dir] = process.argv.slice(2) as [string, string, string];

const result: Record<string, unknown> = { uptime: await uptime() };
result.controllers = (await readFile('/sys/fs/cgroup/cgroup.controllers', 'utf8')).trim();
const d = await startJoeyd(repo, dir, ['--enable-lxcfs', '--lxcfs-home', join(dir, 'lxcfs')]);
const joey = joeyCli(repo, d);
const cat = (files: string[]): string[] => ['sh', '-c', files.map((f) => `echo "${f}=$(cat /sys/fs/cgroup/${f})"`).join('; ')];
try {
  const steps: Record<string, Step> = {};
  result.steps = steps;
  steps.import = await joey(['import', '--change', 'CMD ["sh"]', '--change', 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin', tar, IMAGE]);
  // Limits at create, read from inside: the container's cgroup namespace
  // makes its own cgroup the root of /sys/fs/cgroup.
  steps.limits = await joey([
    'run', '--rm', '--network', 'none', '--memory', '32m', '--cpus', '0.5', '--cpu-shares', '512', '--pids-limit', '20',
    IMAGE, ...cat(['memory.max', 'memory.swap.max', 'cpu.max', 'cpu.weight', 'pids.max']),
  ]);
  steps.cgroupFile = await joey(['run', '--rm', '--network', 'none', IMAGE, 'cat', '/proc/self/cgroup']);
  // The kernel's OOM killer inside the limit, and the engine noticing.
  steps.oom = await joey(['run', '--name', 'oom', '--network', 'none', '--memory', '16m', '--memory-swap', '16m', IMAGE, 'sh', '-c', 'dd if=/dev/zero of=/dev/null bs=64M count=1']);
  steps.oomInspect = await joey(['inspect', '--format', '{{.State.OOMKilled}} {{.State.ExitCode}}', 'oom']);
  steps.oomRm = await joey(['rm', 'oom']);
  // Live changes and stats on a running container.
  steps.live = await joey(['run', '-d', '--name', 'live', '--network', 'none', '--memory', '32m', IMAGE, 'sleep', '1d']);
  result.cgroupsRunning = await cgroupsUnder(d.cgroupParent);
  steps.update = await joey(['update', '--memory', '64m', '--memory-swap', '128m', '--cpus', '1', '--pids-limit', '50', 'live']);
  steps.updated = await joey(['exec', 'live', ...cat(['memory.max', 'memory.swap.max', 'cpu.max', 'pids.max'])]);
  steps.stats = await joey(['stats', '--no-stream', '--format', '{{.MemUsage}}|{{.PIDs}}', 'live']);
  steps.pause = await joey(['pause', 'live']);
  steps.frozen = await joey(['inspect', '--format', '{{.State.Status}}', 'live']);
  steps.unpause = await joey(['unpause', 'live']);
  steps.top = await joey(['top', 'live']);
  steps.rm = await joey(['rm', '-f', 'live']);
  // lxcfs on cgroup v2: /proc and the CPU list show the container's limits.
  steps.lxcfs = await joey(['run', '--rm', '--network', 'none', '--enableLxcfs', '--memory', '64m', '--cpus', '1', IMAGE, 'sh', '-c',
    'echo "memtotal=$(grep MemTotal /proc/meminfo | tr -s \' \')"; echo "nproc=$(nproc)"; echo "online=$(cat /sys/devices/system/cpu/online)"; echo "cpuinfo=$(grep -c ^processor /proc/cpuinfo)"']);
  // crun, which refuses this host's hybrid layout, on its home ground.
  steps.crun = await joey(['run', '--rm', '--network', 'none', '--runtime', 'crun', '--memory', '48m', IMAGE, ...cat(['memory.max'])]);
} catch (e) {
  result.error = (e as Error).stack ?? String(e);
} finally {
  result.stopped = await stopJoeyd(d);
  const log = await readLog(d);
  result.problems = log.problems;
  result.mountsLeft = (await readMountInfo()).filter((m) => m.target.startsWith(`${d.dataRoot}/`)).map((m) => m.target);
  result.cgroupsLeft = await cgroupsUnder(d.cgroupParent);
}
result.done = await uptime();
console.log(`JOEY-RESULT ${JSON.stringify(result)}`);
