// P2P benchmark: N joeyds pull the same image (~50 MB of layers) from a
// private loopback registry, all from the registry vs with P2P (one of them
// the tracker), and the registry's blob bytes in each case. See
// bench/README.md. Run it through bench/p2p.
import { mkdtempSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseOptions } from './lib/args.ts';
import { DOCKER_CLI } from './lib/engines.ts';
import { removeTree } from './lib/fsutil.ts';
import { ensureImage } from './lib/images.ts';
import { excerpt, installSignalCleanup, onCleanup, readLog, run, runCleanups, startDaemon, stopDaemon, waitUntil, type Daemon } from './lib/proc.ts';
import { freePort, httpStatus, pushLayout, startRegistry } from './lib/registry.ts';
import { describeMachine, formatTable, median, round2 } from './lib/stats.ts';
import { startProxy } from '../test/lib/proxy.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SECRET = 'joey-bench-p2p-secret-0123456789';
const USAGE = `usage: bench/p2p [--nodes N] [--rounds R] [--registry-mbit M] [--out FILE]

N joeyds (default 3) pull the same image (2 layers, ~50 MB compressed) from a
private loopback registry behind a counting proxy, R rounds (default 3),
three ways, each from empty stores:
  registry         all N at once, every layer from the registry (p2p off)
  p2p, seeded      one node pulls first, then the other N-1 at once (p2p on)
  p2p, all at once all N at once (p2p on: the first to ask the tracker for a
                   layer takes it from the registry, the others from the
                   peers that are downloading it, while they do)
--registry-mbit caps the proxy's total bandwidth (default 0: no cap), as a
registry whose uplink the fleet shares. Prints medians of the wall time until
every node has the image, and the registry's blob bytes. Needs root and
make build.`;

interface Node {
  name: string;
  socket: string;
  daemon: Daemon;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench/p2p needs root (it starts joeyd)');
  const o = parseOptions(process.argv.slice(2), { nodes: 'int', rounds: 'int', 'registry-mbit': 'int', out: 'string' }, USAGE);
  const nodes = (o.get('nodes') as number | undefined) ?? 3;
  const rounds = (o.get('rounds') as number | undefined) ?? 3;
  const mbit = (o.get('registry-mbit') as number | undefined) ?? 0;
  if (nodes < 2) throw new Error('--nodes must be at least 2');
  installSignalCleanup();
  const dir = mkdtempSync(join(process.env['JOEY_BENCH_TMP'] || '/tmp', 'jbp-'));
  onCleanup('work dir', () => removeTree(dir));
  const machine = await describeMachine(dir);
  const log = (s: string) => void process.stderr.write(s + '\n');

  const image = await ensureImage({ name: 'p2p50', layers: 2, contentBytes: 96_000_000 }, log);
  const registry = await startRegistry(join(dir, 'registry'));
  onCleanup('registry', () => registry.stop());
  await pushLayout(image.dir, image.tag, `${registry.host}/bench/p2p:latest`, dir);
  const proxy = await startProxy(`http://${registry.host}`, { mbit });
  onCleanup('proxy', () => proxy.stop());
  const ref = `${proxy.host}/bench/p2p:latest`;
  log(`pushed ${ref}: ${image.layers.length} layers, ${(image.compressedBytes / 1e6).toFixed(1)} MB`);

  const trackerPort = await freePort();
  const tracker = `http://127.0.0.1:${trackerPort}`;
  const start = async (name: string, p2p: string[]): Promise<Node> => {
    const root = join(dir, name);
    await mkdir(root, { recursive: true });
    const cfg = join(root, 'daemon.json');
    await writeFile(cfg, '{}');
    const socket = join(root, 'joeyd.sock');
    const daemon = startDaemon(
      [process.execPath, join(repoRoot, 'bin/joeyd'), '--data-root', join(root, 'data'), '--exec-root', join(root, 'exec'), '-H', `unix://${socket}`, '--pidfile', join(root, 'joeyd.pid'), '--config-file', cfg, '--bridge', 'none', '--insecure-registry', '127.0.0.0/8', ...p2p],
      join(root, 'joeyd.log'),
    );
    onCleanup(`joeyd ${name}`, () => stopDaemon(daemon));
    await waitUntil(`joeyd ${name}`, async () => (await httpStatus({ socketPath: socket, path: '/_ping' })) === 200, 60, daemon);
    return { name, socket, daemon };
  };
  const plain: Node[] = [];
  const peers: Node[] = [];
  for (let i = 0; i < nodes; i++) plain.push(await start(`r${i}`, []));
  for (let i = 0; i < nodes; i++) {
    const port = await freePort();
    peers.push(await start(`p${i}`, ['--p2p-listen', `127.0.0.1:${port}`, '--p2p-tracker', tracker, '--p2p-secret', SECRET, ...(i === 0 ? ['--p2p-tracker-listen', `127.0.0.1:${trackerPort}`] : [])]));
  }

