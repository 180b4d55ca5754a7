// Build benchmark: times building one small Dockerfile (FROM the bench's
// busybox, COPY of a 200-file 5 MB tree, three RUN steps, ENV, WORKDIR,
// CMD) with joey's classic builder (its CLI, the docker CLI without BuildKit,
// POST /build from this process) beside dockerd 20.10's legacy builder (the
// docker CLI, the API) and podman build, in one run: cold (no cache), again
// with every step cached, and after one copied file changed. See
// bench/README.md. Run it through bench/build.
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseOptions } from './lib/args.ts';
import { DOCKER_CLI, dockerEngine, joeyEngine, podmanEngine, unavailable, type Command, type Engine, type Instance } from './lib/engines.ts';
import { withTmpfsOver } from './lib/fsutil.ts';
import { excerpt, run, runCleanups } from './lib/proc.ts';
import { cgroupsBelow, joeydLogProblems, log, openSession, startWithImage, writeResults, type Session } from './lib/session.ts';
import { describeMachine, engineVersions, formatTable, median, round2 } from './lib/stats.ts';
import { tarEnd, tarHeader, tarPadding } from './lib/tar.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const CASES = ['cold', 'warm', 'changed'] as const;
type Case = (typeof CASES)[number];
/** Steps that must come from the cache: none; all but FROM; ENV and WORKDIR (before the COPY). */
const CACHE_HITS: Record<Case, number> = { cold: 0, warm: 7, changed: 2 };
const CASE_TEXT: Record<Case, string> = {
  cold: 'no cache (--no-cache / nocache=1)',
  warm: 'rebuild, every step cached',
  changed: 'rebuild after one copied file changed (cached up to the COPY)',
};

/** One way of building: a client against an engine. */
interface Runner {
  name: string;
  engine: 'joey' | 'docker' | 'podman';
  peer: boolean;
  how: 'joey-cli' | 'docker-cli' | 'api' | 'podman';
  description: string;
}

const RUNNERS: Runner[] = [
  { name: 'joey', engine: 'joey', peer: false, how: 'joey-cli', description: 'joey CLI: bin/joey -H unix://SOCK build --network none [--no-cache] -t TAG DIR' },
  {
    name: 'joey-docker',
    engine: 'joey',
    peer: false,
    how: 'docker-cli',
    description: 'docker CLI 28 against joeyd: DOCKER_BUILDKIT=0 docker build --network none [--no-cache] -t TAG DIR',
  },
  {
    name: 'joey-api',
    engine: 'joey',
    peer: false,
    how: 'api',
    description: "joeyd's API from the benchmark process: the context packed as a tar (timed), POST /v1.41/build?t=TAG&networkmode=none&rm=1[&nocache=1], the JSON stream read to its end",
  },
  {
    name: 'docker',
    engine: 'docker',
    peer: true,
    how: 'docker-cli',
    description: 'dockerd 20.10 legacy builder + docker CLI 28: DOCKER_BUILDKIT=0 docker build --network none [--no-cache] -t TAG DIR',
  },
  { name: 'docker-api', engine: 'docker', peer: true, how: 'api', description: "dockerd's API, the same calls as joey-api" },
  {
    name: 'podman',
    engine: 'podman',
    peer: true,
    how: 'podman',
    description:
      'podman 4.3 (buildah): podman --root … --runtime runc build --layers --pull=never --network none --ulimit nofile=20000:20000 --ulimit nproc=32768:32768 --cgroup-parent CG/build [--no-cache] -t TAG DIR, in a mount namespace with a tmpfs over /var/lib',
  },
];

const ENGINE_OF: Record<Runner['engine'], Engine> = { joey: joeyEngine, docker: dockerEngine, podman: podmanEngine };

