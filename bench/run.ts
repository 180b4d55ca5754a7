// Run benchmark: times `run --rm --network none busybox true`, end to end,
// with joey (its CLI, the docker CLI, the API alone) beside dockerd,
// containerd (ctr), podman and bare runc, in one run; with `--network bridge`,
// `run --rm --network bridge` on each engine's default bridge network (joeyd,
// dockerd, podman, each with a private bridge and subnet). See bench/README.md.
// Run it through bench/run.
import { readdirSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseOptions } from './lib/args.ts';
import { DockerApi, runViaApi } from './lib/docker-api.ts';
import {
  DOCKER_CLI,
  ctrEngine,
  dockerEngine,
  joeyEngine,
  podmanEngine,
  unavailable,
  type Command,
  type Engine,
  type Instance,
} from './lib/engines.ts';
import { cleanupHostNet, pickBridges, snapshotHostNet, type BridgeSpec, type HostNetCleanup } from './lib/hostnet.ts';
import { excerpt, onCleanup, run, runCleanups } from './lib/proc.ts';
import { prepareRuncBundle, type RuncBundle } from './lib/runc.ts';
import { cgroupsBelow, joeydLogProblems, log, openSession, startWithImage, writeResults, type Session } from './lib/session.ts';
import { describeMachine, engineVersions, formatTable, median, round2 } from './lib/stats.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** One way of running a container: a client against an engine. */
interface Runner {
  name: string;
  /** the engine instance it runs in (several runners share joeyd and dockerd) */
  engine: 'joey' | 'docker' | 'ctr' | 'podman' | 'runc';
  /** peers set the yardstick; runc is the floor */
  role: 'joey' | 'peer' | 'floor';
  description: string;
  /** the client binary whose start-up (`--version`) is measured beside, if any */
  client?: string[];
}

const RUNNERS: Runner[] = [
  {
    name: 'joey',
    engine: 'joey',
    role: 'joey',
    description: 'joey CLI: bin/joey -H unix://SOCK run --rm --network none --name N IMAGE true',
    client: ['bin/joey', '--version'],
  },
  {
    name: 'joey-docker',
    engine: 'joey',
    role: 'joey',
    description: 'docker CLI 28 against joeyd: DOCKER_HOST=unix://SOCK docker run --rm --network none --name N IMAGE true',
    client: [DOCKER_CLI, '--version'],
  },
  {
    name: 'joey-api',
    engine: 'joey',
    role: 'joey',
    description:
      "joeyd's API from the benchmark process: create (AutoRemove, NetworkMode none), wait?condition=removed, start, wait result",
  },
  {
    name: 'joey-api-delete',
    engine: 'joey',
    role: 'joey',
    description: "joeyd's API: create (NetworkMode none), wait?condition=next-exit, start, wait result, DELETE /containers/ID",
  },
  {
    name: 'docker',
    engine: 'docker',
    role: 'peer',
    description: 'dockerd 20.10 + docker CLI 28: docker run --rm --network none --name N IMAGE true',
    client: [DOCKER_CLI, '--version'],
  },
  {
    name: 'docker-api',
    engine: 'docker',
    role: 'peer',
    description: "dockerd's API from the benchmark process, the same calls as joey-api",
  },
  {
    name: 'docker-api-delete',
    engine: 'docker',
    role: 'peer',
    description: "dockerd's API, the same calls as joey-api-delete",
  },
  {
    name: 'ctr',
    engine: 'ctr',
    role: 'peer',
    description: 'containerd 1.6: nsenter --mount=NS ctr -a SOCK -n bench run --rm --cgroup CG IMAGE N true',
    client: ['ctr', '--version'],
  },
  {
    name: 'podman',
    engine: 'podman',
    role: 'peer',
    description:
      'podman 4.3: podman --root … --runtime runc run --rm --network none --name N --ulimit nofile=20000:20000 --ulimit nproc=32768:32768 --cgroup-parent CG IMAGE true',
    client: ['podman', '--version'],
  },
  {
    name: 'runc',
    engine: 'runc',
    role: 'floor',
    description: 'runc 1.1 alone: runc --root STATE run --bundle B N (busybox rootfs read-only, runc spec defaults, args true)',
    client: ['runc', '--version'],
  },
];

const ENGINE_OF: Record<string, Engine> = { joey: joeyEngine, docker: dockerEngine, ctr: ctrEngine, podman: podmanEngine };

/** Engines that have a default bridge network, and the prefix of the private bridge each gets (prefix + pid ≤ 15 chars). */
const BRIDGE_PREFIX: Record<string, string> = { joey: 'jb', docker: 'db', podman: 'pb' };

