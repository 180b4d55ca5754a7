// Upgrade benchmark: the downtime an HTTP server (busybox httpd) sees when
// its container moves from a v1 to a v2 image, measured from outside as the
// gap between the last answer from v1 and the first from v2 on the published
// port, while the host polls it back to back. Two ways, on one joeyd with a
// private bridge, both images already local: `joey upgrade --image v2`
// (same container, same address and port) and `joey rm -f` + `joey run` of
// v2 with the same name and port. See bench/README.md. Run it through bench/upgrade.
import { createServer, request } from 'node:http';
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseOptions } from './lib/args.ts';
import { joeyEngine, unavailable, type Command, type Instance } from './lib/engines.ts';
import { cleanupHostNet, pickBridges, snapshotHostNet } from './lib/hostnet.ts';
import { excerpt, onCleanup, run } from './lib/proc.ts';
import { log, openSession, startWithImage } from './lib/session.ts';
import { describeMachine, engineVersions, formatTable, median, round2 } from './lib/stats.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const WAYS = ['upgrade', 'rm-run'] as const;
type Way = (typeof WAYS)[number];

const USAGE = `usage: bench/upgrade [--rounds N] [--out FILE]

For each of N rounds (default 7, after one untimed warm-up of each way): a
container runs bench/web:v1 (busybox httpd) with port 80 published on
127.0.0.1; the host asks it for / back to back; then either \`joey upgrade
--image bench/web:v2 NAME\` or \`joey rm -f NAME && joey run -d --name NAME
-p … bench/web:v2\`. Downtime: from the last answer of v1 to the first of v2.
Both images are local. Needs root.`;

async function ok(c: Command, timeoutSeconds = 120): Promise<{ ms: number; stdout: string }> {
  const r = await run(c.argv, { env: c.env, timeoutSeconds });
  if (r.code !== 0) throw new Error(`${c.argv.slice(1, 6).join(' ')}… exited ${r.code ?? r.signal}: ${excerpt(r.stderr || r.stdout)}`);
  return { ms: r.seconds * 1000, stdout: r.stdout };
}

/** One GET with a fresh connection; the body, or undefined on any failure. */
function get(port: number): Promise<string | undefined> {
  return new Promise((res) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false, timeout: 250 }, (r) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => res(r.statusCode === 200 ? Buffer.concat(chunks).toString().trim() : undefined));
      r.on('error', () => res(undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => res(undefined));
    req.end();
  });
}

/** Polls the port until `until` resolves; the last time v1 answered and the first time v2 did. */
function poll(port: number): { stop(): Promise<{ lastV1: number; firstV2: number; requests: number }> } {
  let lastV1 = Number.NaN;
  let firstV2 = Number.NaN;
  let requests = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const t = performance.now();
      const body = await get(port);
      requests++;
      if (body === 'v1') lastV1 = performance.now();
      else if (body === 'v2' && Number.isNaN(firstV2)) firstV2 = t;
      if (body === undefined) await new Promise((r) => setTimeout(r, 2));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { lastV1, firstV2, requests };
    },
  };
}

async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** bench/web:TAG: /www/index.html says TAG; sh as PID 1 ends on SIGTERM at once. */
async function buildWeb(inst: Instance, base: string, tag: string): Promise<string> {
  const b = `jbu-build-${tag}-${process.pid}`;
  await ok(inst.cli(['run', '--name', b, '--network', 'none', base, 'sh', '-c', `mkdir -p /www && echo ${tag} > /www/index.html`]));
  const ref = `bench/web:${tag}`;
  const cmd = ['sh', '-c', 'trap "exit 0" TERM; busybox httpd -f -p 80 -h /www & wait'];
  await ok(inst.cli(['commit', '--change', `CMD ${JSON.stringify(cmd)}`, b, ref]));
  await ok(inst.cli(['rm', b]));
  return ref;
}

/** The first port from `from` that 127.0.0.1 can listen on, below the ephemeral range. */
async function freePort(from: number): Promise<number> {
  for (let p = from; p < 32768; p++) {
    const free = await new Promise<boolean>((res) => {
      const srv = createServer();
      srv.once('error', () => res(false));
      srv.listen(p, '127.0.0.1', () => srv.close(() => res(true)));
    });
    if (free) return p;
  }
  throw new Error('no free port below 32768');
}

