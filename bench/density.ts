// Density benchmark: N idle containers (busybox sleep, no network, detached)
// per engine; measures the time to start them one by one, the daemon's
// memory and each container's (monitor + container processes), `ps -a`
// latency with N containers, and the time to remove them all. See
// bench/README.md. Run it through bench/density.
import { mkdir } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseOptions } from './lib/args.ts';
import { dockerEngine, isPeer, joeyDockerEngine, joeyEngine, podmanEngine, unavailable, type Command, type Engine } from './lib/engines.ts';
import { account, sumMemory, subtree, processTable, type Accounting, type Memory } from './lib/memory.ts';
import { excerpt, run, runCleanups } from './lib/proc.ts';
import { cgroupsBelow, log, openSession, startWithImage, writeResults, type Session } from './lib/session.ts';
import { describeMachine, engineVersions, formatTable, median, round2 } from './lib/stats.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ENGINES: Engine[] = [joeyEngine, joeyDockerEngine, dockerEngine, podmanEngine];
const PS_RUNS = 10;
/** seconds to let the daemons settle after the last start, before measuring memory */
const SETTLE_SECONDS = 3;

const USAGE = `usage: bench/density [--count N] [--engines ${ENGINES.map((e) => e.name).join(',')}] [--out FILE]

For each engine in turn: starts N idle containers (default 200) one after the
other with \`run -d --network none IMAGE sleep 1000000\`, measures the daemon's
memory and each container's (monitor + container processes, RSS and PSS from
/proc), the median of ${PS_RUNS} \`ps -a\`, then removes them all with one \`rm -f\`.
joey and joey-docker are the same joeyd driven by the joey CLI and by the
docker CLI. Prints a table with ratios to the best peer (dockerd, podman);
writes JSON to bench/results/. Needs root. Environment: JOEY_BENCH_TMP,
JOEY_BENCH_CACHE (as for bench/pull).`;

interface Result {
  engine: string;
  failed?: string;
  startSeconds?: number;
  startMs?: number[];
  psMs?: number[];
  removeSeconds?: number;
  idleDaemon?: Memory & { pids: number };
  memory?: Accounting;
  load: { beforeStart: number; afterStart: number };
  cgroupsLeft?: string[];
}

async function timed(c: Command, timeoutSeconds = 120): Promise<{ ms: number; stdout: string }> {
  const r = await run(c.argv, { env: c.env, timeoutSeconds });
  if (r.code !== 0) throw new Error(`${c.argv.slice(0, 3).join(' ')}… exited ${r.code ?? r.signal}: ${excerpt(r.stderr || r.stdout)}`);
  return { ms: r.seconds * 1000, stdout: r.stdout };
}