const USAGE = `usage: bench/run [--network none|bridge] [--rounds N] [--runners ${RUNNERS.map((r) => r.name).join(',')}] [--out FILE]

Times \`run --rm --network none IMAGE true\` (a static busybox image) for each
runner, after one untimed warm-up run each, in N round-robin rounds (default
10). Prints the median, min and max milliseconds, the ratio to the fastest
peer (dockerd, ctr, podman) and to bare runc; writes JSON to bench/results/.
With --network bridge: \`run --rm --network bridge IMAGE true\` on each
engine's default bridge network, each engine with a private bridge and /24
(runners: the joey, docker and podman ones; ctr and runc have no bridge), and
the ratio to the fastest peer (dockerd, podman).
Needs root. Environment: JOEY_BENCH_TMP (where the engines' directories go,
default /tmp), JOEY_BENCH_CACHE (the image cache, default /var/cache/joey-bench).`;

interface Cell {
  runner: Runner;
  ms: number[];
  load: number[];
  /** runs after which the container was still listed, but gone within 5 s */
  lateRemovals: number;
  failed?: string;
  clientMs?: number;
}

/** How a runner does one timed run; throws if the run fails. */
type Once = (name: string) => Promise<number>;

async function timeCommand(c: Command): Promise<number> {
  const r = await run(c.argv, { env: c.env, timeoutSeconds: 120 });
  if (r.code !== 0) throw new Error(`exited ${r.code ?? r.signal}: ${excerpt(r.stderr || r.stdout)}`);
  return r.seconds * 1000;
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2), { rounds: 'int', runners: 'list', out: 'string', network: 'string' }, USAGE);
  const rounds = (o.get('rounds') as number | undefined) ?? 10;
  const network = (o.get('network') as string | undefined) ?? 'none';
  if (network !== 'none' && network !== 'bridge') throw new Error(`--network must be none or bridge, not ${network}`);
  const bridged = network === 'bridge';
  const names =
    (o.get('runners') as string[] | undefined) ?? RUNNERS.filter((r) => !bridged || BRIDGE_PREFIX[r.engine]).map((r) => r.name);
  for (const n of names) if (!RUNNERS.some((r) => r.name === n)) throw new Error(`unknown runner ${n}`);
  const runners = RUNNERS.filter((r) => names.includes(r.name)).map((r) =>
    bridged ? { ...r, description: r.description.replace('--network none', '--network bridge').replace('NetworkMode none', 'NetworkMode bridge') } : r,
  );
  if (bridged) {
    for (const r of runners) if (!BRIDGE_PREFIX[r.engine]) throw new Error(`${r.name} has no bridge network (only joey*, docker*, podman run with --network bridge)`);
  }

  const s: Session = await openSession('run', 'jbr-', repoRoot);
  const machine = await describeMachine(s.dir);
  const versions = await engineVersions();
  const cells: Cell[] = runners.map((runner) => ({ runner, ms: [], load: [], lateRemovals: 0 }));

  // ---- bridge case: a private bridge and /24 per engine; what the engines
  // add to iptables is undone (scoped) after they all stopped --------------
  const bridges = new Map<string, BridgeSpec>();
  let hostNet: HostNetCleanup | undefined;
  if (bridged) {
    const engines = [...new Set(runners.map((r) => r.engine))];
    const picks = await pickBridges(engines.map((e) => BRIDGE_PREFIX[e] ?? 'xb'));
    engines.forEach((e, i) => bridges.set(e, picks[i] as BridgeSpec));
    const before = await snapshotHostNet();
    // registered before the engines, so it runs after they are stopped
    onCleanup('host network', async () => {
      hostNet = await cleanupHostNet(before, picks);
    });
    for (const [e, b] of bridges) log(`${e}: bridge ${b.name}, ${b.subnet}`);
  }

  // ---- engines, each with the image pulled (untimed) ----------------------
  const instances = new Map<string, Instance>();
  /** bridge case: what a container saw on eth0 in the untimed check */
  const verified: Record<string, string> = {};
  let bundle: RuncBundle | undefined;
  const listers = new Map<string, () => Promise<string[]>>();
  const engineFailed = new Map<string, string>();
  for (const engine of new Set(runners.map((r) => r.engine))) {
    try {
      if (engine === 'runc') {
        const dir = join(s.dir, 'runc');
        const b = await prepareRuncBundle(dir, s.layerPath, ['true'], `${s.cgroupRoot}/runc`);
        onCleanup('runc bundle', () => b.stop());
        listers.set('runc', b.containers);
        bundle = b;
        continue;
      }
      const e = ENGINE_OF[engine];
      if (!e) throw new Error(`no engine ${engine}`);
      const why = await unavailable(e, repoRoot);
      if (why) throw new Error(why);
      const started = Date.now();
      const bridge = bridges.get(engine);
      const inst = await startWithImage(s, e, join(s.dir, engine), bridge ? { bridge } : {});
      instances.set(engine, inst);
      listers.set(engine, () => inst.containers());
      log(`${engine}: started, image pulled (${((Date.now() - started) / 1000).toFixed(1)}s)`);
      if (bridge) {
        verified[engine] = await verifyBridge(inst, s.image, bridge);
        log(`${engine}: a container on the bridge has ${verified[engine]}`);
      }
    } catch (err) {
      engineFailed.set(engine, (err as Error).message);
      log(`${engine}: failed (${(err as Error).message})`);
    }
  }

  const apis: DockerApi[] = [];
  const onceOf = (r: Runner): Once | undefined => {
    if (r.engine === 'runc') {
      const b = bundle;
      return b && ((name) => timeCommand(b.runCommand(name)));
    }
    const inst = instances.get(r.engine);
    if (!inst) return undefined;
    const runArgs = { image: s.image, args: ['true'], network };
    if (r.name.endsWith('-api') || r.name.endsWith('-api-delete')) {
      if (!inst.dockerApi) return undefined;
      const api = new DockerApi(inst.dockerApi.socket);
      apis.push(api);
      const autoRemove = r.name.endsWith('-api');
      return async (name) => {
        const t0 = process.hrtime.bigint();
        await runViaApi(api, { ...runArgs, name, autoRemove });
        return Number(process.hrtime.bigint() - t0) / 1e6;
      };
    }
    if (r.name === 'joey-docker') {
      const api = inst.dockerApi;
      if (!api) return undefined;
      return (name) => timeCommand(api.cli(['run', '--rm', '--network', network, '--name', name, s.image, 'true']));
    }
    return (name) => timeCommand(inst.runCommand({ ...runArgs, name }));
  };

  /**
   * null when the engine lists no container after the run (waiting up to 5 s),
   * else what is left. In the bridge case the engine's bridge must also have
   * no port (veth) left.
   */
  const leftover = async (cell: Cell): Promise<string | null> => {
    const list = listers.get(cell.runner.engine);
    if (!list) return null;
    const bridge = bridges.get(cell.runner.engine);
    const deadline = Date.now() + 5000;
    let first = true;
    for (;;) {
      const left = [...(await list()), ...(bridge ? bridgePorts(bridge.name).map((p) => `veth ${p} on ${bridge.name}`) : [])];
      if (left.length === 0) {
        if (!first) cell.lateRemovals++;
        return null;
      }
      if (Date.now() > deadline) return `still listed after the run: ${left.join(', ')}`;
      first = false;
      await new Promise((res) => setTimeout(res, 100));
    }
  };

  let seq = 0;
  const uniqueName = (r: Runner, label: string) => `jb-${r.name}-${label}-${process.pid}-${++seq}`;
  const onces = new Map<Cell, Once>();
  for (const cell of cells) {
    const why = engineFailed.get(cell.runner.engine);
    const once = onceOf(cell.runner);
    if (why || !once) {
      cell.failed = why ?? 'engine not started';
      continue;
    }
    if (cell.runner.client) {
      const argv = cell.runner.client.map((a) => (a.startsWith('bin/') ? join(repoRoot, a) : a));
      const t: number[] = [];
      for (let i = 0; i < 5; i++) t.push((await run(argv)).seconds * 1000);
      cell.clientMs = median(t);
    }
    try {
      const ms = await once(uniqueName(cell.runner, 'warmup'));
      const bad = await leftover(cell);
      if (bad) throw new Error(bad);
      onces.set(cell, once);
      log(`warm-up  ${cell.runner.name.padEnd(17)} ${ms.toFixed(1)} ms`);
    } catch (err) {
      cell.failed = `warm-up: ${(err as Error).message}`;
      log(`warm-up  ${cell.runner.name.padEnd(17)} failed (${cell.failed})`);
    }
  }

  const active = cells.filter((c) => onces.has(c));
  for (let round = 0; round < rounds; round++) {
    // rotate the order so that no runner always goes first or last
    const order = active.map((_c, i) => active[(i + round) % active.length]).filter((c): c is Cell => !!c);
    const line: string[] = [];
    for (const cell of order) {
      const once = onces.get(cell);
      if (!once || cell.failed) continue;
      try {
        const load = loadavg()[0] ?? 0;
        const ms = await once(uniqueName(cell.runner, `r${round + 1}`));
        const bad = await leftover(cell);
        if (bad) throw new Error(bad);
        cell.ms.push(ms);
        cell.load.push(round2(load));
        line.push(`${cell.runner.name} ${ms.toFixed(0)}`);
      } catch (err) {
        cell.failed = `round ${round + 1}: ${(err as Error).message}`;
        log(`round ${round + 1}: ${cell.runner.name} failed (${cell.failed})`);
      }
    }
    log(`round ${round + 1}/${rounds} (load ${round2(loadavg()[0] ?? 0)}): ${line.join(', ')} ms`);
  }

  for (const api of apis) api.close();
  const cgroupsLeft = Object.fromEntries(
    (await Promise.all([...new Set(runners.map((r) => r.engine))].map(async (e) => [e, await cgroupsBelow(s, e)] as const))).filter(([, l]) => l.length > 0),
  );
  // joeyd's warnings and errors (its log goes with the work directory)
  const joeydLog = joeydLogProblems(s);
  const left = await s.finish();

  // ---- report --------------------------------------------------------------
  const ok = (c: Cell) => !c.failed && c.ms.length > 0;
  const fastestPeer = cells
    .filter((c) => ok(c) && c.runner.role === 'peer')
    .map((c) => ({ name: c.runner.name, m: median(c.ms) }))
    .sort((a, b) => a.m - b.m)[0];
  const runcCell = cells.find((c) => c.runner.role === 'floor' && ok(c));
  const runcMedian = runcCell ? median(runcCell.ms) : undefined;
  const header = ['runner', 'median ms', 'min', 'max', 'vs fastest peer', 'vs runc', 'cli start ms', 'n'].filter((h) => !bridged || h !== 'vs runc');
  const table: string[][] = [];
  const rows = cells.map((c) => {
    const meanLoad = c.load.length ? round2(c.load.reduce((a, x) => a + x, 0) / c.load.length) : undefined;
    if (!ok(c)) {
      table.push([c.runner.name, `failed (${excerpt(c.failed ?? 'no result', 140)})`]);
      return { runner: c.runner.name, failed: c.failed ?? 'no result', ms: c.ms, meanLoad };
    }
    const m = median(c.ms);
    const ratio = fastestPeer ? m / fastestPeer.m : undefined;
    const vsRunc = runcMedian ? m / runcMedian : undefined;
    table.push([
      c.runner.name,
      m.toFixed(1),
      Math.min(...c.ms).toFixed(1),
      Math.max(...c.ms).toFixed(1),
      ratio === undefined ? '-' : `${ratio.toFixed(2)}x${fastestPeer?.name === c.runner.name ? ' (fastest)' : ''}`,
      ...(bridged ? [] : [vsRunc === undefined ? '-' : `${vsRunc.toFixed(2)}x`]),
      c.clientMs === undefined ? '-' : c.clientMs.toFixed(1),
      String(c.ms.length),
    ]);
    return {
      runner: c.runner.name,
      role: c.runner.role,
      medianMs: round2(m),
      minMs: round2(Math.min(...c.ms)),
      maxMs: round2(Math.max(...c.ms)),
      vsFastestPeer: ratio === undefined ? undefined : round2(ratio),
      vsRunc: vsRunc === undefined ? undefined : round2(vsRunc),
      clientStartMs: c.clientMs === undefined ? undefined : round2(c.clientMs),
      lateRemovals: c.lateRemovals,
      ms: c.ms.map(round2),
      load: c.load,
      meanLoad,
    };
  });
  const out: string[] = [
    '',
    `run --rm --network ${network} busybox true: ${rounds} rounds after a warm-up, round-robin; wall-clock ms from spawn (or first API call) to exit`,
    ...(bridged
      ? [
          `bridges: ${[...bridges].map(([e, b]) => `${e} ${b.name} ${b.subnet}`).join(', ')}; vs fastest peer: dockerd's or podman's best runner`,
          ...Object.entries(verified).map(([e, v]) => `  ${e}: a container had ${v}`),
        ]
      : []),
    `cli start ms: median of 5 \`CLIENT --version\` (the client's own start-up, included in its runs)`,
    `machine: ${machine.nproc} CPUs (${machine.cpu}), ${machine.memoryGiB} GiB, kernel ${machine.kernel}; load at start ${machine.loadAtStart.join(' ')}, at end ${loadavg().map(round2).join(' ')}`,
    '',
    formatTable(header, table.filter((r) => r.length > 2)),
    ...table.filter((r) => r.length <= 2).map((r) => `${(r[0] ?? '').padEnd(17)}  ${r[1] ?? ''}`),
    '',
  ];
  process.stdout.write(out.join('\n') + '\n');
  for (const c of cells) if (c.lateRemovals > 0) log(`note: ${c.runner.name}: the container was still listed right after ${c.lateRemovals} run(s), gone within 5 s`);
  for (const [e, l] of Object.entries(cgroupsLeft)) log(`note: ${e} left ${l.length} cgroup dir(s) below its parent: ${l.slice(0, 5).join(', ')}`);
  if (joeydLog.length > 0) {
    log(`note: joeyd logged ${joeydLog.length} warning/error line(s), e.g.:`);
    for (const l of joeydLog.slice(0, 5)) log(`  ${excerpt(l, 300)}`);
  }
  if (hostNet) {
    log(`host network: undone: ${hostNet.done.length === 0 ? 'nothing' : ''}`);
    for (const d of hostNet.done) log(`  ${d}`);
    if (hostNet.kept.length > 0) log(`host network: added during the run and kept (not ours, or not removable):`);
    for (const k of hostNet.kept) log(`  ${k}`);
    const linksLeft = [...bridges.values()].filter((b) => bridgePorts(b.name, true).length > 0).map((b) => b.name);
    if (linksLeft.length > 0) log(`warning: bridges still there: ${linksLeft.join(', ')}`);
  }

  const stamp = new Date().toISOString().replace(/:\d\d\.\d+Z$/, '').replace(':', '');
  const outPath = (o.get('out') as string | undefined) ?? join(repoRoot, 'bench', 'results', `run-${bridged ? 'bridge-' : ''}${stamp}.json`);
  await mkdir(dirname(outPath), { recursive: true });
  const result = {
    benchmark: 'run',
    date: new Date().toISOString(),
    rounds,
    network,
    bridges: bridged ? Object.fromEntries(bridges) : undefined,
    bridgeCheck: bridged ? verified : undefined,
    hostNetCleanup: hostNet,
    joeydLogProblems: joeydLog.slice(0, 50),
    machine: { ...machine, loadAtEnd: loadavg().map(round2) },
    versions,
    runners: Object.fromEntries(runners.map((r) => [r.name, r.description])),
    engines: Object.fromEntries(Object.entries(ENGINE_OF).map(([n, e]) => [n, e.description])),
    fastestPeer: fastestPeer?.name,
    results: rows,
    cgroupsLeftBelowParents: cgroupsLeft,
    leftAtEnd: left,
  };
  await writeResults(outPath, result, left);
}

