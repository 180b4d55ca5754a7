// Rich-container benchmark: start-to-ready of a systemd container, joey
// (`--rich --rich-mode systemd`, through its CLI and through the API) beside
// podman (`--systemd=always`), on the same image: the Debian rootfs with
// systemd, sshd, cron and rsyslog that test/rich.test.ts uses (built once
// per machine with debootstrap, cached). Ready means `systemctl
// is-system-running` says running (or degraded), asked from the host inside
// the container's namespaces, the same way for every engine. Then a clean
// stop is timed. See bench/README.md. Run it through bench/rich.
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { systemdRootfsTar } from '../test/lib/rich-images.ts';
import { parseOptions } from './lib/args.ts';
import { DockerApi } from './lib/docker-api.ts';
import { joeyEngine, podmanEngine, unavailable, type Command, type Instance } from './lib/engines.ts';
import { excerpt, onCleanup, run, runCleanups, runOk } from './lib/proc.ts';
import { cgroupsBelow, contextFor, log, openSession } from './lib/session.ts';
import { describeMachine, engineVersions, formatTable, median, round2 } from './lib/stats.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const IMAGE = 'bench/rich-systemd:latest';
const RUNNERS = ['joey', 'joey-api', 'podman'] as const;
type RunnerName = (typeof RUNNERS)[number];

const USAGE = `usage: bench/rich [--rounds N] [--runners ${RUNNERS.join(',')}] [--out FILE]

Times, from spawn (or the first API call) until \`systemctl is-system-running\`
inside the container answers running or degraded: joey CLI \`run -d --rich
--rich-mode systemd IMAGE sleep infinity\`, the same through the API
(create + start), and podman \`run -d --systemd=always IMAGE /sbin/init\`;
then \`stop -t 10\` of each. N rounds (default 5) after one untimed warm-up,
round-robin. Needs root.`;

interface Sample {
  readyMs: number;
  stopMs: number;
}

/** The command, which must exit 0. */
const ok = (c: Command, timeoutSeconds = 120) => runOk(c.argv, { env: c.env, timeoutSeconds });