interface Sample {
  downtimeMs: number;
  commandMs: number;
  requests: number;
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2), { rounds: 'int', out: 'string' }, USAGE);
  const rounds = (o.get('rounds') as number | undefined) ?? 7;
  const why = await unavailable(joeyEngine, repoRoot);
  if (why) throw new Error(why);

  const s = await openSession('upgrade', 'jbu-', repoRoot);
  const machine = await describeMachine(s.dir);
  const versions = await engineVersions();
  const [bridge] = await pickBridges(['ju']);
  if (!bridge) throw new Error('no free bridge subnet');
  const before = await snapshotHostNet();
  onCleanup('host network', async () => {
    await cleanupHostNet(before, [bridge]);
  });
  const inst = await startWithImage(s, joeyEngine, join(s.dir, 'joey'), { bridge });
  const v1 = await buildWeb(inst, s.image, 'v1');
  const v2 = await buildWeb(inst, s.image, 'v2');
  const port = await freePort(20000 + (process.pid % 10000));
  const runArgs = (name: string, ref: string) => ['run', '-d', '--name', name, '-p', `127.0.0.1:${port}:80`, ref];

  const once = async (way: Way, name: string): Promise<Sample> => {
    await ok(inst.cli(runArgs(name, v1)));
    await until('v1 to answer', async () => (await get(port)) === 'v1');
    const p = poll(port);
    await new Promise((r) => setTimeout(r, 100)); // some answers from v1 first
    const t0 = performance.now();
    if (way === 'upgrade') await ok(inst.cli(['upgrade', '--image', v2, name]));
    else {
      await ok(inst.cli(['rm', '-f', name]));
      await ok(inst.cli(runArgs(name, v2)));
    }
    const commandMs = performance.now() - t0;
    await until('v2 to answer', async () => (await get(port)) === 'v2');
    const r = await p.stop();
    await ok(inst.cli(['rm', '-f', name]));
    if (Number.isNaN(r.lastV1) || Number.isNaN(r.firstV2)) throw new Error(`${way}: the poller saw no ${Number.isNaN(r.lastV1) ? 'v1' : 'v2'} answer`);
    return { downtimeMs: round2(r.firstV2 - r.lastV1), commandMs: round2(commandMs), requests: r.requests };
  };

  const samples = new Map<Way, Sample[]>(WAYS.map((w) => [w, []]));
  for (const w of WAYS) await once(w, `jbu-warm-${w}-${process.pid}`);
  for (let i = 0; i < rounds; i++) {
    const order = i % 2 === 0 ? WAYS : [...WAYS].reverse();
    const line: string[] = [];
    for (const w of order) {
      const smp = await once(w, `jbu-${w}-${process.pid}-${i}`);
      samples.get(w)!.push(smp);
      line.push(`${w} ${smp.downtimeMs.toFixed(0)} ms down (command ${smp.commandMs.toFixed(0)} ms)`);
    }
    log(`round ${i + 1}/${rounds} (load ${loadavg()[0]?.toFixed(2)}): ${line.join(', ')}`);
  }
  await inst.stop();
  const left = await s.finish();

  const med = (w: Way, k: keyof Sample) => median(samples.get(w)!.map((x) => x[k]));
  const base = med('rm-run', 'downtimeMs');
  const table = WAYS.map((w) => {
    const xs = samples.get(w)!;
    const d = med(w, 'downtimeMs');
    return [w, d.toFixed(1), Math.min(...xs.map((x) => x.downtimeMs)).toFixed(1), Math.max(...xs.map((x) => x.downtimeMs)).toFixed(1), `${(d / base).toFixed(2)}x`, med(w, 'commandMs').toFixed(1), String(xs.length)];
  });
  const out = [
    '',
    `HTTP downtime (last v1 answer to first v2 answer on 127.0.0.1:${port}), busybox httpd, images local: ${rounds} rounds after a warm-up`,
    `machine: ${machine.nproc} CPUs (${machine.cpu}), ${machine.memoryGiB} GiB, kernel ${machine.kernel}; load at end ${loadavg().map((x) => x.toFixed(2)).join(' ')}`,
    '',
    formatTable(['way', 'downtime ms', 'min', 'max', 'vs rm+run', 'command ms', 'n'], table),
    '',
    `upgrade / rm+run downtime (medians): ${(med('upgrade', 'downtimeMs') / base).toFixed(2)}`,
  ].join('\n');
  process.stdout.write(out + '\n');
  if (left.mounts.length) log(`warning: mounts left: ${left.mounts.join(' ')}`);
  const file = (o.get('out') as string | undefined) ?? join(repoRoot, 'bench', 'results', `upgrade-${new Date().toISOString().slice(0, 16).replace(/:/g, '')}.json`);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify({ date: new Date().toISOString(), machine, versions, rounds, samples: Object.fromEntries(samples) }, null, 2) + '\n');
  log(`results: ${relative(process.cwd(), file)}`);
}

main().catch(async (e) => {
  process.stderr.write(`bench/upgrade: ${(e as Error).stack ?? e}\n`);
  const { runCleanups } = await import('./lib/proc.ts');
  await runCleanups();
  process.exit(1);
});