  const docker = (n: Node, args: string[]) => run([DOCKER_CLI, '-H', `unix://${n.socket}`, ...args], { timeoutSeconds: 600 });
  const pullAll = async (ns: Node[]) => {
    const rs = await Promise.all(ns.map((n) => docker(n, ['pull', '-q', ref])));
    rs.forEach((r, i) => {
      if (r.code !== 0) throw new Error(`pull on ${ns[i]!.name} failed: ${excerpt(r.stderr || r.stdout)}\n${excerpt(readLog(join(dir, ns[i]!.name, 'joeyd.log')))}`);
    });
  };
  const empty = async (ns: Node[]) => {
    for (const n of ns) await docker(n, ['rmi', '-f', ref]);
    // the rmi withdraws the layers from the tracker (an announce right after it)
    await new Promise((r) => setTimeout(r, 300));
  };

  type Way = 'registry' | 'p2p, seeded' | 'p2p, all at once';
  /** The seeded way's two phases: the seed's pull, then the others'. */
  const seedSplit: [number, number][] = [];
  const ways: Record<Way, () => Promise<void>> = {
    registry: () => pullAll(plain),
    'p2p, seeded': async () => {
      const t0 = performance.now();
      await pullAll(peers.slice(0, 1));
      const t1 = performance.now();
      await new Promise((r) => setTimeout(r, 200)); // its announce after the pull
      await pullAll(peers.slice(1));
      seedSplit.push([round2((t1 - t0) / 1000), round2((performance.now() - t1) / 1000)]);
    },
    'p2p, all at once': () => pullAll(peers),
  };
  const names = Object.keys(ways) as Way[];
  const secs = Object.fromEntries(names.map((k) => [k, [] as number[]])) as Record<Way, number[]>;
  const bytes = Object.fromEntries(names.map((k) => [k, [] as number[]])) as Record<Way, number[]>;
  for (let i = 0; i < rounds; i++) {
    const order = names.map((_, j) => names[(i + j) % names.length]!);
    for (const k of order) {
      await empty(k === 'registry' ? plain : peers);
      proxy.reset();
      const t0 = performance.now();
      await ways[k]();
      secs[k].push(round2((performance.now() - t0) / 1000));
      bytes[k].push(proxy.blobBytes());
    }
    log(`round ${i + 1}/${rounds} (load ${loadavg()[0]?.toFixed(2)}): ${names.map((k) => `${k} ${secs[k].at(-1)} s, ${(bytes[k].at(-1)! / 1e6).toFixed(1)} MB from the registry`).join('; ')} (seed ${seedSplit.at(-1)?.[0]} s, then the others ${seedSplit.at(-1)?.[1]} s)`);
  }
  const base = median(secs.registry);
  const baseBytes = median(bytes.registry);
  const table = formatTable(
    ['way', 'median s', 'min', 'max', 'vs registry', 'registry MB', 'vs registry'],
    names.map((k) => {
      const m = median(secs[k]);
      const b = median(bytes[k]);
      return [k, m.toFixed(2), Math.min(...secs[k]).toFixed(2), Math.max(...secs[k]).toFixed(2), `${(m / base).toFixed(2)}x`, (b / 1e6).toFixed(1), `${(b / baseBytes).toFixed(2)}x`];
    }),
  );
  process.stdout.write(
    [
      '',
      `${nodes} joeyds pull ${image.layers.length} layers (${(image.compressedBytes / 1e6).toFixed(1)} MB) from a loopback registry${mbit > 0 ? ` capped at ${mbit} Mbit/s` : ''}: ${rounds} rounds`,
      `machine: ${machine.nproc} CPUs (${machine.cpu}), kernel ${machine.kernel}; load at end ${loadavg().map((x) => x.toFixed(2)).join(' ')}`,
      '',
      table,
      '',
      `p2p, seeded: the seed's pull ${median(seedSplit.map((x) => x[0])).toFixed(2)} s, then the other ${nodes - 1} from peers ${median(seedSplit.map((x) => x[1])).toFixed(2)} s (medians)`,
      '',
    ].join('\n'),
  );
  const out = (o.get('out') as string | undefined) ?? join(repoRoot, 'bench/results', `p2p-${new Date().toISOString().slice(0, 16).replace(':', '')}.json`);
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, JSON.stringify({ nodes, rounds, mbit, image: { layers: image.layers.length, compressedBytes: image.compressedBytes }, machine, seconds: secs, seededPhases: seedSplit, registryBytes: bytes }, null, 2) + '\n');
  log(`wrote ${out}`);
  await runCleanups();
}

main().catch(async (e) => {
  process.stderr.write(`bench/p2p: ${(e as Error).stack ?? e}\n`);
  await runCleanups();
  process.exit(1);
});