const USAGE = `usage: bench/build [--rounds N] [--runners ${RUNNERS.map((r) => r.name).join(',')}] [--cases ${CASES.join(',')}] [--out FILE]

Builds one small Dockerfile (FROM the bench's busybox; COPY of a 200-file,
5 MB tree; 3 RUN steps; ENV, WORKDIR, CMD) with each runner: cold (no
cache), again with the cache warm, and after one copied file changed. One
untimed cold build per runner first, then N rounds (default 5), the runner
order rotated each round; the built images are removed at the end of each
round (the base stays). Prints medians, min, max and the ratio to the fastest
peer (dockerd, podman); writes JSON to bench/results/. Needs root.
Environment: JOEY_BENCH_TMP (default /tmp), JOEY_BENCH_CACHE (the image cache).`;

// ---- the build context -----------------------------------------------------

const TREE_DIRS = 10;
const FILES_PER_DIR = 20;
const TREE_BYTES = 5_000_000;
const CHANGED_FILE = 'tree/d00/f000.bin';

function dockerfile(base: string): string {
  return [
    `FROM ${base}`,
    'ENV BENCH_MODE=build APP_HOME=/app',
    'WORKDIR /app',
    'COPY tree/ /app/tree/',
    'RUN busybox mkdir -p /app/out && i=0 && while [ $i -lt 100 ]; do echo "line $i of $BENCH_MODE" > /app/out/f$i.txt; i=$((i+1)); done',
    'RUN ["/bin/sh", "-c", "n=0; for f in /app/tree/*/*; do n=$((n+1)); done; echo files $n > /app/out/count.txt"]',
    'RUN cat /app/out/count.txt > /app/summary.txt && cat /app/tree/*/* | busybox md5sum >> /app/summary.txt && busybox ls /app/out | busybox wc -l >> /app/summary.txt',
    'CMD ["sh", "-c", "pwd && echo $BENCH_MODE && cat summary.txt"]',
    '',
  ].join('\n');
}

/** 200 files of random bytes, 5 MB in all, sizes spread from about 4 to 46 KB. */
async function makeContext(dir: string, base: string): Promise<void> {
  const weights = Array.from({ length: TREE_DIRS * FILES_PER_DIR }, (_, i) => 1 + ((i * 7919) % 101) / 10);
  const sum = weights.reduce((a, w) => a + w, 0);
  const sizes = weights.map((w) => Math.floor((w / sum) * TREE_BYTES));
  sizes[0]! += TREE_BYTES - sizes.reduce((a, x) => a + x, 0);
  for (let d = 0; d < TREE_DIRS; d++) {
    const sub = join(dir, 'tree', `d${String(d).padStart(2, '0')}`);
    await mkdir(sub, { recursive: true });
    for (let f = 0; f < FILES_PER_DIR; f++) {
      await writeFile(join(sub, `f${String(f).padStart(3, '0')}.bin`), randomBytes(sizes[d * FILES_PER_DIR + f]!));
    }
  }
  await writeFile(join(dir, 'Dockerfile'), dockerfile(base));
}

/** Paths of the regular files under dir, relative, in byte order (as sh's glob sorts them in the C locale). */
async function filesUnder(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const name of (await readdir(join(dir, rel))).sort()) {
    const p = rel ? `${rel}/${name}` : name;
    if ((await stat(join(dir, p))).isDirectory()) out.push(...(await filesUnder(dir, p)));
    else out.push(p);
  }
  return out;
}

/** What the built image's CMD must print for the context as it is now (/app/out: 100 files + count.txt). */
async function expectedOutput(dir: string): Promise<string> {
  const h = createHash('md5');
  const files = (await filesUnder(dir, 'tree')).sort();
  for (const f of files) h.update(await readFile(join(dir, f)));
  return `/app\nbuild\nfiles ${files.length}\n${h.digest('hex')}  -\n101\n`;
}