/** The ports of a bridge (its veths); with self, the bridge itself if it exists. */
function bridgePorts(name: string, self = false): string[] {
  try {
    const ports = readdirSync(`/sys/class/net/${name}/brif`);
    return self ? [name, ...ports] : ports;
  } catch {
    return [];
  }
}

/**
 * Untimed: one `run --rm --network bridge` through the engine's CLI that shows
 * eth0's IPv4 address (busybox ip) and pings the gateway; the address must be
 * in the engine's subnet. Returns e.g. "eth0 10.200.5.2/24, gateway answers".
 */
async function verifyBridge(inst: Instance, image: string, b: BridgeSpec): Promise<string> {
  const script = `busybox ip -4 addr show eth0; busybox ping -c 1 -W 2 ${b.gateway} >/dev/null 2>&1 && echo PING-OK || echo PING-FAILED`;
  const c = inst.runCommand({ name: `jb-check-${process.pid}`, image, args: ['sh', '-c', script], network: 'bridge' });
  const r = await run(c.argv, { env: c.env, timeoutSeconds: 120 });
  if (r.code !== 0) throw new Error(`bridge check: exited ${r.code ?? r.signal}: ${excerpt(r.stderr || r.stdout)}`);
  const m = /inet (\d+\.\d+\.\d+\.\d+)\/(\d+)/.exec(r.stdout);
  const prefix = b.subnet.replace(/0\/24$/, '');
  if (!m?.[1] || !m[1].startsWith(prefix) || m[1] === b.gateway) {
    throw new Error(`bridge check: no eth0 address in ${b.subnet}: ${excerpt(r.stdout + r.stderr)}`);
  }
  return `eth0 ${m[1]}/${m[2]}, gateway ${b.gateway} ${r.stdout.includes('PING-OK') ? 'answers ping' : 'does not answer ping'}`;
}

main().catch(async (e: unknown) => {
  process.stderr.write(`bench/run: ${e instanceof Error ? e.message : String(e)}\n`);
  await runCleanups();
  process.exit(1);
});