/** The container's PID 1 on the host: the process named systemd in a cgroup that names the container. */
function systemdPidOf(id: string): number | undefined {
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (readFileSync(`/proc/${e}/comm`, 'utf8').trim() !== 'systemd') continue;
      if (readFileSync(`/proc/${e}/cgroup`, 'utf8').includes(id)) return Number(e);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

/** Polls until systemd in the container reports running or degraded; ms since t0. */
async function untilReady(id: string, t0: number, timeoutMs = 60_000): Promise<number> {
  let last = '';
  while (performance.now() - t0 < timeoutMs) {
    const pid = systemdPidOf(id);
    if (pid) {
      const r = await run(['nsenter', '-t', String(pid), '-m', '-p', '--', 'systemctl', 'is-system-running'], { timeoutSeconds: 10 });
      last = r.stdout.trim();
      if (/^(running|degraded)$/.test(last)) return performance.now() - t0;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`container ${id.slice(0, 12)} not ready after ${timeoutMs} ms (systemctl said ${JSON.stringify(last)})`);
}

interface Runner {
  name: RunnerName;
  /** starts the container; resolves with its full id */
  start(name: string): Promise<string>;
  stop(id: string): Promise<void>;
  remove(id: string): Promise<void>;
}

function cliRunner(name: RunnerName, inst: Instance, runArgs: string[], cmd: string[]): Runner {
  return {
    name,
    async start(n) {
      const out = await ok(inst.cli(['run', '-d', '--name', n, '--network', 'none', ...runArgs, IMAGE, ...cmd]));
      return out.stdout.trim().split('\n').pop()!;
    },
    async stop(id) {
      await ok(inst.cli(['stop', '-t', '10', id]));
    },
    async remove(id) {
      await ok(inst.removeCommand([id]));
    },
  };
}

function apiRunner(api: DockerApi, inst: Instance): Runner {
  return {
    name: 'joey-api',
    async start(n) {
      const c = await api.call('POST', `/containers/create?name=${n}`, { Image: IMAGE, Cmd: ['sleep', 'infinity'], Rich: true, RichMode: 'systemd', HostConfig: { NetworkMode: 'none' } });
      if (c.status !== 201) throw new Error(`create: HTTP ${c.status} ${c.body.slice(0, 200)}`);
      const id = (JSON.parse(c.body) as { Id: string }).Id;
      const s = await api.call('POST', `/containers/${id}/start`);
      if (s.status !== 204) throw new Error(`start: HTTP ${s.status} ${s.body.slice(0, 200)}`);
      return id;
    },
    async stop(id) {
      const r = await api.call('POST', `/containers/${id}/stop?t=10`);
      if (r.status !== 204 && r.status !== 304) throw new Error(`stop: HTTP ${r.status}`);
    },
    async remove(id) {
      await ok(inst.removeCommand([id]));
    },
  };
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2), { rounds: 'int', runners: 'list', out: 'string' }, USAGE);
  const rounds = (o.get('rounds') as number | undefined) ?? 5;
  const wanted = ((o.get('runners') as string[] | undefined) ?? [...RUNNERS]) as RunnerName[];
  for (const n of wanted) if (!RUNNERS.includes(n)) throw new Error(`unknown runner ${n}`);

  const built = await systemdRootfsTar();
  log(`systemd rootfs: ${built.tar}${built.builtNow ? ' (built now)' : ''}`);
  const s = await openSession('rich', 'jbr-', repoRoot);
  const machine = await describeMachine(s.dir);
  const versions = await engineVersions();
  const runners: Runner[] = [];
  const failed: Record<string, string> = {};
  const engines: Array<{ name: string; inst: Instance }> = [];
  if (wanted.some((n) => n.startsWith('joey'))) {
    const why = await unavailable(joeyEngine, repoRoot);
    if (why) for (const n of wanted.filter((x) => x.startsWith('joey'))) failed[n] = why;
    else {
      const inst = await joeyEngine.start(join(s.dir, 'joey'), contextFor(s, 'joey'));
      onCleanup('joeyd', () => inst.stop());
      engines.push({ name: 'joey', inst });
      await ok(inst.cli(['import', built.tar, IMAGE]), 600);
      if (wanted.includes('joey')) runners.push(cliRunner('joey', inst, ['--rich', '--rich-mode', 'systemd'], ['sleep', 'infinity']));
      if (wanted.includes('joey-api') && inst.dockerApi) {
        const api = new DockerApi(inst.dockerApi.socket);
        onCleanup('api client', async () => api.close());
        runners.push(apiRunner(api, inst));
      }
    }
  }
  if (wanted.includes('podman')) {
    const why = await unavailable(podmanEngine, repoRoot);
    if (why) failed['podman'] = why;
    else {
      const inst = await podmanEngine.start(join(s.dir, 'podman'), contextFor(s, 'podman'));
      onCleanup('podman', () => inst.stop());
      engines.push({ name: 'podman', inst });
      await ok(inst.cli(['import', built.tar, IMAGE]), 600);
      const flags = ['--systemd=always', '--ulimit', 'nofile=20000:20000', '--ulimit', 'nproc=32768:32768', '--cgroup-parent', `${s.cgroupRoot}/podman`];
      runners.push(cliRunner('podman', inst, flags, ['/sbin/init']));
    }
  }

  const samples = new Map<RunnerName, Sample[]>(runners.map((r) => [r.name, []]));
  const once = async (r: Runner, n: string): Promise<Sample> => {
    const t0 = performance.now();
    const id = await r.start(n);
    const readyMs = await untilReady(id, t0);
    const t1 = performance.now();
    await r.stop(id);
    const stopMs = performance.now() - t1;
    await r.remove(id);
    return { readyMs: round2(readyMs), stopMs: round2(stopMs) };
  };
  for (const r of runners) {
    try {
      await once(r, `jbr-warm-${r.name}-${process.pid}`);
    } catch (e) {
      failed[r.name] = (e as Error).message;
      log(`${r.name}: warm-up failed: ${failed[r.name]}`);
    }
  }
  const live = runners.filter((r) => !failed[r.name]);
  for (let i = 0; i < rounds; i++) {
    const order = live.map((_r, k) => live[(k + i) % live.length]!);
    const line: string[] = [];
    for (const r of order) {
      try {
        const smp = await once(r, `jbr-${r.name}-${process.pid}-${i}`);
        samples.get(r.name)!.push(smp);
        line.push(`${r.name} ${smp.readyMs.toFixed(0)}/${smp.stopMs.toFixed(0)}`);
      } catch (e) {
        failed[r.name] = (e as Error).message;
      }
    }
    log(`round ${i + 1}/${rounds} (load ${loadavg()[0]?.toFixed(2)}): ready/stop ms: ${line.join(', ')}`);
  }
  const cgroupsLeft: Record<string, string[]> = {};
  for (const e of engines) cgroupsLeft[e.name] = await cgroupsBelow(s, e.name);
  const left = await s.finish();

  const podman = samples.get('podman') ?? [];
  const podmanReady = podman.length ? median(podman.map((x) => x.readyMs)) : Number.NaN;
  const podmanStop = podman.length ? median(podman.map((x) => x.stopMs)) : Number.NaN;
  const ratio = (v: number, b: number) => (Number.isFinite(b) && b > 0 ? `${(v / b).toFixed(2)}x` : '-');
  const table: string[][] = [];
  for (const name of wanted) {
    const xs = samples.get(name) ?? [];
    if (failed[name] || xs.length === 0) {
      table.push([name, `failed (${excerpt(failed[name] ?? 'no samples', 160)})`]);
      continue;
    }
    const ready = median(xs.map((x) => x.readyMs));
    const stop = median(xs.map((x) => x.stopMs));
    table.push([name, ready.toFixed(1), Math.min(...xs.map((x) => x.readyMs)).toFixed(1), Math.max(...xs.map((x) => x.readyMs)).toFixed(1), ratio(ready, podmanReady), stop.toFixed(1), ratio(stop, podmanStop), String(xs.length)]);
  }
  const out = [
    '',
    `systemd rich container, start to ready (systemctl is-system-running), then stop -t 10: ${rounds} rounds after a warm-up, round-robin`,
    `machine: ${machine.nproc} CPUs (${machine.cpu}), ${machine.memoryGiB} GiB, kernel ${machine.kernel}; load at end ${loadavg().map((x) => x.toFixed(2)).join(' ')}`,
    '',
    formatTable(['runner', 'ready ms', 'min', 'max', 'vs podman', 'stop ms', 'vs podman', 'n'], table),
  ].join('\n');
  process.stdout.write(out + '\n');
  for (const [e, cg] of Object.entries(cgroupsLeft)) if (cg.length) log(`note: ${e} left ${cg.length} cgroup dir(s): ${cg.slice(0, 5).join(' ')}`);
  if (left.mounts.length) log(`warning: mounts left: ${left.mounts.join(' ')}`);
  const file = (o.get('out') as string | undefined) ?? join(repoRoot, 'bench', 'results', `rich-${new Date().toISOString().slice(0, 16).replace(/:/g, '')}.json`);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify({ date: new Date().toISOString(), machine, versions, rounds, samples: Object.fromEntries(samples), failed }, null, 2) + '\n');
  log(`results: ${relative(process.cwd(), file)}`);
}

main().catch(async (e) => {
  process.stderr.write(`bench/rich: ${(e as Error).stack ?? e}\n`);
  await runCleanups();
  process.exit(1);
});