async function measureEngine(s: Session, e: Engine, count: number): Promise<Result> {
  const res: Result = { engine: e.name, load: { beforeStart: 0, afterStart: 0 } };
  const why = await unavailable(e, repoRoot);
  if (why) {
    log(`${e.name}: ${why}`);
    return { ...res, failed: why };
  }
  let inst;
  try {
    inst = await startWithImage(s, e, join(s.dir, e.name));
  } catch (err) {
    log(`${e.name}: failed to start (${(err as Error).message})`);
    return { ...res, failed: `start: ${(err as Error).message}` };
  }
  try {
    // one untimed run so that first-use work (caches, lazily created dirs) is done
    await timed(inst.runCommand({ name: `jbd-warmup-${process.pid}`, image: s.image, args: ['true'] }));
    if ((await inst.containers()).length > 0) throw new Error('warm-up container left after run --rm');
    await new Promise((r) => setTimeout(r, SETTLE_SECONDS * 1000));
    const table = processTable();
    const idle = inst.daemonPids().flatMap((p) => subtree(table, p));
    res.idleDaemon = { ...sumMemory(idle), pids: idle.length };

    const names = Array.from({ length: count }, (_v, i) => `jbd-${process.pid}-${i}`);
    res.load.beforeStart = round2(loadavg()[0] ?? 0);
    const t0 = process.hrtime.bigint();
    res.startMs = [];
    for (const [i, name] of names.entries()) {
      const t = await timed(inst.runCommand({ name, image: s.image, args: ['sleep', '1000000'], detach: true }));
      res.startMs.push(round2(t.ms));
      if ((i + 1) % 50 === 0) log(`${e.name}: ${i + 1}/${count} started`);
    }
    res.startSeconds = round2(Number(process.hrtime.bigint() - t0) / 1e9);
    res.load.afterStart = round2(loadavg()[0] ?? 0);
    log(`${e.name}: ${count} started in ${res.startSeconds}s`);

    await new Promise((r) => setTimeout(r, SETTLE_SECONDS * 1000));
    const pids = await inst.containerPids(names);
    res.memory = account(pids, inst.daemonPids());
    if (res.memory.missing > 0) throw new Error(`${res.memory.missing} of ${count} containers have no running process`);

    res.psMs = [];
    for (let i = 0; i < PS_RUNS; i++) {
      const t = await timed(inst.psCommand());
      const lines = t.stdout.split('\n').filter((l) => l.trim()).length;
      if (lines !== count + 1) throw new Error(`ps -a listed ${lines - 1} containers, expected ${count}`);
      res.psMs.push(round2(t.ms));
    }

    const tr = await timed(inst.removeCommand(names), 600);
    res.removeSeconds = round2(tr.ms / 1000);
    const left = await inst.containers();
    if (left.length > 0) throw new Error(`${left.length} containers still listed after rm -f`);
    log(`${e.name}: removed in ${res.removeSeconds}s`);
  } catch (err) {
    res.failed = (err as Error).message;
    log(`${e.name}: failed (${res.failed})`);
  } finally {
    res.cgroupsLeft = await cgroupsBelow(s, e.name);
    await inst.stop();
  }
  return res;
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2), { count: 'int', engines: 'list', out: 'string' }, USAGE);
  const count = (o.get('count') as number | undefined) ?? 200;
  const names = (o.get('engines') as string[] | undefined) ?? ENGINES.map((e) => e.name);
  for (const n of names) if (!ENGINES.some((e) => e.name === n)) throw new Error(`unknown engine ${n}`);
  const engines = ENGINES.filter((e) => names.includes(e.name));

  const s = await openSession('density', 'jbd-', repoRoot);
  const machine = await describeMachine(s.dir);
  const versions = await engineVersions();
  const results: Result[] = [];
  for (const e of engines) results.push(await measureEngine(s, e, count));
  const left = await s.finish();

  // ---- report --------------------------------------------------------------
  const ok = results.filter((r) => !r.failed && r.memory);
  const peers = ok.filter((r) => isPeer(ENGINES.find((e) => e.name === r.engine) as Engine));
  const perCtr = (r: Result, k: keyof Memory) => (r.memory ? r.memory.containers[k] / count : Number.NaN);
  // the daemon's RSS, not its PSS: joeyd shares node's pages with this script
  // and any other Node process on the host, which would halve its PSS
  const total = (r: Result) => (r.memory ? (r.memory.daemon.rssKiB + r.memory.containers.pssKiB) / 1024 : Number.NaN);
  const metrics = {
    start: (r: Result) => r.startSeconds ?? Number.NaN,
    ps: (r: Result) => median(r.psMs ?? []),
    daemon: (r: Result) => (r.memory ? r.memory.daemon.rssKiB / 1024 : Number.NaN),
    ctrPss: (r: Result) => perCtr(r, 'pssKiB'),
    total,
  };
  // the best peer of each metric; for the daemon, the best peer that has one
  const best = Object.fromEntries(
    Object.entries(metrics).map(([k, f]) => {
      const vals = peers.map(f).filter((v) => Number.isFinite(v) && (k !== 'daemon' || v > 0));
      return [k, vals.length ? Math.min(...vals) : Number.NaN];
    }),
  ) as Record<keyof typeof metrics, number>;
  const withRatio = (v: number, b: number, digits: number) =>
    Number.isFinite(v) ? `${v.toFixed(digits)}${Number.isFinite(b) && b > 0 && v > 0 ? ` (${(v / b).toFixed(2)}x)` : ''}` : '-';
  const header = [
    'engine',
    `start ${count} s`,
    'ms/start',
    'ps -a ms',
    'rm all s',
    'daemon RSS MB',
    'KiB PSS/ctr',
    'KiB RSS/ctr',
    'procs/ctr',
    'total MB',
  ];
  const table: string[][] = [];
  for (const r of results) {
    if (r.failed || !r.memory) {
      table.push([r.engine, `failed (${excerpt(r.failed ?? 'no result', 160)})`]);
      continue;
    }
    table.push([
      r.engine,
      withRatio(metrics.start(r), best.start, 1),
      median(r.startMs ?? []).toFixed(0),
      withRatio(metrics.ps(r), best.ps, 0),
      (r.removeSeconds ?? Number.NaN).toFixed(1),
      withRatio(metrics.daemon(r), best.daemon, 1),
      withRatio(metrics.ctrPss(r), best.ctrPss, 0),
      perCtr(r, 'rssKiB').toFixed(0),
      (r.memory.containers.pids / count).toFixed(1),
      withRatio(metrics.total(r), best.total, 1),
    ]);
  }
  const lines = [
    '',
    `${count} idle containers per engine (busybox sleep, --network none, run -d one after the other); (x) = ratio to the best peer (dockerd, podman)`,
    'daemon: RSS of the daemon process tree (joeyd; dockerd + its containerd; podman has none) with the containers running',
    'per container: RSS / PSS of its monitor (conmon, containerd-shim) and its processes, from /proc/PID/smaps_rollup; total: daemon RSS + containers PSS',
    `machine: ${machine.nproc} CPUs (${machine.cpu}), ${machine.memoryGiB} GiB, kernel ${machine.kernel}; load at start ${machine.loadAtStart.join(' ')}, at end ${loadavg().map(round2).join(' ')}`,
    '',
    formatTable(header, table.filter((r) => r.length > 2)),
    ...table.filter((r) => r.length <= 2).map((r) => `${(r[0] ?? '').padEnd(12)}  ${r[1] ?? ''}`),
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
  for (const r of results) {
    if (r.memory) log(`${r.engine}: counted per container: ${JSON.stringify(r.memory.containers.comms)}; daemon: ${JSON.stringify(r.memory.daemon.comms)}; monitors ${r.memory.monitors}`);
    if (r.cgroupsLeft?.length) log(`note: ${r.engine} left ${r.cgroupsLeft.length} cgroup dir(s) below its parent: ${r.cgroupsLeft.slice(0, 5).join(', ')}`);
  }

  const stamp = new Date().toISOString().replace(/:\d\d\.\d+Z$/, '').replace(':', '');
  const outPath = (o.get('out') as string | undefined) ?? join(repoRoot, 'bench', 'results', `density-${stamp}.json`);
  await mkdir(dirname(outPath), { recursive: true });
  await writeResults(
    outPath,
    {
      benchmark: 'density',
      date: new Date().toISOString(),
      count,
      machine: { ...machine, loadAtEnd: loadavg().map(round2) },
      versions,
      engines: Object.fromEntries(engines.map((e) => [e.name, e.description])),
      results,
      leftAtEnd: left,
    },
    left,
  );
}

main().catch(async (e: unknown) => {
  process.stderr.write(`bench/density: ${e instanceof Error ? e.message : String(e)}\n`);
  await runCleanups();
  process.exit(1);
});
