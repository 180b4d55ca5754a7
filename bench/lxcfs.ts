// LXCFS benchmark: what asking for lxcfs costs a container start. One joeyd
// with --enable-lxcfs (its own lxcfs, under the work directory) runs
// `run --rm --network none busybox true` through the API, with and without
// HostConfig.EnableLxcfs, round-robin; prints medians and the ratio. Then it
// stops the lxcfs that joeyd started (by its pid) and clears its mount. See
// bench/README.md. Run it through bench/lxcfs.
import { readFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseOptions } from './lib/args.ts';
import { DockerApi, runViaApi } from './lib/docker-api.ts';
import { joeyEngine } from './lib/engines.ts';
import { onCleanup, run, runCleanups } from './lib/proc.ts';
import { contextFor, log, openSession, startWithImage } from './lib/session.ts';
import { describeMachine, formatTable, median, round2 } from './lib/stats.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const USAGE = `usage: bench/lxcfs [--rounds N]

Times \`run --rm --network none busybox true\` through joeyd's API with and
without lxcfs (HostConfig.EnableLxcfs), N rounds (default 10) after a
warm-up, round-robin, on one joeyd started with --enable-lxcfs. Needs root.`;

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2), { rounds: 'int' }, USAGE);
  const rounds = (o.get('rounds') as number | undefined) ?? 10;
  const s = await openSession('lxcfs', 'jbl-', repoRoot);
  const machine = await describeMachine(s.dir);
  const dir = join(s.dir, 'joey');
  const home = join(s.dir, 'lxcfs');
  // Registered first, so run last: after joeyd stopped, its lxcfs goes too
  // (its pid is read as soon as joeyd started it: the pid file goes with joeyd's dirs).
  let pid = 0;
  onCleanup('lxcfs', async () => {
    if (pid > 0) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // gone already
      }
      for (let i = 0; i < 100; i++) {
        try {
          process.kill(pid, 0);
        } catch {
          break;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    await run(['umount', '-l', home]);
  });
  const inst = await startWithImage(s, joeyEngine, dir, { ...contextFor(s, 'joey'), joeydArgs: ['--enable-lxcfs', '--lxcfs-home', home] });
  pid = Number((await readFile(join(dir, 'exec', 'lxcfs.pid'), 'utf8').catch(() => '')).trim());
  const api = new DockerApi(inst.dockerApi!.socket);
  const ways = {
    plain: (n: string) => runViaApi(api, { name: n, image: s.image, args: ['true'], autoRemove: true }),
    lxcfs: (n: string) => runViaApi(api, { name: n, image: s.image, args: ['true'], autoRemove: true, hostConfig: { EnableLxcfs: true } }),
    // a CPU quota too: joeyd picks a cpuset of that many CPUs (lxcfs-cpus.ts)
    'lxcfs --cpus 1': (n: string) => runViaApi(api, { name: n, image: s.image, args: ['true'], autoRemove: true, hostConfig: { EnableLxcfs: true, NanoCpus: 1e9 } }),
  };
  type Way = keyof typeof ways;
  const names = Object.keys(ways) as Way[];
  const ms = Object.fromEntries(names.map((k) => [k, [] as number[]])) as Record<Way, number[]>;
  try {
    for (const [k, f] of Object.entries(ways)) await f(`jbl-warm-${k.replace(/\W+/g, '-')}-${process.pid}`);
    for (let i = 0; i < rounds; i++) {
      // a different way first in each round
      const order = names.map((_, j) => names[(i + j) % names.length]!);
      for (const k of order) {
        const t0 = performance.now();
        await ways[k](`jbl-${k.replace(/\W+/g, '-')}-${process.pid}-${i}`);
        ms[k].push(round2(performance.now() - t0));
      }
      log(`round ${i + 1}/${rounds} (load ${loadavg()[0]?.toFixed(2)}): ${names.map((k) => `${k} ${ms[k].at(-1)} ms`).join(', ')}`);
    }
  } finally {
    api.close();
    await inst.stop();
  }
  await s.finish();
  const p = median(ms.plain);
  process.stdout.write(
    [
      '',
      `run --rm --network none busybox true through joeyd's API, with and without lxcfs: ${rounds} rounds after a warm-up`,
      `machine: ${machine.nproc} CPUs (${machine.cpu}), kernel ${machine.kernel}; load at end ${loadavg().map((x) => x.toFixed(2)).join(' ')}`,
      '',
      formatTable(['way', 'median ms', 'min', 'max', 'vs plain'], names.map((k) => {
        const m = median(ms[k]);
        return [k, m.toFixed(1), Math.min(...ms[k]).toFixed(1), Math.max(...ms[k]).toFixed(1), `${(m / p).toFixed(2)}x`];
      })),
      '',
    ].join('\n'),
  );
}

main().catch(async (e) => {
  process.stderr.write(`bench/lxcfs: ${(e as Error).stack ?? e}\n`);
  await runCleanups();
  process.exit(1);
});
