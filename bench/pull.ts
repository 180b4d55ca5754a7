// Pull benchmark: times pulling images from a private loopback registry into
// an empty store, with joey and its peers side by side in one run. See
// bench/README.md. Run it through bench/pull.
import { mkdtempSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENGINES, isPeer, unavailable as whyUnavailable, type Engine } from './lib/engines.ts';
import { mountsUnder, removeTree } from './lib/fsutil.ts';
import { ensureImage, IMAGES, cacheRoot, zstdLayout, type BuiltImage } from './lib/images.ts';
import { cpuOf, excerpt, installSignalCleanup, onCleanup, onceAsync, run, runCleanups } from './lib/proc.ts';
import { pushLayout, startRegistry } from './lib/registry.ts';
import { describeMachine, engineVersions, median } from './lib/stats.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

interface Options {
  rounds: number;
  images: string[];
  engines: string[];
  /** Layer compression pushed to the registry: the layouts' gzip, or zstd (OCI). */
  compression: 'gzip' | 'zstd';
  out?: string;
}

const USAGE = `usage: bench/pull [--rounds N] [--images p1,p5,p10] [--engines ${ENGINES.map((e) => e.name).join(',')}] [--compression gzip|zstd] [--out FILE]

Times pulling each image from a private loopback registry into an empty store,
for each engine, after one untimed warm-up pull per engine, in N round-robin
rounds (default 5); --compression zstd pushes the layers recompressed with
zstd (an OCI manifest). Prints medians, min, max and the ratio to the fastest
peer (dockerd, ctr, podman); writes JSON to bench/results/. Needs root.
Environment: JOEY_BENCH_CACHE (image cache, default /var/cache/joey-bench),
JOEY_BENCH_TMP (where the registry and the engines' stores go, default /tmp).`;

function parseArgs(argv: string[]): Options {
  const o: Options = { rounds: 5, images: ['p5', 'p1', 'p10'], engines: ENGINES.map((e) => e.name), compression: 'gzip' };
  const list = (v: string | undefined, flag: string) => {
    if (!v) throw new Error(`${flag} needs a value`);
    return v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a?.startsWith('--') && a.includes('=') ? a.split('=', 2) : [a, undefined];
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case '--rounds': {
        const n = Number.parseInt(value() ?? '', 10);
        if (!Number.isInteger(n) || n < 1) throw new Error('--rounds needs a positive integer');
        o.rounds = n;
        break;
      }
      case '--images':
        o.images = list(value(), '--images');
        break;
      case '--engines':
        o.engines = list(value(), '--engines');
        break;
      case '--out':
        o.out = value();
        break;
      case '--compression': {
        const c = value();
        if (c !== 'gzip' && c !== 'zstd') throw new Error('--compression is gzip or zstd');
        o.compression = c;
        break;
      }
      case '-h':
      case '--help':
        process.stdout.write(USAGE + '\n');
        process.exit(0);
        break;
      default:
        throw new Error(`unknown argument ${a}\n${USAGE}`);
    }
  }
  for (const i of o.images) if (!IMAGES[i]) throw new Error(`unknown image ${i} (known: ${Object.keys(IMAGES).join(', ')})`);
  for (const e of o.engines) if (!ENGINES.some((x) => x.name === e)) throw new Error(`unknown engine ${e}`);
  return o;
}

interface Cell {
  image: string;
  engine: string;
  times: number[];
  /** CPU seconds of client and daemon per timed pull */
  cpu: number[];
  failed?: string;
  storeBytes?: number;
  load: number[];
}