/** The context as a tar (directories, then files; what a client sends to POST /build). */
async function packContext(dir: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const name of (await readdir(join(dir, rel))).sort()) {
      const p = rel ? `${rel}/${name}` : name;
      const st = await stat(join(dir, p));
      const mtime = Math.floor(st.mtimeMs / 1000);
      if (st.isDirectory()) {
        parts.push(tarHeader({ name: p, type: 'dir', mode: st.mode & 0o7777, mtime }));
        await walk(p);
      } else {
        const body = await readFile(join(dir, p));
        parts.push(tarHeader({ name: p, type: 'file', mode: st.mode & 0o7777, size: body.length, mtime }), body, tarPadding(body.length));
      }
    }
  };
  await walk('');
  parts.push(tarEnd());
  return Buffer.concat(parts);
}

// ---- one build -------------------------------------------------------------

interface BuildTiming {
  ms: number;
  /** what the client printed (the API runners: the stream's text) */
  output: string;
  /** API runners: ms from the request to the first step's line, then per step (Step i/n lines) */
  steps?: number[];
}

/**
 * POST /build with the context tar, reading Docker's JSON message stream to
 * its end; fails on an error status or an error message in the stream. The
 * tar is packed inside the timed section, as a CLI does.
 */
async function buildViaApi(socketPath: string, contextDir: string, tag: string, noCache: boolean): Promise<BuildTiming> {
  const t0 = performance.now();
  const body = await packContext(contextDir);
  const q = new URLSearchParams({ t: tag, networkmode: 'none', rm: '1', ...(noCache ? { nocache: '1' } : {}) });
  const stepAt: number[] = [];
  const text = await new Promise<string>((res, rej) => {
    const req = request(
      { socketPath, method: 'POST', path: `/v1.41/build?${q}`, headers: { 'Content-Type': 'application/x-tar', 'Content-Length': body.length } },
      (r) => {
        let all = '';
        let partial = '';
        r.setEncoding('utf8');
        r.on('data', (chunk: string) => {
          all += chunk;
          partial += chunk;
          const lines = partial.split('\n');
          partial = lines.pop() ?? '';
          for (const l of lines) {
            try {
              const m = JSON.parse(l) as { stream?: string };
              if (m.stream && /^Step \d+\/\d+ :/.test(m.stream)) stepAt.push(performance.now());
            } catch {
              // not JSON: kept in `all` for the error message
            }
          }
        });
        r.on('end', () => (r.statusCode === 200 ? res(all) : rej(new Error(`HTTP ${r.statusCode}: ${excerpt(all)}`))));
        r.on('error', rej);
      },
    );
    req.on('error', rej);
    req.end(body);
  });
  const end = performance.now();
  const err = text.split('\n').find((l) => l.includes('"errorDetail"') || /^\{"error"/.test(l));
  if (err) throw new Error(`build failed: ${excerpt(err)}`);
  if (!/"aux":\{"ID":"sha256:/.test(text)) throw new Error(`no image ID in the build output: ${excerpt(text)}`);
  const marks = [t0, ...stepAt, end];
  const output = text
    .split('\n')
    .map((l) => {
      try {
        return (JSON.parse(l) as { stream?: string }).stream ?? '';
      } catch {
        return '';
      }
    })
    .join('');
  return { ms: end - t0, output, steps: marks.slice(1).map((t, i) => t - marks[i]!) };
}

function buildCommand(r: Runner, inst: Instance, contextDir: string, tag: string, noCache: boolean, cgroupParent: string): Command {
  const flags = ['--network', 'none', ...(noCache ? ['--no-cache'] : []), '-t', tag, contextDir];
  switch (r.how) {
    case 'joey-cli':
      return inst.cli(['build', ...flags]);
    case 'docker-cli': {
      const c = inst.dockerApi!.cli(['build', ...flags]);
      return { argv: c.argv, env: { ...c.env, DOCKER_BUILDKIT: '0' } };
    }
    case 'podman': {
      // podman 4.3 writes c/image's blob-info cache to /var/lib/containers/cache
      // whatever --root says: a private tmpfs over /var/lib keeps it off the host
      const c = inst.cli([
        'build',
        '--layers',
        '--pull=never',
        '--ulimit',
        'nofile=20000:20000',
        '--ulimit',
        'nproc=32768:32768',
        '--cgroup-parent',
        cgroupParent,
        ...flags,
      ]);
      return { argv: withTmpfsOver(['/var/lib'], c.argv), env: c.env };
    }
    default:
      throw new Error(`${r.name}: not a command runner`);
  }
}

// ---- main ------------------------------------------------------------------

interface Cell {
  runner: Runner;
  kase: Case;
  ms: number[];
  load: number[];
  /** API runners: per build, ms before the first step and per step */
  steps: number[][];
  failed?: string;
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2), { rounds: 'int', runners: 'list', cases: 'list', out: 'string' }, USAGE);
  const rounds = (o.get('rounds') as number | undefined) ?? 5;
  const runnerNames = (o.get('runners') as string[] | undefined) ?? RUNNERS.map((r) => r.name);
  for (const n of runnerNames) if (!RUNNERS.some((r) => r.name === n)) throw new Error(`unknown runner ${n}`);
  const cases = ((o.get('cases') as string[] | undefined) ?? [...CASES]) as Case[];
  for (const c of cases) if (!CASES.includes(c)) throw new Error(`unknown case ${c}`);
  const runners = RUNNERS.filter((r) => runnerNames.includes(r.name));

  const s: Session = await openSession('build', 'jbb-', repoRoot);
  const machine = await describeMachine(s.dir);
  const versions = await engineVersions();
  const buildx = await run([DOCKER_CLI, 'buildx', 'version'], { timeoutSeconds: 10 });
  const buildkit =
    buildx.code === 0
      ? `the docker CLI has buildx (${buildx.stdout.trim()}); not timed here`
      : 'not available: the docker CLI here has no buildx plugin (docker build without DOCKER_BUILDKIT=0 fails), so only the legacy builder is timed';
  log(`BuildKit: ${buildkit}`);

  const contextDir = join(s.dir, 'context');
  await makeContext(contextDir, s.image);
  const originalChanged = await readFile(join(contextDir, CHANGED_FILE));

  // ---- engines, each with the base image pulled from the loopback registry (untimed)
  const instances = new Map<string, Instance>();
  const engineFailed = new Map<string, string>();
  for (const engine of new Set(runners.map((r) => r.engine))) {
    try {
      const e = ENGINE_OF[engine];
      const why = await unavailable(e, repoRoot);
      if (why) throw new Error(why);
      const t = Date.now();
      instances.set(engine, await startWithImage(s, e, join(s.dir, engine)));
      log(`${engine}: started, base image pulled (${((Date.now() - t) / 1000).toFixed(1)}s)`);
    } catch (err) {
      engineFailed.set(engine, (err as Error).message);
      log(`${engine}: failed (${(err as Error).message})`);
    }
  }

  const tagOf = (r: Runner) => `jbb-${r.name}:latest`;
  // buildah takes --cgroup-parent as the RUN container's cgroup itself, not its
  // parent, and (cgroup v1) cannot deny devices on one with children: the
  // engine's parent has those of the check runs (conmon), so builds get a leaf
  const cgroupParentOf = (r: Runner) => `${s.cgroupRoot}/${r.engine}/build`;
  let seq = 0;

  const buildOnce = async (r: Runner, noCache: boolean): Promise<BuildTiming> => {
    const inst = instances.get(r.engine)!;
    if (r.how === 'api') return buildViaApi(inst.dockerApi!.socket, contextDir, tagOf(r), noCache);
    const c = buildCommand(r, inst, contextDir, tagOf(r), noCache, cgroupParentOf(r));
    const res = await run(c.argv, { env: c.env, timeoutSeconds: 900 });
    if (res.code !== 0) {
      log(`${r.name}: build exited ${res.code ?? res.signal}; its output ends:\n${(res.stdout + res.stderr).slice(-1500)}`);
      throw new Error(`exited ${res.code ?? res.signal}: ${excerpt(res.stderr || res.stdout)}`);
    }
    return { ms: res.seconds * 1000, output: res.stdout + res.stderr };
  };

  /** Untimed: the built image's CMD, run with no network, prints the workdir, ENV, the RUN steps' summary. */
  const verify = async (r: Runner): Promise<void> => {
    const inst = instances.get(r.engine)!;
    const want = await expectedOutput(contextDir);
    const c = inst.runCommand({ name: `jbb-check-${process.pid}-${++seq}`, image: tagOf(r), args: [] });
    const res = await run(c.argv, { env: c.env, timeoutSeconds: 120 });
    if (res.code !== 0) throw new Error(`running the built image: exited ${res.code ?? res.signal}: ${excerpt(res.stderr || res.stdout)}`);
    if (res.stdout !== want) throw new Error(`the built image prints ${JSON.stringify(res.stdout)}, expected ${JSON.stringify(want)}`);
  };

  /** Untimed: removes every image the runners of engine built (their tags; untagged parents go with them) and dangling ones; what is left. */
  const removeBuilt = async (engine: string): Promise<number> => {
    const inst = instances.get(engine)!;
    const cli = inst.dockerApi?.cli ?? inst.cli;
    const tags = runners.filter((r) => r.engine === engine).map(tagOf);
    const rmi = cli(['rmi', '-f', ...tags]);
    await run(rmi.argv, { env: rmi.env, timeoutSeconds: 300 });
    const prune = cli(['image', 'prune', '-f']);
    const p = await run(prune.argv, { env: prune.env, timeoutSeconds: 300 });
    if (p.code !== 0) log(`${engine}: image prune failed: ${excerpt(p.stderr || p.stdout)}`);
    const ls = cli(['images', '-a', '-q']);
    const l = await run(ls.argv, { env: ls.env, timeoutSeconds: 60 });
    return new Set(l.stdout.split('\n').map((x) => x.trim()).filter(Boolean)).size;
  };
  const imagesLeft: Record<string, number[]> = {};
  const cleanRound = async () => {
    for (const engine of instances.keys()) (imagesLeft[engine] ??= []).push(await removeBuilt(engine));
  };

  const cells: Cell[] = [];
  for (const kase of cases) for (const runner of runners) cells.push({ runner, kase, ms: [], load: [], steps: [] });
  const cellOf = (r: Runner, k: Case) => cells.find((c) => c.runner === r && c.kase === k)!;
  const runnerFailed = new Map<Runner, string>();
  for (const r of runners) {
    const why = engineFailed.get(r.engine);
    if (why) runnerFailed.set(r, why);
  }

  // ---- warm-up: one untimed cold build per runner, its image checked
  for (const r of runners) {
    if (runnerFailed.has(r)) continue;
    try {
      const t = await buildOnce(r, true);
      await verify(r);
      log(`warm-up  ${r.name.padEnd(12)} ${(t.ms / 1000).toFixed(2)} s, image checked`);
    } catch (err) {
      runnerFailed.set(r, `warm-up: ${(err as Error).message}`);
      log(`warm-up  ${r.name.padEnd(12)} failed (${(err as Error).message})`);
    }
  }
  await cleanRound();
  log(`images left after clean-up: ${Object.entries(imagesLeft).map(([e, n]) => `${e} ${n.at(-1)}`).join(', ')}`);

  // ---- rounds: per case, every runner, the order rotated each round
  for (let round = 0; round < rounds; round++) {
    const active = runners.filter((r) => !runnerFailed.has(r));
    const order = active.map((_r, i) => active[(i + round) % active.length]!);
    const line: string[] = [];
    for (const kase of cases) {
      for (const r of order) {
        if (runnerFailed.has(r)) continue;
        const cell = cellOf(r, kase);
        try {
          if (kase === 'changed') {
            // unique per runner and round: runners sharing an engine (joeyd,
            // dockerd) must not hit each other's changed COPY in the cache
            await writeFile(join(contextDir, CHANGED_FILE), `changed for ${r.name} in round ${round + 1} (${process.pid})\n`);
          }
          const load = loadavg()[0] ?? 0;
          const t = await buildOnce(r, kase === 'cold');
          // steps reused: docker and joey print ` ---> Using cache`, podman `--> Using cache`
          const hits = (t.output.match(/--> Using cache/g) ?? []).length;
          if (hits !== CACHE_HITS[kase]) throw new Error(`${hits} steps from the cache, expected ${CACHE_HITS[kase]}: ${excerpt(t.output, 600)}`);
          await verify(r);
          cell.ms.push(t.ms);
          cell.load.push(round2(load));
          if (t.steps) cell.steps.push(t.steps.map(round2));
          line.push(`${kase} ${r.name} ${(t.ms / 1000).toFixed(2)}`);
        } catch (err) {
          cell.failed = `round ${round + 1}: ${(err as Error).message}`;
          log(`round ${round + 1}: ${kase} ${r.name} failed (${cell.failed})`);
        } finally {
          if (kase === 'changed') await writeFile(join(contextDir, CHANGED_FILE), originalChanged);
        }
      }
    }
    await cleanRound();
    log(`round ${round + 1}/${rounds} (load ${round2(loadavg()[0] ?? 0)}): ${line.join(', ')} s`);
  }

  const cgroupsLeft = Object.fromEntries(
    (await Promise.all([...instances.keys()].map(async (e) => [e, await cgroupsBelow(s, e)] as const))).filter(([, l]) => l.length > 0),
  );
  const joeydLog = joeydLogProblems(s);
  const left = await s.finish();

  // ---- report --------------------------------------------------------------
  const ok = (c: Cell) => !c.failed && !runnerFailed.has(c.runner) && c.ms.length > 0;
  const table: string[][] = [];
  const failures: string[] = [];
  const rows = cells.map((c) => {
    const failed = runnerFailed.get(c.runner) ?? c.failed;
    if (!ok(c)) {
      const line = runnerFailed.has(c.runner)
        ? `${c.runner.name}: failed (${excerpt(failed ?? 'no result', 200)})`
        : `${c.kase} ${c.runner.name}: failed (${excerpt(failed ?? 'no result', 200)})`;
      if (!failures.includes(line)) failures.push(line);
      return { case: c.kase, runner: c.runner.name, failed: failed ?? 'no result', ms: c.ms.map(round2) };
    }
    const fastest = cells
      .filter((p) => p.kase === c.kase && p.runner.peer && ok(p))
      .map((p) => ({ name: p.runner.name, m: median(p.ms) }))
      .sort((a, b) => a.m - b.m)[0];
    const m = median(c.ms);
    const ratio = fastest ? m / fastest.m : undefined;
    table.push([
      c.kase,
      c.runner.name,
      (m / 1000).toFixed(2),
      (Math.min(...c.ms) / 1000).toFixed(2),
      (Math.max(...c.ms) / 1000).toFixed(2),
      ratio === undefined ? '-' : `${ratio.toFixed(2)}x${fastest?.name === c.runner.name ? ' (fastest)' : ''}`,
      String(c.ms.length),
    ]);
    return {
      case: c.kase,
      runner: c.runner.name,
      medianMs: round2(m),
      minMs: round2(Math.min(...c.ms)),
      maxMs: round2(Math.max(...c.ms)),
      vsFastestPeer: ratio === undefined ? undefined : round2(ratio),
      fastestPeer: fastest?.name,
      ms: c.ms.map(round2),
      load: c.load,
      meanLoad: c.load.length ? round2(c.load.reduce((a, x) => a + x, 0) / c.load.length) : undefined,
      stepMs: c.steps.length ? c.steps : undefined,
    };
  });

  // per-step medians of the API runners (the same Dockerfile, so the same steps)
  const stepNames = ['context sent, until step 1', ...dockerfile('BASE').trim().split('\n').map((l) => l.split(' ')[0]!)];
  const stepTables: string[] = [];
  for (const kase of cases) {
    const api = cells.filter((c) => c.kase === kase && c.runner.how === 'api' && ok(c) && c.steps.every((s) => s.length === stepNames.length));
    if (api.length === 0) continue;
    const rowsS = stepNames.map((n, i) => [`${i === 0 ? '' : `${i} `}${n}`, ...api.map((c) => median(c.steps.map((s) => s[i]!)).toFixed(0))]);
    stepTables.push(`${kase}: median ms per step through the API (from one "Step i/n" line to the next)`, formatTable(['step', ...api.map((c) => c.runner.name)], rowsS), '');
  }

  const loadEnd = loadavg().map(round2);
  const out: string[] = [
    '',
    `build of one Dockerfile (FROM busybox, COPY 200 files / 5 MB, 3 RUN, ENV, WORKDIR, CMD), RUN with --network none; ${rounds} rounds after one untimed cold build per runner; seconds from spawn (or the first byte of the API call, tar packing included) to exit`,
    ...cases.map((k) => `  ${k}: ${CASE_TEXT[k]}`),
    `BuildKit: ${buildkit}`,
    `machine: ${machine.nproc} CPUs (${machine.cpu}), ${machine.memoryGiB} GiB, kernel ${machine.kernel}, ${machine.disk}; load at start ${machine.loadAtStart.join(' ')}, at end ${loadEnd.join(' ')}`,
    '',
    formatTable(['case', 'runner', 'median s', 'min', 'max', 'vs fastest peer', 'n'], table, 2),
    ...failures,
    '',
    ...stepTables,
  ];
  process.stdout.write(out.join('\n') + '\n');
  for (const [e, l] of Object.entries(cgroupsLeft)) log(`note: ${e} left ${l.length} cgroup dir(s) below its parent: ${l.slice(0, 5).join(', ')}`);
  if (joeydLog.length > 0) {
    log(`note: joeyd logged ${joeydLog.length} warning/error line(s), e.g.:`);
    for (const l of joeydLog.slice(0, 5)) log(`  ${excerpt(l, 300)}`);
  }

  const stamp = new Date().toISOString().replace(/:\d\d\.\d+Z$/, '').replace(':', '');
  const outPath = (o.get('out') as string | undefined) ?? join(repoRoot, 'bench', 'results', `build-${stamp}.json`);
  await mkdir(dirname(outPath), { recursive: true });
  await writeResults(
    outPath,
    {
      benchmark: 'build',
      date: new Date().toISOString(),
      rounds,
      cases: Object.fromEntries(cases.map((k) => [k, CASE_TEXT[k]])),
      dockerfile: dockerfile(s.image),
      context: { files: TREE_DIRS * FILES_PER_DIR, bytes: TREE_BYTES, changedFile: CHANGED_FILE },
      buildkit,
      machine: { ...machine, loadAtEnd: loadEnd },
      versions,
      runners: Object.fromEntries(runners.map((r) => [r.name, r.description])),
      engines: Object.fromEntries(Object.entries(ENGINE_OF).map(([n, e]) => [n, e.description])),
      results: rows,
      stepNames,
      imagesLeftAfterEachRound: imagesLeft,
      joeydLogProblems: joeydLog.slice(0, 50),
      cgroupsLeftBelowParents: cgroupsLeft,
      leftAtEnd: left,
    },
    left,
  );
}

main().catch(async (e: unknown) => {
  process.stderr.write(`bench/build: ${e instanceof Error ? e.message : String(e)}\n`);
  await runCleanups();
  process.exit(1);
});