const fmt = (s: number) => (Number.isFinite(s) ? s.toFixed(2) : '-');
const mb = (b: number) => (b / 1e6).toFixed(1);

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  if (process.getuid?.() !== 0) throw new Error('bench/pull needs root (it starts dockerd, containerd and podman)');
  installSignalCleanup();
  const log = (s: string) => process.stderr.write(s + '\n');

  const engines = opts.engines.map((n) => ENGINES.find((e) => e.name === n)).filter((e): e is Engine => !!e);
  const tmpBase = process.env['JOEY_BENCH_TMP'] || '/tmp';
  // short paths: podman refuses a runroot longer than 50 characters, and unix
  // socket paths must stay under 108
  const T = mkdtempSync(join(tmpBase, 'jbp-'));
  onCleanup('work dir', () => removeTree(T));
  const machine = await describeMachine(T);
  const versions = await engineVersions();

  // images: build once (cached), then push into a fresh registry
  const built: Record<string, BuiltImage> = {};
  for (const name of opts.images) {
    const spec = IMAGES[name];
    if (spec) built[name] = await ensureImage(spec, log);
  }
  if (opts.compression === 'zstd') {
    for (const name of opts.images) {
      const b = built[name];
      if (b) built[name] = await zstdLayout(b, join(T, `zstd-${name}`), log);
    }
  }
  const registry = await startRegistry(join(T, 'registry'));
  onCleanup('registry', () => registry.stop());
  for (const name of opts.images) {
    const b = built[name];
    if (!b) continue;
    const started = Date.now();
    await pushLayout(b.dir, b.tag, `${registry.host}/bench/${name}:latest`, T, opts.compression === 'zstd' ? 'oci' : 'v2s2');
    log(
      `pushed ${name}: ${b.layers.length} layers, ${mb(b.compressedBytes)} MB compressed, ${mb(b.uncompressedBytes)} MB uncompressed, ${b.files} files (${((Date.now() - started) / 1000).toFixed(1)}s)`,
    );
  }

  const ctx = { registry: registry.host, repoRoot };
  const cells: Cell[] = [];
  const cellOf = (image: string, engine: string): Cell => {
    let c = cells.find((x) => x.image === image && x.engine === engine);
    if (!c) {
      c = { image, engine, times: [], cpu: [], load: [] };
      cells.push(c);
    }
    return c;
  };
  const unavailable = new Map<string, string>();
  for (const e of engines) {
    const why = await whyUnavailable(e, repoRoot);
    if (why) unavailable.set(e.name, why);
  }

  let cycles = 0;
  /** One fresh store: start, (sync), pull, verify, stop. Returns wall-clock and CPU seconds, or throws. */
  const cycle = async (
    e: Engine,
    image: string,
    label: string,
    measureStore: boolean,
  ): Promise<{ seconds: number; cpu: number }> => {
    const b = built[image];
    if (!b) throw new Error(`no image ${image}`);
    const ref = `${registry.host}/bench/${image}:latest`;
    const dir = join(T, `c${++cycles}`);
    let inst;
    try {
      inst = await e.start(dir, ctx);
    } catch (err) {
      throw new Error(`start: ${(err as Error).message}`);
    }
    const stop = onceAsync(inst.stop);
    const dereg = onCleanup(`${e.name} ${image} ${label}`, stop);
    try {
      // no dirty pages from the previous engine's pull while this one runs
      await run(['sync']);
      const cmd = inst.pull(ref);
      const cell = cellOf(image, e.name);
      if (label !== 'warmup') cell.load.push(Math.round((loadavg()[0] ?? 0) * 100) / 100);
      const cpu0 = cpuOf(inst.daemonPids());
      const r = await run(cmd.argv, { env: cmd.env, timeoutSeconds: 1200, childCpu: true });
      const cpu = cpuOf(inst.daemonPids()) - cpu0 + (r.cpuSeconds ?? Number.NaN);
      if (r.code !== 0) throw new Error(`pull exited ${r.code ?? r.signal}: ${excerpt(r.stderr || r.stdout)}`);
      const bad = await inst.verify(ref, b.layers.length);
      if (bad) throw new Error(`pulled, but ${bad}`);
      if (measureStore) cell.storeBytes = await inst.storeBytes();
      return { seconds: r.seconds, cpu };
    } finally {
      await stop();
      dereg();
    }
  };

  for (const image of opts.images) {
    const active: Engine[] = [];
    for (const e of engines) {
      const why = unavailable.get(e.name);
      if (why) {
        cellOf(image, e.name).failed = why;
        continue;
      }
      try {
        const s = await cycle(e, image, 'warmup', true);
        log(`${image} warm-up  ${e.name.padEnd(12)} ${fmt(s.seconds)}s  cpu ${fmt(s.cpu)}s`);
        active.push(e);
      } catch (err) {
        const msg = (err as Error).message;
        cellOf(image, e.name).failed = msg;
        log(`${image} warm-up  ${e.name.padEnd(12)} failed (${msg})`);
      }
    }
    for (let r = 0; r < opts.rounds; r++) {
      // rotate the order so no engine always runs first or last
      const order = active.map((_e, i) => active[(i + r) % active.length]).filter((e): e is Engine => !!e);
      for (const e of order) {
        const cell = cellOf(image, e.name);
        if (cell.failed) continue;
        try {
          const s = await cycle(e, image, `r${r + 1}`, false);
          cell.times.push(s.seconds);
          cell.cpu.push(s.cpu);
          log(
            `${image} round ${r + 1}/${opts.rounds} ${e.name.padEnd(12)} ${fmt(s.seconds)}s  cpu ${fmt(s.cpu)}s  (load ${cell.load.at(-1)})`,
          );
        } catch (err) {
          cell.failed = `round ${r + 1}: ${(err as Error).message}`;
          log(`${image} round ${r + 1}/${opts.rounds} ${e.name.padEnd(12)} failed (${cell.failed})`);
        }
      }
    }
  }

  await runCleanups();
  const leftMounts = mountsUnder(T);

  // ---- report --------------------------------------------------------------
  const rows: {
    image: string;
    engine: string;
    median?: number;
    min?: number;
    max?: number;
    ratio?: number;
    n: number;
    times: number[];
    cpuMedian?: number;
    cpu: number[];
    failed?: string;
    storeBytes?: number;
    meanLoad?: number;
  }[] = [];
  const lines: string[] = [];
  const header = ['image', 'engine', 'median s', 'min s', 'max s', 'cpu s', 'store MB', 'vs fastest peer', 'n'];
  const table: string[][] = [];
  for (const image of opts.images) {
    const imageCells = engines.map((e) => cellOf(image, e.name));
    const peerMedians = imageCells
      .filter((c) => !c.failed && c.times.length > 0 && isPeer(engines.find((e) => e.name === c.engine) as Engine))
      .map((c) => ({ engine: c.engine, m: median(c.times) }));
    const fastest = peerMedians.sort((a, b) => a.m - b.m)[0];
    for (const c of imageCells) {
      const meanLoad = c.load.length ? Math.round((c.load.reduce((a, x) => a + x, 0) / c.load.length) * 100) / 100 : undefined;
      if (c.failed || c.times.length === 0) {
        rows.push({
          image,
          engine: c.engine,
          n: c.times.length,
          times: c.times,
          cpu: c.cpu,
          failed: c.failed ?? 'no result',
          meanLoad,
        });
        table.push([image, c.engine, `failed (${excerpt(c.failed ?? 'no result', 120)})`]);
        continue;
      }
      const m = median(c.times);
      const ratio = fastest ? m / fastest.m : undefined;
      rows.push({
        image,
        engine: c.engine,
        median: m,
        min: Math.min(...c.times),
        max: Math.max(...c.times),
        ratio,
        n: c.times.length,
        times: c.times,
        cpuMedian: median(c.cpu),
        cpu: c.cpu,
        storeBytes: c.storeBytes,
        meanLoad,
      });
      table.push([
        image,
        c.engine,
        fmt(m),
        fmt(Math.min(...c.times)),
        fmt(Math.max(...c.times)),
        fmt(median(c.cpu)),
        c.storeBytes === undefined ? '-' : mb(c.storeBytes),
        ratio === undefined ? '-' : `${ratio.toFixed(2)}x${fastest?.engine === c.engine ? ' (fastest peer)' : ''}`,
        String(c.times.length),
      ]);
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...table.filter((r) => r.length > 3).map((r) => (r[i] ?? '').length)));
  const fmtRow = (r: string[]) =>
    r.length <= 3
      ? `${(r[0] ?? '').padEnd(widths[0] ?? 0)}  ${(r[1] ?? '').padEnd(widths[1] ?? 0)}  ${r[2] ?? ''}`
      : r.map((x, i) => (i < 2 ? x.padEnd(widths[i] ?? 0) : x.padStart(widths[i] ?? 0))).join('  ');
  lines.push('');
  lines.push(
    `pull into an empty store, ${opts.rounds} rounds after a warm-up, round-robin. median/min/max: wall-clock seconds of the pull command;`,
  );
  lines.push('cpu: median CPU seconds (user+system) of the client and the daemon during the pull; store: data dir after the pull');
  for (const name of opts.images) {
    const b = built[name];
    if (b)
      lines.push(
        `  ${name}: ${b.layers.length} layers, ${mb(b.compressedBytes)} MB compressed, ${mb(b.uncompressedBytes)} MB uncompressed, ${b.files} files`,
      );
  }
  lines.push(
    `  machine: ${machine.nproc} CPUs (${machine.cpu}), ${machine.memoryGiB} GiB, kernel ${machine.kernel}, ${machine.disk}; load at start ${machine.loadAtStart.join(' ')}`,
  );
  lines.push('');
  lines.push(fmtRow(header));
  for (const r of table) lines.push(fmtRow(r));
  lines.push('');
  process.stdout.write(lines.join('\n') + '\n');

  const stamp = new Date().toISOString().replace(/:\d\d\.\d+Z$/, '').replace(':', '');
  const out = opts.out ?? join(repoRoot, 'bench', 'results', `pull-${stamp}.json`);
  await mkdir(dirname(out), { recursive: true });
  const result = {
    benchmark: 'pull',
    date: new Date().toISOString(),
    rounds: opts.rounds,
    machine,
    versions,
    engines: Object.fromEntries(engines.map((e) => [e.name, e.description])),
    images: Object.fromEntries(
      opts.images.map((n) => {
        const b = built[n];
        return [
          n,
          b && {
            layers: b.layers.length,
            compressedBytes: b.compressedBytes,
            uncompressedBytes: b.uncompressedBytes,
            files: b.files,
            manifestDigest: b.manifestDigest,
            cache: b.dir,
          },
        ];
      }),
    ),
    results: rows,
  };
  await writeFile(out, JSON.stringify(result, null, 2) + '\n');
  process.stderr.write(`results: ${relative(process.cwd(), out) || out}\n`);
  if (leftMounts.length > 0) process.stderr.write(`warning: still mounted: ${leftMounts.join(', ')}\n`);
  process.stderr.write(`image cache: ${cacheRoot()}\n`);
}

main().catch(async (e: unknown) => {
  process.stderr.write(`bench/pull: ${e instanceof Error ? e.message : String(e)}\n`);
  await runCleanups();
  process.exit(1);
});
