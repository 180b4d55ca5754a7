// Containers, driven by the docker CLI (and, in a smaller part, by docker-py)
// against a private daemon: the lifecycle commands, run/create options with
// what the container sees and what the kernel holds (cgroup files read from
// the host), exit codes, restart policies, health checks, a real terminal
// (tmux), live restore across daemon restarts, and a burst of parallel runs
// that must leave nothing behind.
//
// Each daemon gets its own cgroup parent (/joey-it-<pid>-<tag>), which the
// teardown removes; every container is removed after each test.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, afterEach, before, describe, test } from 'node:test';
import { cgroupDirsUnder, cgroupPaths, isFrozen, readLimits, sharesToWeight } from './lib/cgroups.ts';
import { useContainerDaemon, type ContainerDaemon } from './lib/containers.ts';
import { DOCKER_BIN, REPO_ROOT, TEST_ENGINE, mountsUnder, type Daemon } from './lib/daemon.ts';
import { capabilities, namespaceOf, orphansMentioning, pidAlive, procStat } from './lib/host.ts';
import { TEST_LABEL, pushImage } from './lib/images.ts';
import { makeTempDir, removeDir, run, sleep, waitFor, type CmdOptions, type CmdResult } from './lib/proc.ts';
import { startRegistry, type Registry } from './lib/registry.ts';
import { listTar, tarBuffer } from './lib/tar.ts';
import { startTerminal, type Terminal } from './lib/tmux.ts';

const MiB = 1024 * 1024;
/** Docker's default capability set (CHOWN … AUDIT_WRITE, SETFCAP). */
const DEFAULT_CAPS = 0xa80425fbn;
const CAP_CHOWN = 0n;
const CAP_NET_ADMIN = 12n;

let reg: Registry;
/** The busybox test image in the private registry; every daemon pulls it first. */
let image: string;
/** The same image under another name, left unpulled for the --pull tests. */
let pullImage: string;
let work: string;

before(async () => {
  reg = await startRegistry();
  image = (await pushImage(reg, 'busybox')).ref;
  pullImage = (await pushImage(reg, 'busybox', { repo: 'pulltest' })).ref;
  work = await makeTempDir();
});

after(async () => {
  await reg?.stop();
  if (work) await removeDir(work);
});

/** A daemon for a group of tests (see test/lib/containers.ts), with this suite's image. */
const useDaemon = (tag: string, opts: { liveRestore?: boolean } = {}) => useContainerDaemon(tag, () => image, opts);

/** A test with a timeout, so that a hung command fails the test instead of the run. */
function it(name: string, fn: () => Promise<void>, timeoutMs = 60_000): void {
  test(name, { timeout: timeoutMs }, fn);
}

let counter = 0;
/** A fresh container name. */
const nm = (what: string): string => `it-${what}-${++counter}`;

const dk = (d: Daemon, args: string[], opts: CmdOptions = {}): Promise<CmdResult> => d.docker(args, { timeoutMs: 60_000, ...opts });
const dkOk = (d: Daemon, args: string[], opts: CmdOptions = {}): Promise<CmdResult> => d.dockerOk(args, { timeoutMs: 60_000, ...opts });

async function inspect(d: Daemon, name: string): Promise<any> {
  const [c] = await d.dockerJson<any[]>(['container', 'inspect', name], { timeoutMs: 30_000 });
  return c;
}

/** `docker run -d ARGS…`; returns the full id. */
async function runD(d: Daemon, args: string[]): Promise<string> {
  const r = await dkOk(d, ['run', '-d', ...args]);
  const id = r.stdout.trim();
  assert.match(id, /^[0-9a-f]{64}$/, d.diagnose(r));
  return id;
}

async function pidOf(d: Daemon, name: string): Promise<number> {
  const s = (await inspect(d, name)).State;
  assert.ok(s.Running && s.Pid > 0, `${name} is not running: ${JSON.stringify(s)}`);
  return s.Pid;
}

const lines = (s: string): string[] => s.split('\n').map((l) => l.replace(/\r$/, '')).filter(Boolean);

function failed(d: Daemon, r: CmdResult, pattern: RegExp, what: string): void {
  assert.notEqual(r.code, 0, `${what} should fail\n${d.diagnose(r)}`);
  assert.match(`${r.stderr}\n${r.stdout}`, pattern, `${what}: unclear error\n${d.diagnose(r)}`);
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

async function gone(d: Daemon, name: string): Promise<boolean> {
  const r = await dk(d, ['container', 'inspect', name]);
  return r.code !== 0 && /No such (container|object)/i.test(r.stderr);
}

interface Watched {
  out(): string;
  err(): string;
  /** Waits until stdout matches; the error shows both streams. */
  waitFor(re: RegExp, ms?: number): Promise<RegExpMatchArray>;
  /** Writes to the command's stdin (kept open until `end`). */
  write(s: string): void;
  end(): void;
  done: Promise<CmdResult>;
  finished(): boolean;
  /** SIGKILL (docker stats ignores SIGTERM and SIGINT when not on a terminal). */
  stop(): void;
}

/** Watched commands still running: a test that failed half-way may leave one, and the file's `after` ends it. */
const watching = new Set<ChildProcess>();
after(() => {
  for (const c of watching) c.kill('SIGKILL');
});

/** A running `docker …` whose output is watched as it comes, with its stdin open. */
function watch(d: Daemon, args: string[]): Watched {
  const child = spawn(DOCKER_BIN, args, { env: d.clientEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
  watching.add(child);
  let out = '';
  let err = '';
  let finished = false;
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  child.stdin.on('error', () => undefined);
  const done = new Promise<CmdResult>((resolve) => child.on('close', (code, signal) => {
    finished = true;
    watching.delete(child);
    resolve({ code: code ?? (signal === 'SIGKILL' ? 137 : 143), stdout: out, stderr: err, cmd: ['docker', ...args].join(' ') });
  }));
  return {
    out: () => out,
    err: () => err,
    finished: () => finished,
    done,
    write: (x) => {
      child.stdin.write(x);
    },
    end: () => {
      child.stdin.end();
    },
    waitFor: async (re, ms = 15_000) => {
      try {
        return await waitFor(`docker ${args.join(' ')} to print ${re}`, () => out.match(re) ?? undefined, ms);
      } catch (e) {
        throw new Error(`${(e as Error).message}\n--- stdout\n${out.slice(-3000)}\n--- stderr\n${err.slice(-3000)}`);
      }
    },
    stop: () => {
      if (!finished) child.kill('SIGKILL');
    },
  };
}

/** Bytes from a docker size string such as `102kB` or `2.08MB` (decimal units, as the CLI prints them). */
function bytesOf(s: string): number {
  const m = /^([\d.]+)\s*([kMGT]?B)$/.exec(s.trim());
  assert.ok(m, `not a size: ${s}`);
  return Number(m[1]) * ({ B: 1, kB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12 } as Record<string, number>)[m[2]!]!;
}

/** Capability bits from a container's /proc/1/status (CapEff). */
async function containerCaps(d: Daemon, args: string[]): Promise<bigint> {
  const r = await dkOk(d, ['run', '--rm', ...args, image, 'grep', 'CapEff', '/proc/1/status']);
  return BigInt(`0x${r.stdout.trim().split(/\s+/)[1]}`);
}

// ---- one daemon for most groups ------------------------------------------------

describe('containers with the docker CLI', () => {
  const daemon = useDaemon('main');

  describe('lifecycle', () => {
    it('run -d: ps, inspect and top show the running process', async () => {
      const { d } = daemon();
      const n = nm('run');
      const id = await runD(d, ['--name', n, image, 'sleep', '1000']);
      const c = await inspect(d, n);
      assert.equal(c.Id, id);
      assert.equal(c.Name, `/${n}`);
      assert.equal(c.State.Status, 'running');
      assert.equal(c.State.Running, true);
      assert.ok(await pidAlive(c.State.Pid), `State.Pid ${c.State.Pid} is a live host process`);
      assert.deepEqual((await readFile(`/proc/${c.State.Pid}/cmdline`, 'utf8')).split('\0').filter(Boolean), ['sleep', '1000']);
      assert.ok(Date.parse(c.State.StartedAt) >= Date.parse(c.Created), `${c.State.StartedAt} vs ${c.Created}`);

      const rows = lines((await dkOk(d, ['ps', '--no-trunc', '--format', '{{json .}}'])).stdout).map((l) => JSON.parse(l));
      const row = rows.find((r) => r.ID === id);
      assert.ok(row, `ps does not list it: ${JSON.stringify(rows)}`);
      assert.equal(row.Names, n);
      assert.equal(row.Image, image);
      assert.match(row.Command, /sleep 1000/);
      assert.match(row.Status, /^Up /);

      const top = lines((await dkOk(d, ['top', n])).stdout);
      assert.match(top[0]!, /PID/);
      assert.ok(top.slice(1).some((l) => l.split(/\s+/).includes(String(c.State.Pid)) && /sleep 1000$/.test(l)), top.join('\n'));
      const topO = lines((await dkOk(d, ['top', n, '-o', 'pid,comm'])).stdout);
      assert.match(topO[0]!, /^\s*PID\s+COMMAND\s*$/);
      assert.deepEqual(topO.slice(1).map((l) => l.trim().split(/\s+/)), [[String(c.State.Pid), 'sleep']]);
    });

    it('stop: SIGTERM first, SIGKILL (137) after the timeout', async () => {
      const { d } = daemon();
      const polite = nm('polite');
      await runD(d, ['--name', polite, image, 'sh', '-c', 'trap "echo got-term; exit 7" TERM; sleep 1000 & wait']);
      const s1 = await timed(() => dkOk(d, ['stop', '-t', '10', polite]));
      assert.equal(s1.value.stdout.trim(), polite);
      assert.ok(s1.ms < 5000, `a process that handles SIGTERM stops at once, not after the timeout (${s1.ms.toFixed(0)} ms)`);
      const p = await inspect(d, polite);
      assert.equal(p.State.Status, 'exited');
      assert.equal(p.State.ExitCode, 7);
      assert.ok(Date.parse(p.State.FinishedAt) >= Date.parse(p.State.StartedAt));
      assert.match((await dkOk(d, ['logs', polite])).stdout, /got-term/);

      // PID 1 with no handler ignores SIGTERM.
      const stubborn = nm('stubborn');
      await runD(d, ['--name', stubborn, image, 'sleep', '1000']);
      const pid = await pidOf(d, stubborn);
      const s2 = await timed(() => dkOk(d, ['stop', '-t', '1', stubborn]));
      assert.ok(s2.ms >= 900 && s2.ms < 8000, `stop -t 1 of a TERM-ignoring process took ${s2.ms.toFixed(0)} ms`);
      const s = (await inspect(d, stubborn)).State;
      assert.equal(s.ExitCode, 137);
      assert.equal(s.Running, false);
      assert.equal(await pidAlive(pid), false, 'the process is gone');
    });

    it('create, start -a, start again, wait', async () => {
      const { d } = daemon();
      const n = nm('create');
      const id = (await dkOk(d, ['create', '--name', n, image, 'sh', '-c', 'echo from-create; exit 5'])).stdout.trim();
      assert.match(id, /^[0-9a-f]{64}$/);
      const c = await inspect(d, n);
      assert.equal(c.State.Status, 'created');
      assert.equal(c.State.Running, false);
      assert.equal(c.State.Pid, 0);
      assert.ok(!lines((await dkOk(d, ['ps', '-q', '--no-trunc'])).stdout).includes(id), 'ps without -a hides a created container');
      const all = lines((await dkOk(d, ['ps', '-a', '--no-trunc', '--format', '{{.ID}} {{.Status}}'])).stdout);
      assert.ok(all.includes(`${id} Created`), all.join('\n'));

      const started = await dk(d, ['start', '-a', n]);
      assert.equal(started.code, 5, d.diagnose(started));
      assert.equal(started.stdout, 'from-create\n');
      assert.equal((await dkOk(d, ['wait', n])).stdout.trim(), '5', 'wait on an exited container returns its code at once');
      await dkOk(d, ['start', n]);
      assert.equal((await dkOk(d, ['wait', n])).stdout.trim(), '5');
      assert.deepEqual(lines((await dkOk(d, ['logs', n])).stdout), ['from-create', 'from-create'], 'the second start ran the command again');
    });

    it('wait blocks until the exit; kill -s delivers the signal; kill defaults to SIGKILL (137)', async () => {
      const { d } = daemon();
      const n = nm('sig');
      await runD(d, ['--name', n, image, 'sh', '-c', 'trap "echo usr1; exit 9" USR1; sleep 1000 & wait']);
      const w = watch(d, ['wait', n]);
      await sleep(500);
      assert.equal(w.finished(), false, 'wait returned while the container runs');
      assert.equal((await dkOk(d, ['kill', '-s', 'USR1', n])).stdout.trim(), n);
      const r = await w.done;
      assert.equal(r.code, 0, d.diagnose(r));
      assert.equal(r.stdout.trim(), '9');
      assert.match((await dkOk(d, ['logs', n])).stdout, /usr1/);
      failed(d, await dk(d, ['kill', n]), /is not running/i, 'kill of an exited container');

      const k = nm('kill');
      await runD(d, ['--name', k, image, 'sleep', '1000']);
      await dkOk(d, ['kill', k]);
      assert.equal((await dkOk(d, ['wait', k])).stdout.trim(), '137');
      const s = (await inspect(d, k)).State;
      assert.equal(s.ExitCode, 137);
      assert.equal(s.OOMKilled, false);
    });

    it('restart runs a new process', async () => {
      const { d } = daemon();
      const n = nm('restart');
      await runD(d, ['--name', n, image, 'sleep', '1000']);
      const before1 = await inspect(d, n);
      const r = await timed(() => dkOk(d, ['restart', '-t', '1', n]));
      assert.ok(r.ms >= 900, `restart -t 1 waited for the TERM-ignoring process (${r.ms.toFixed(0)} ms)`);
      const after1 = await inspect(d, n);
      assert.equal(after1.State.Running, true);
      assert.notEqual(after1.State.Pid, before1.State.Pid);
      assert.equal(await pidAlive(before1.State.Pid), false);
      assert.ok(await pidAlive(after1.State.Pid));
      assert.ok(Date.parse(after1.State.StartedAt) > Date.parse(before1.State.StartedAt));
    });

    it('rm refuses a running container; -f kills it; -v removes its anonymous volumes', async () => {
      const { d } = daemon();
      const n = nm('rm');
      await runD(d, ['--name', n, '-v', '/data', image, 'sleep', '1000']);
      const c = await inspect(d, n);
      const vol = c.Mounts.find((m: any) => m.Destination === '/data');
      assert.ok(vol && vol.Type === 'volume' && vol.Name, `an anonymous volume at /data: ${JSON.stringify(c.Mounts)}`);
      const refused = await dk(d, ['rm', n]);
      failed(d, refused, /running|stop the container/i, 'rm of a running container');
      assert.equal((await inspect(d, n)).State.Running, true);
      await dkOk(d, ['rm', '-f', n]);
      assert.ok(await gone(d, n));
      assert.equal(await pidAlive(c.State.Pid), false, 'rm -f killed the process');
      assert.ok(lines((await dkOk(d, ['volume', 'ls', '-q'])).stdout).includes(vol.Name), 'rm without -v keeps the volume');
      await dkOk(d, ['volume', 'rm', vol.Name]);

      const n2 = nm('rmv');
      await dkOk(d, ['create', '--name', n2, '-v', '/data', image, 'true']);
      const vol2 = (await inspect(d, n2)).Mounts.find((m: any) => m.Destination === '/data').Name;
      assert.ok(lines((await dkOk(d, ['volume', 'ls', '-q'])).stdout).includes(vol2));
      await dkOk(d, ['rm', '-v', n2]);
      assert.ok(await gone(d, n2));
      assert.ok(!lines((await dkOk(d, ['volume', 'ls', '-q'])).stdout).includes(vol2), 'rm -v removed the anonymous volume');
      failed(d, await dk(d, ['rm', nm('never-made')]), /No such container/i, 'rm of an unknown container');
    });

    it('pause freezes the processes; unpause resumes them', async () => {
      const { d } = daemon();
      const n = nm('pause');
      await runD(d, ['--name', n, image, 'sh', '-c', 'while :; do echo tick; sleep 0.05; done']);
      const pid = await pidOf(d, n);
      const count = async (): Promise<number> => lines((await dkOk(d, ['logs', n])).stdout).length;
      await waitFor('some ticks', async () => (await count()) > 3);
      await dkOk(d, ['pause', n]);
      const s = (await inspect(d, n)).State;
      assert.equal(s.Status, 'paused');
      assert.equal(s.Paused, true);
      assert.ok(await isFrozen(pid), 'the cgroup is frozen');
      assert.match((await dkOk(d, ['ps', '--filter', `name=${n}`, '--format', '{{.Status}}'])).stdout, /\(Paused\)/);
      await sleep(300); // lines written just before the freeze may still be on their way to the log
      const c1 = await count();
      await sleep(600);
      assert.equal(await count(), c1, 'no output while paused');
      failed(d, await dk(d, ['exec', n, 'true']), /paused/i, 'exec in a paused container');
      await dkOk(d, ['unpause', n]);
      assert.equal((await inspect(d, n)).State.Status, 'running');
      assert.equal(await isFrozen(pid), false);
      await waitFor('ticks after unpause', async () => (await count()) > c1 + 3, 5000);
    });

    it('rename keeps the container and frees the old name', async () => {
      const { d } = daemon();
      const a = nm('old');
      const b = nm('new');
      const id = await runD(d, ['--name', a, image, 'sleep', '1000']);
      await dkOk(d, ['rename', a, b]);
      const c = await inspect(d, b);
      assert.equal(c.Id, id);
      assert.equal(c.Name, `/${b}`);
      assert.equal(c.State.Running, true);
      assert.ok(await gone(d, a));
      assert.equal((await dkOk(d, ['ps', '--filter', `name=${b}`, '--format', '{{.Names}}'])).stdout.trim(), b);
      await dkOk(d, ['create', '--name', a, image, 'true']);
      failed(d, await dk(d, ['rename', b, a]), /already in use|Conflict/i, 'rename to a taken name');
    });

    it('update changes the limits and the restart policy of a running container', async () => {
      const { d } = daemon();
      const n = nm('update');
      await runD(d, ['--name', n, '-m', '32m', image, 'sh', '-c', 'trap "exit 4" USR1; sleep 1000 & wait']);
      const pid = await pidOf(d, n);
      await dkOk(d, ['update', '--memory', '48m', '--memory-swap', '96m', '--cpu-shares', '256', '--cpus', '0.5', '--pids-limit', '30', '--restart', 'on-failure:3', n]);
      const l = await readLimits(pid);
      assert.equal(l.memory, 48 * MiB);
      if (l.memorySwap !== undefined) assert.equal(l.memorySwap, 96 * MiB);
      if (l.cpuShares !== undefined) assert.equal(l.cpuShares, 256);
      else assert.equal(l.cpuWeight, sharesToWeight(256));
      assert.equal(l.cpuQuota, l.cpuPeriod / 2, `--cpus 0.5: quota ${l.cpuQuota} of period ${l.cpuPeriod}`);
      assert.equal(l.pidsMax, 30);
      const hc = (await inspect(d, n)).HostConfig;
      assert.equal(hc.Memory, 48 * MiB);
      assert.equal(hc.MemorySwap, 96 * MiB);
      assert.equal(hc.CpuShares, 256);
      assert.equal(hc.NanoCpus, 5e8);
      assert.equal(hc.PidsLimit, 30);
      assert.deepEqual(hc.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 });
      const stats = JSON.parse((await dkOk(d, ['stats', '--no-stream', '--format', '{{json .}}', n])).stdout);
      assert.match(stats.MemUsage, /\/ 48MiB$/);
      // The new policy applies: a failing exit now restarts the container. (The signal comes from
      // inside: `docker kill` counts as stopping by hand, which no policy restarts.)
      await dkOk(d, ['exec', '-d', n, 'kill', '-USR1', '1']);
      const s = await waitFor('a restart after the failing exit', async () => {
        const c = await inspect(d, n);
        return c.RestartCount === 1 && c.State.Status === 'running' && c.State.Pid > 0 && c.State.Pid !== pid ? c : undefined;
      });
      assert.ok(await pidAlive(s.State.Pid), `the restarted process ${s.State.Pid} runs: ${JSON.stringify(await procStat(s.State.Pid))}`);
    });

    it('ps: -a, -q, -s, table header and filters', async () => {
      const { d } = daemon();
      const tag = `it.ps=${counter}`;
      const running = nm('ps-running');
      const exited3 = nm('ps-exit3');
      const exited0 = nm('ps-exit0');
      const created = nm('ps-created');
      const idRunning = await runD(d, ['--name', running, '--label', tag, '--label', 'role=run', image, 'sleep', '1000']);
      assert.equal((await dk(d, ['run', '--name', exited3, '--label', tag, image, 'sh', '-c', 'exit 3'])).code, 3);
      await dkOk(d, ['run', '--name', exited0, '--label', tag, image, 'dd', 'if=/dev/zero', 'of=/big', 'bs=1k', 'count=200']);
      await dkOk(d, ['create', '--name', created, '--label', tag, image, 'true']);
      const names = async (...args: string[]): Promise<string[]> =>
        lines((await dkOk(d, ['ps', '--filter', `label=${tag}`, '--format', '{{.Names}}', ...args])).stdout).sort();

      assert.deepEqual(await names(), [running]);
      assert.deepEqual(await names('-a'), [created, exited0, exited3, running].sort());
      const q = lines((await dkOk(d, ['ps', '-q', '--filter', `label=${tag}`])).stdout);
      assert.deepEqual(q, [idRunning.slice(0, 12)]);
      assert.equal(lines((await dkOk(d, ['ps', '-aq', '--filter', `label=${tag}`])).stdout).length, 4);
      assert.deepEqual(await names('-a', '--filter', 'status=exited'), [exited0, exited3].sort());
      assert.deepEqual(await names('-a', '--filter', 'status=created'), [created]);
      assert.deepEqual(await names('-a', '--filter', 'status=running'), [running]);
      assert.deepEqual(await names('-a', '--filter', `name=${exited3}`), [exited3]);
      const idCreated = (await inspect(d, created)).Id as string;
      assert.deepEqual(await names('-a', '--filter', `id=${idCreated.slice(0, 12)}`), [created]);
      assert.deepEqual(await names('-a', '--filter', 'label=role=run'), [running]);
      assert.deepEqual(await names('-a', '--filter', `ancestor=${image}`), [created, exited0, exited3, running].sort());
      assert.deepEqual(await names('-a', '--filter', 'exited=3'), [exited3]);
      assert.deepEqual(await names('-a', '--filter', 'exited=0'), [exited0]);

      const table = lines((await dkOk(d, ['ps', '-a', '--filter', `label=${tag}`])).stdout);
      assert.match(table[0]!, /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/);
      assert.equal(table.length, 5);
      assert.ok(table.some((l) => new RegExp(`Exited \\(3\\).*${exited3}$`).test(l)), table.join('\n'));

      const sized = lines((await dkOk(d, ['ps', '-a', '-s', '--filter', `name=${exited0}`])).stdout);
      assert.match(sized[0]!, /\bSIZE$/);
      const size = JSON.parse((await dkOk(d, ['ps', '-a', '-s', '--filter', `name=${exited0}`, '--format', '{{json .}}'])).stdout).Size as string;
      const m = /^(\S+) \(virtual (\S+)\)$/.exec(size);
      assert.ok(m, `Size: ${size}`);
      assert.ok(bytesOf(m[1]!) >= 200_000 && bytesOf(m[1]!) < 1_000_000, `the 200 kB written show as the container's size: ${size}`);
      assert.ok(bytesOf(m[2]!) > bytesOf(m[1]!) + 1_000_000, `virtual adds the image: ${size}`);
    });

    it('inspect: State, Config, HostConfig, Mounts, NetworkSettings', async () => {
      const { d } = daemon();
      const host = await makeTempDir('joey-it-bind-', work);
      await chmod(host, 0o755);
      await writeFile(join(host, 'hello'), 'from the host\n');
      const n = nm('inspect');
      const id = await runD(d, [
        '--name', n, '--hostname', 'box', '-e', 'A=1', '-w', '/tmp', '-u', '65534', '--label', 'k=v',
        '--restart', 'on-failure:2', '-m', '64m', '--network', 'none', '-v', `${host}:/data:ro`,
        '--entrypoint', 'sh', image, '-c', 'sleep 1000',
      ]);
      const c = await inspect(d, n);
      const img = (await d.dockerJson<any[]>(['image', 'inspect', image]))[0];
      assert.equal(c.Id, id);
      assert.equal(c.Image, img.Id);
      assert.equal(c.Path, 'sh');
      assert.deepEqual(c.Args, ['-c', 'sleep 1000']);
      assert.equal(c.RestartCount, 0);

      const s = c.State;
      assert.equal(s.Status, 'running');
      assert.deepEqual([s.Running, s.Paused, s.Restarting, s.OOMKilled, s.Dead], [true, false, false, false, false]);
      assert.ok(s.Pid > 0);
      assert.equal(s.ExitCode, 0);
      assert.equal(s.Error, '');
      assert.ok(!Number.isNaN(Date.parse(s.StartedAt)));
      assert.equal(s.FinishedAt, '0001-01-01T00:00:00Z');

      const cfg = c.Config;
      assert.equal(cfg.Hostname, 'box');
      assert.ok(cfg.Env.includes('A=1'), cfg.Env.join(' '));
      assert.ok(cfg.Env.some((e: string) => e.startsWith('PATH=')), 'the image PATH is kept');
      assert.equal(cfg.WorkingDir, '/tmp');
      assert.equal(cfg.User, '65534');
      assert.equal(cfg.Labels.k, 'v');
      assert.equal(cfg.Labels[TEST_LABEL], 'busybox', 'the image labels are merged in');
      assert.deepEqual(cfg.Entrypoint, ['sh']);
      assert.deepEqual(cfg.Cmd, ['-c', 'sleep 1000']);
      assert.equal(cfg.Image, image);
      assert.equal(cfg.Tty, false);
      assert.equal(cfg.OpenStdin, false);

      const hc = c.HostConfig;
      assert.equal(hc.Memory, 64 * MiB);
      assert.deepEqual(hc.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 2 });
      assert.equal(hc.NetworkMode, 'none');
      assert.deepEqual(hc.Binds, [`${host}:/data:ro`]);

      assert.equal(c.Mounts.length, 1);
      const m = c.Mounts[0];
      assert.deepEqual([m.Type, m.Source, m.Destination, m.RW], ['bind', host, '/data', false]);

      assert.deepEqual(Object.keys(c.NetworkSettings.Networks), ['none']);
      assert.equal(c.NetworkSettings.IPAddress, '');

      // What the inspect output says holds inside.
      assert.equal((await dkOk(d, ['exec', n, 'cat', '/data/hello'])).stdout, 'from the host\n');
      failed(d, await dk(d, ['exec', n, 'touch', '/data/x']), /Read-only file system/, 'a write to a :ro bind mount');
      assert.equal((await dkOk(d, ['exec', n, 'hostname'])).stdout.trim(), 'box');
      assert.equal((await dkOk(d, ['inspect', '-f', '{{.State.Pid}} {{.Config.Hostname}}', n])).stdout.trim(), `${s.Pid} box`);
    });

    it('stats: --no-stream, and a stream that follows the container', async () => {
      const { d } = daemon();
      const n = nm('stats');
      const id = await runD(d, ['--name', n, '-m', '64m', image, 'sleep', '1000']);
      const one = JSON.parse((await dkOk(d, ['stats', '--no-stream', '--format', '{{json .}}', n])).stdout);
      assert.equal(one.Name, n);
      assert.equal(one.ID, id.slice(0, 12));
      assert.match(one.MemUsage, /^[\d.]+[KMG]?i?B \/ 64MiB$/);
      assert.equal(one.PIDs, '1');
      assert.match(one.CPUPerc, /^\d+\.\d+%$/);
      const table = lines((await dkOk(d, ['stats', '--no-stream', n])).stdout);
      assert.match(table[0]!, /^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+BLOCK I\/O\s+PIDS$/);

      // Streaming: the PIDs column follows a second process started mid-stream.
      const s = watch(d, ['stats', '--format', 'sample {{.Name}} pids={{.PIDs}}', n]);
      try {
        await s.waitFor(new RegExp(`sample ${n} pids=1`));
        await dkOk(d, ['exec', '-d', n, 'sleep', '60']);
        await s.waitFor(new RegExp(`sample ${n} pids=2`));
        assert.equal(s.finished(), false, 'stats keeps streaming');
      } finally {
        s.stop();
        await s.done;
      }
    });

    it('logs: stdout and stderr apart, --tail, -t, --since, --until', async () => {
      const { d } = daemon();
      const n = nm('logs');
      const r = await dkOk(d, ['run', '--name', n, image, 'sh', '-c', 'echo out1; echo err1 >&2; sleep 1.2; echo out2; echo err2 >&2']);
      assert.equal(r.stdout, 'out1\nout2\n', 'run keeps the streams apart');
      assert.equal(r.stderr, 'err1\nerr2\n');
      const all = await dkOk(d, ['logs', n]);
      assert.equal(all.stdout, 'out1\nout2\n');
      assert.equal(all.stderr, 'err1\nerr2\n');
      const tail = await dkOk(d, ['logs', '--tail', '2', n]);
      assert.equal(tail.stdout, 'out2\n', '--tail counts the lines of both streams');
      assert.equal(tail.stderr, 'err2\n');
      assert.equal((await dkOk(d, ['logs', '--tail', '0', n])).stdout, '');

      const stamped = lines((await dkOk(d, ['logs', '-t', n])).stdout);
      assert.equal(stamped.length, 2);
      for (const l of stamped) assert.match(l, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{1,9}Z out\d$/);
      const t1 = Date.parse(stamped[0]!.split(' ')[0]!);
      const t2 = Date.parse(stamped[1]!.split(' ')[0]!);
      assert.ok(t2 - t1 >= 1000, `the timestamps are the times of writing (${t2 - t1} ms apart)`);
      const mid = new Date((t1 + t2) / 2).toISOString();
      const since = await dkOk(d, ['logs', '--since', mid, n]);
      assert.equal(since.stdout, 'out2\n');
      assert.equal(since.stderr, 'err2\n');
      const until = await dkOk(d, ['logs', '--until', mid, n]);
      assert.equal(until.stdout, 'out1\n');
      assert.equal(until.stderr, 'err1\n');
    });

    it('logs -f follows new output and ends when the container stops', async () => {
      const { d } = daemon();
      const n = nm('follow');
      await runD(d, ['--name', n, image, 'sh', '-c', 'trap "echo bye; exit 0" TERM; echo start; sleep 1000 & wait']);
      const f = watch(d, ['logs', '-f', n]);
      try {
        await f.waitFor(/start/);
        await dkOk(d, ['exec', n, 'sh', '-c', 'echo live > /proc/1/fd/1']);
        await f.waitFor(/live/);
        assert.equal(f.finished(), false);
        await dkOk(d, ['stop', n]);
        const r = await Promise.race([f.done, sleep(10_000).then(() => undefined)]);
        assert.ok(r, 'logs -f ended after the container stopped');
        assert.equal(r.code, 0, d.diagnose(r));
        assert.deepEqual(lines(r.stdout), ['start', 'live', 'bye']);
      } finally {
        f.stop();
      }
    });

    it('export writes the container filesystem as a tar', async () => {
      const { d } = daemon();
      const n = nm('export');
      await dkOk(d, ['run', '--name', n, image, 'sh', '-c', 'echo exported > /marker; rm /etc/group']);
      const file = join(work, `${n}.tar`);
      await dkOk(d, ['export', '-o', file, n]);
      const entries = await listTar(await readFile(file));
      const names = new Set(entries.map((e) => e.name.replace(/^\.?\//, '').replace(/\/$/, '')));
      assert.ok(names.has('marker'), 'the file the container wrote');
      assert.ok(names.has('bin/busybox'), 'the image content');
      assert.ok(names.has('etc/passwd'));
      assert.ok(!names.has('etc/group'), 'a deleted file is absent (not a whiteout)');
      assert.ok(![...names].some((x) => x.includes('.wh.')), 'no whiteouts');
      assert.equal(entries.find((e) => e.name.replace(/^\.?\//, '') === 'marker')!.size, 'exported\n'.length);
      const viaStdout = await dkOk(d, ['export', n]);
      assert.ok(viaStdout.stdout.length > 100_000, 'export to stdout');
    });

    it('cp copies files and directories both ways, also from a stopped container', async () => {
      const { d } = daemon();
      const n = nm('cp');
      await runD(d, ['--name', n, image, 'sleep', '1000']);
      const dir = await makeTempDir('joey-it-cp-', work);
      await writeFile(join(dir, 'in.txt'), 'to-container\n');
      await mkdir(join(dir, 'tree/a'), { recursive: true });
      await writeFile(join(dir, 'tree/a/b.txt'), 'nested\n');
      await dkOk(d, ['cp', join(dir, 'in.txt'), `${n}:/tmp/in.txt`]);
      assert.equal((await dkOk(d, ['exec', n, 'cat', '/tmp/in.txt'])).stdout, 'to-container\n');
      await dkOk(d, ['cp', join(dir, 'tree'), `${n}:/tmp/tree`]);
      assert.equal((await dkOk(d, ['exec', n, 'cat', '/tmp/tree/a/b.txt'])).stdout, 'nested\n');

      await dkOk(d, ['exec', n, 'sh', '-c', 'echo from-container > /tmp/out.txt']);
      await dkOk(d, ['cp', `${n}:/tmp/out.txt`, join(dir, 'out.txt')]);
      assert.equal(await readFile(join(dir, 'out.txt'), 'utf8'), 'from-container\n');
      await dkOk(d, ['cp', `${n}:/etc`, join(dir, 'etc-copy')]);
      assert.match(await readFile(join(dir, 'etc-copy/passwd'), 'utf8'), /^root:x:0:0:/);

      await dkOk(d, ['stop', '-t', '0', n]);
      await dkOk(d, ['cp', `${n}:/tmp/out.txt`, join(dir, 'out2.txt')]);
      assert.equal(await readFile(join(dir, 'out2.txt'), 'utf8'), 'from-container\n', 'cp from a stopped container');
      failed(d, await dk(d, ['cp', `${n}:/no/such/file`, join(dir, 'x')]), /Could not find|No such/i, 'cp of a missing path');
    });

    it('cp keeps hostile archives and container symlinks inside the container', async () => {
      const { d } = daemon();
      const n = nm('cp-hostile');
      const host = await makeTempDir('joey-it-cp-host-', work);
      await writeFile(join(host, 'sentinel'), 'keep\n');
      // Symlinks that would lead out of the rootfs if followed on the host.
      await runD(d, ['--name', n, image, 'sh', '-c', `mkdir -p /target ${host}; ln -s ${host} /hostlink; ln -s ../../../../.. /up; exec sleep 1000`]);
      await waitFor('the links', async () => (await dk(d, ['exec', n, 'test', '-L', '/up'])).code === 0, 5000);
      const src = await makeTempDir('joey-it-cp-src-', work);
      await writeFile(join(src, 'sentinel'), 'overwritten?\n');
      await dkOk(d, ['cp', join(src, 'sentinel'), `${n}:/hostlink/sentinel`]);
      await dkOk(d, ['cp', join(src, 'sentinel'), `${n}:/up/up-file`]);
      assert.equal(await readFile(join(host, 'sentinel'), 'utf8'), 'keep\n', 'the host file behind the link is untouched');
      assert.equal((await dkOk(d, ['exec', n, 'cat', `${host}/sentinel`])).stdout, 'overwritten?\n', 'written in the container');
      assert.equal((await dkOk(d, ['exec', n, 'cat', '/up-file'])).stdout, 'overwritten?\n', '".." stops at the container root');
      assert.ok(!existsSync('/up-file'));

      const escape = await tarBuffer([{ name: '../../../../../../tmp/joey-it-escaped', type: 'file', content: 'x' }]);
      failed(d, await dk(d, ['cp', '-', `${n}:/target`], { input: escape }), /outside of/, 'an entry climbing out');
      assert.ok(!existsSync('/tmp/joey-it-escaped'));
      const viaLink = await tarBuffer([
        { name: 'root', type: 'symlink', linkname: '/' },
        { name: 'root/etc/joey-it-hijack', type: 'file', content: 'inside\n' },
      ]);
      await dkOk(d, ['cp', '-', `${n}:/target`], { input: viaLink });
      assert.equal((await dkOk(d, ['exec', n, 'cat', '/etc/joey-it-hijack'])).stdout, 'inside\n', "the archive's symlink resolves in the container");
      assert.ok(!existsSync('/etc/joey-it-hijack'), 'and not on the host');
      if (TEST_ENGINE === 'joeyd') {
        // joey is stricter than dockerd here, which makes the node.
        const dev = await tarBuffer([{ name: 'sda', type: 'block-device', devmajor: 8, devminor: 0 }]);
        failed(d, await dk(d, ['cp', '-', `${n}:/target`], { input: dev }), /device/i, 'a device node');
      }

      // Into a stopped container, and never into a read-only rootfs.
      await dkOk(d, ['stop', '-t', '0', n]);
      await writeFile(join(src, 'later.txt'), 'while stopped\n');
      await dkOk(d, ['cp', join(src, 'later.txt'), `${n}:/target/`]);
      await dkOk(d, ['start', n]);
      assert.equal((await dkOk(d, ['exec', n, 'cat', '/target/later.txt'])).stdout, 'while stopped\n');
      const ro = nm('cp-ro');
      await runD(d, ['--name', ro, '--read-only', image, 'sleep', '1000']);
      failed(d, await dk(d, ['cp', join(src, 'later.txt'), `${ro}:/tmp/`]), /read-only/i, 'cp into a read-only rootfs');
    });

    it('exec: -i, -t, -u, -w, -e, -d and the exit code', async () => {
      const { d } = daemon();
      const n = nm('exec');
      await runD(d, ['--name', n, '-e', 'FROM_RUN=1', image, 'sleep', '1000']);
      assert.equal((await dkOk(d, ['exec', '-i', n, 'sh', '-c', 'read l; echo "got:$l"'], { input: 'hello\n' })).stdout, 'got:hello\n');
      const t = await dkOk(d, ['exec', '-t', n, 'tty']);
      assert.match(t.stdout, /^\/dev\/pts\/\d+\r\n$/, 'a tty: a pts and CRLF line ends');
      const notty = await dk(d, ['exec', n, 'tty']);
      assert.notEqual(notty.code, 0, 'without -t there is no tty');
      assert.equal((await dkOk(d, ['exec', '-u', '65534', n, 'id', '-u'])).stdout.trim(), '65534');
      assert.equal((await dkOk(d, ['exec', '-u', 'nobody', n, 'id', '-un'])).stdout.trim(), 'nobody');
      assert.equal((await dkOk(d, ['exec', '-u', '1000:1000', n, 'id'])).stdout.trim(), 'uid=1000 gid=1000 groups=1000');
      assert.equal((await dkOk(d, ['exec', '-w', '/etc', n, 'pwd'])).stdout.trim(), '/etc');
      assert.equal((await dkOk(d, ['exec', '-e', 'FOO=bar', n, 'sh', '-c', 'echo "$FOO $FROM_RUN"'])).stdout.trim(), 'bar 1');
      const det = await timed(() => dkOk(d, ['exec', '-d', n, 'sh', '-c', 'sleep 1; echo detached > /tmp/d']));
      assert.equal(det.value.stdout, '');
      assert.ok(det.ms < 900, `exec -d returns at once (${det.ms.toFixed(0)} ms)`);
      await waitFor('the detached exec to finish', async () => (await dk(d, ['exec', n, 'cat', '/tmp/d'])).stdout === 'detached\n', 5000);
      assert.equal((await dk(d, ['exec', n, 'sh', '-c', 'exit 7'])).code, 7);
      const missing = await dk(d, ['exec', n, 'no-such-command']);
      assert.ok([126, 127].includes(missing.code), `exec of a missing command: exit ${missing.code}\n${d.diagnose(missing)}`);
      assert.match(missing.stderr + missing.stdout, /not found|no such file/i);
      if (TEST_ENGINE === 'joeyd') {
        // Finished execs leave nothing on disk (their monitors' directories go).
        const id = (await inspect(d, n)).Id as string;
        const dirs = await waitFor('finished execs to be cleaned up', async () => {
          const left = await readdir(join(d.execRoot, 'containers', id, 'execs')).catch(() => [] as string[]);
          return left.length === 0 ? left : undefined;
        }, 5000).catch(async () => readdir(join(d.execRoot, 'containers', id, 'execs')));
        assert.deepEqual(dirs, []);
      }
      // An exec still running when its container stops ends with it.
      const long = watch(d, ['exec', n, 'sh', '-c', 'echo in; exec sleep 1000']);
      await long.waitFor(/in/);
      await dkOk(d, ['stop', '-t', '0', n]);
      const ended = await Promise.race([long.done, sleep(10_000).then(() => undefined)]);
      long.stop();
      assert.ok(ended, 'the exec is still attached after its container stopped');
      failed(d, await dk(d, ['exec', n, 'true']), /is not running/i, 'exec in a stopped container');
    });

    it('attach: stdin in, stdout and stderr out, the exit code back', async () => {
      const { d } = daemon();
      const n = nm('attach');
      await runD(d, ['-i', '--name', n, image, 'sh', '-c', 'read l; echo "got:$l"; echo "err:$l" >&2; exit 4']);
      // stdin stays open, as from a terminal (dockerd ends the attach as soon as the client's stdin closes).
      const a = watch(d, ['attach', n]);
      let r: CmdResult;
      try {
        a.write('x\n');
        r = await Promise.race([a.done, sleep(20_000).then(() => ({ code: -1, stdout: a.out(), stderr: a.err(), cmd: 'docker attach (timed out)' }))]);
      } finally {
        a.stop();
      }
      assert.equal(r.code, 4, d.diagnose(r));
      assert.equal(r.stdout, 'got:x\n');
      assert.equal(r.stderr, 'err:x\n');
      assert.equal((await inspect(d, n)).State.ExitCode, 4);
    });

    it('diff lists added, changed and deleted paths', async () => {
      const { d } = daemon();
      const n = nm('diff');
      await dkOk(d, ['run', '--name', n, image, 'sh', '-c', 'touch /new; rm /etc/group; echo x >> /etc/passwd; mkdir -p /tmp/d; touch /tmp/d/f']);
      const got = new Set(lines((await dkOk(d, ['diff', n])).stdout));
      for (const want of ['A /new', 'D /etc/group', 'C /etc/passwd', 'C /etc', 'A /tmp/d', 'A /tmp/d/f', 'C /tmp']) {
        assert.ok(got.has(want), `diff lacks "${want}":\n${[...got].join('\n')}`);
      }
      assert.ok(![...got].some((l) => / \/bin/.test(l)), `untouched paths are not listed:\n${[...got].join('\n')}`);
    });

    it('commit makes an image of the container, with changes', async () => {
      const { d } = daemon();
      const n = nm('commit');
      const ref = `local/committed:${counter}`;
      await dkOk(d, ['run', '--name', n, image, 'sh', '-c', 'echo committed > /hello']);
      const r = await dkOk(d, ['commit', '-m', 'a message', '-a', 'tester', '-c', 'CMD ["cat", "/hello"]', '-c', 'ENV COMMITTED=1', n, ref]);
      assert.match(r.stdout.trim(), /^sha256:[0-9a-f]{64}$/);
      try {
        const [img] = await d.dockerJson<any[]>(['image', 'inspect', ref]);
        const [base] = await d.dockerJson<any[]>(['image', 'inspect', image]);
        assert.equal(img.Id, r.stdout.trim());
        assert.equal(img.Comment, 'a message');
        assert.equal(img.Author, 'tester');
        assert.deepEqual(img.Config.Cmd, ['cat', '/hello']);
        assert.ok(img.Config.Env.includes('COMMITTED=1'), img.Config.Env.join(' '));
        assert.deepEqual(img.RootFS.Layers.slice(0, -1), base.RootFS.Layers, 'one layer on top of the base');
        assert.equal(img.RootFS.Layers.length, base.RootFS.Layers.length + 1);
        assert.equal((await dkOk(d, ['run', '--rm', ref])).stdout, 'committed\n');
      } finally {
        await dk(d, ['rmi', '-f', ref]);
      }
    });

    it('file capabilities survive import, commit, export, and cp out and in (dockerd keeps security.capability)', async () => {
      const { d } = daemon();
      // A rootfs with busybox and a copy of it that carries cap_net_raw+ep,
      // archived by GNU tar with its xattr records.
      const dir = join(work, `caps-${counter}`);
      const rootfs = join(dir, 'rootfs');
      await mkdir(join(rootfs, 'bin'), { recursive: true });
      await copyFile('/bin/busybox', join(rootfs, 'bin/busybox'));
      for (const tool of ['sh', 'touch', 'true']) await run('ln', ['-s', 'busybox', join(rootfs, 'bin', tool)]);
      await copyFile('/bin/busybox', join(rootfs, 'ping'));
      await run('setcap', ['cap_net_raw+ep', join(rootfs, 'ping')]);
      const tarFile = join(dir, 'rootfs.tar');
      await run('tar', ['--xattrs', '--xattrs-include=security.capability', '-C', rootfs, '-cf', tarFile, '.']);
      const capsOf = async (tarBytes: Buffer, what: string): Promise<string> => {
        const out = join(dir, `x-${what}`);
        await mkdir(out, { recursive: true });
        await writeFile(join(dir, `${what}.tar`), tarBytes);
        await run('tar', ['--xattrs', '--xattrs-include=*', '-C', out, '-xf', join(dir, `${what}.tar`)]);
        return (await run('getcap', [join(out, 'ping')])).stdout;
      };
      const base = `local/caps:${counter}`;
      const committed = `local/caps-committed:${counter}`;
      const c = nm('caps');
      try {
        await dkOk(d, ['import', '-c', 'CMD ["sh"]', tarFile, base]);
        // touch copies the file up into the container's own layer, xattrs and all.
        await dkOk(d, ['run', '--name', c, base, 'touch', '/ping']);
        await dkOk(d, ['commit', c, committed]);
        // The committed layer itself (the last one in docker save) has the capability.
        const saved = join(dir, 'saved.tar');
        await dkOk(d, ['save', '-o', saved, committed]);
        const manifest = JSON.parse(spawnSync('tar', ['-xOf', saved, 'manifest.json']).stdout.toString()) as Array<{ Layers: string[] }>;
        const top = spawnSync('tar', ['-xOf', saved, manifest[0]!.Layers.at(-1)!], { maxBuffer: 64 * MiB }).stdout;
        const layerCaps = await capsOf(top[0] === 0x1f ? gunzipSync(top) : top, 'layer');
        assert.match(layerCaps, /cap_net_raw[=+]ep/, `the committed layer lost the capability: ${layerCaps}`);
        // export (the merged tree) and cp of the file keep it too.
        const c2 = nm('caps2');
        await dkOk(d, ['create', '--name', c2, committed]);
        const exported = spawnSync(DOCKER_BIN, ['export', c2], { env: d.clientEnv(), maxBuffer: 64 * MiB });
        assert.equal(exported.status, 0, exported.stderr.toString());
        assert.match(await capsOf(exported.stdout, 'export'), /cap_net_raw[=+]ep/, 'export');
        const copied = spawnSync(DOCKER_BIN, ['cp', `${c2}:/ping`, '-'], { env: d.clientEnv(), maxBuffer: 64 * MiB });
        assert.equal(copied.status, 0, copied.stderr.toString());
        assert.match(await capsOf(copied.stdout, 'cp'), /cap_net_raw[=+]ep/, 'cp');
        // cp into the container applies them too (as dockerd's untar does).
        const pingTar = spawnSync('tar', ['--xattrs', '--xattrs-include=security.capability', '-C', rootfs, '--transform', 's/^ping$/ping2/', '-cf', '-', 'ping'], { maxBuffer: 64 * MiB }).stdout;
        const put = spawnSync(DOCKER_BIN, ['cp', '-', `${c2}:/`], { env: d.clientEnv(), input: pingTar });
        assert.equal(put.status, 0, put.stderr.toString());
        const back = spawnSync(DOCKER_BIN, ['cp', `${c2}:/ping2`, '-'], { env: d.clientEnv(), maxBuffer: 64 * MiB });
        assert.equal(back.status, 0, back.stderr.toString());
        const out = join(dir, 'x-cp-in');
        await mkdir(out, { recursive: true });
        await writeFile(join(dir, 'cp-in.tar'), back.stdout);
        await run('tar', ['--xattrs', '--xattrs-include=*', '-C', out, '-xf', join(dir, 'cp-in.tar')]);
        assert.match((await run('getcap', [join(out, 'ping2')])).stdout, /cap_net_raw[=+]ep/, 'cp into the container');
        await dk(d, ['rm', '-f', c2]);
      } finally {
        await dk(d, ['rm', '-f', c]);
        await dk(d, ['rmi', '-f', committed, base]);
        await removeDir(dir);
      }
    });

    it('container prune removes stopped containers only, honouring filters', async () => {
      const { d } = daemon();
      const tag = `it.prune=${counter}`;
      const exited = await dkOk(d, ['run', '-d', '--name', nm('prune-exited'), '--label', tag, image, 'true']);
      const created = await dkOk(d, ['create', '--name', nm('prune-created'), '--label', tag, image, 'true']);
      const running = nm('prune-running');
      await runD(d, ['--name', running, '--label', tag, image, 'sleep', '1000']);
      const other = nm('prune-other');
      await dkOk(d, ['run', '--name', other, image, 'true']);
      await dkOk(d, ['wait', exited.stdout.trim()]);
      const r = await dkOk(d, ['container', 'prune', '-f', '--filter', `label=${tag}`]);
      assert.match(r.stdout, /Deleted Containers:/);
      assert.match(r.stdout, /Total reclaimed space:/);
      const deleted = lines(r.stdout).filter((l) => /^[0-9a-f]{64}$/.test(l)).sort();
      assert.deepEqual(deleted, [exited.stdout.trim(), created.stdout.trim()].sort());
      assert.equal((await inspect(d, running)).State.Running, true);
      assert.equal((await inspect(d, other)).State.Status, 'exited', 'the filter kept the unlabelled one');
    });
  });

  describe('run and create options', () => {
    it('-i, -t, --rm, --name; without -i there is no stdin', async () => {
      const { d } = daemon();
      assert.equal((await dkOk(d, ['run', '-i', '--rm', image, 'sh', '-c', 'read l; echo "got:$l"'], { input: 'in\n' })).stdout, 'got:in\n');
      assert.equal((await dkOk(d, ['run', '--rm', image, 'sh', '-c', 'cat; echo end'], { input: 'ignored\n' })).stdout, 'end\n');
      assert.match((await dkOk(d, ['run', '-t', '--rm', image, 'tty'])).stdout, /^\/dev\/pts\/\d+\r\n$/);
      const n = nm('rm');
      await dkOk(d, ['run', '--rm', '--name', n, image, 'true']);
      assert.ok(await gone(d, n), '--rm removed the container by the time run returned');
      const kept = nm('named');
      await dkOk(d, ['run', '--name', kept, image, 'true']);
      assert.equal((await inspect(d, kept)).Name, `/${kept}`);
    });

    it('-e, --env-file, -w, -u, --group-add, --hostname, --entrypoint', async () => {
      const { d } = daemon();
      const envFile = join(work, 'env.list');
      await writeFile(envFile, 'FROM_FILE=file value\n# a comment\nPASSED\n');
      const r = await dkOk(d, [
        'run', '--rm', '-e', 'A=1', '-e', 'B=two words', '--env-file', envFile, '-w', '/work/dir', '-u', '65534:65534',
        '--group-add', '1234', '--hostname', 'box', '--entrypoint', '/bin/sh', image,
        '-c', 'echo "A=$A"; echo "B=$B"; echo "F=$FROM_FILE"; echo "P=$PASSED"; pwd; id -u; id -g; id -G; hostname; cat /etc/hostname',
      ], { env: { PASSED: 'from the client' } });
      assert.deepEqual(lines(r.stdout), ['A=1', 'B=two words', 'F=file value', 'P=from the client', '/work/dir', '65534', '65534', '65534 1234', 'box', 'box']);
      assert.equal((await dkOk(d, ['run', '--rm', '-u', 'nobody', image, 'id'])).stdout.trim(), 'uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)');
      assert.equal((await dkOk(d, ['run', '--rm', '--entrypoint', 'echo', image, 'a', 'b'])).stdout, 'a b\n');
    });

    it('--read-only with --tmpfs and --shm-size', async () => {
      const { d } = daemon();
      const r = await dkOk(d, [
        'run', '--rm', '--read-only', '--tmpfs', '/scratch:size=1m,mode=1777', '--shm-size', '8m', image, 'sh', '-c',
        'touch /x 2>&1; echo "rc=$?"; touch /scratch/ok && echo scratch-ok; touch /dev/shm/ok && echo shm-ok; '
        + 'df -k /scratch /dev/shm | tail -n 2; stat -c %a /scratch; dd if=/dev/zero of=/scratch/big bs=1k count=2048 2>&1; echo "dd=$?"',
      ]);
      assert.match(r.stdout, /Read-only file system/);
      assert.match(r.stdout, /^rc=1$/m);
      assert.match(r.stdout, /^scratch-ok$/m);
      assert.match(r.stdout, /^shm-ok$/m);
      assert.match(r.stdout, /^\S+\s+1024\s+.*\/scratch$/m, '--tmpfs size=1m');
      assert.match(r.stdout, /^\S+\s+8192\s+.*\/dev\/shm$/m, '--shm-size 8m');
      assert.match(r.stdout, /^1777$/m);
      assert.match(r.stdout, /No space left on device/);
      assert.match(r.stdout, /^dd=1$/m);
    });

    it('--init runs an init as PID 1 that passes SIGTERM on', async () => {
      const { d } = daemon();
      const n = nm('init');
      await runD(d, ['--init', '--name', n, image, 'sleep', '1000']);
      const comm = (await dkOk(d, ['exec', n, 'cat', '/proc/1/comm'])).stdout.trim();
      assert.notEqual(comm, 'sleep', 'PID 1 is the init, not the command');
      const ps = (await dkOk(d, ['exec', n, 'ps', '-o', 'pid,args'])).stdout;
      assert.match(ps, /^\s*(?!1\s)\d+\s+sleep 1000$/m, ps);
      const s = await timed(() => dkOk(d, ['stop', '-t', '10', n]));
      assert.ok(s.ms < 5000, `the init forwarded SIGTERM to sleep (${s.ms.toFixed(0)} ms)`);
      assert.equal((await inspect(d, n)).State.ExitCode, 143);
    });

    it('--stop-signal and --stop-timeout', async () => {
      const { d } = daemon();
      const a = nm('stopsig');
      await runD(d, ['--name', a, '--stop-signal', 'USR1', image, 'sh', '-c', 'trap "exit 10" USR1; sleep 1000 & wait']);
      assert.equal((await inspect(d, a)).Config.StopSignal, 'USR1');
      const s1 = await timed(() => dkOk(d, ['stop', a]));
      assert.ok(s1.ms < 5000, `stop sent USR1 (${s1.ms.toFixed(0)} ms)`);
      assert.equal((await inspect(d, a)).State.ExitCode, 10);

      const b = nm('stoptimeout');
      await runD(d, ['--name', b, '--stop-timeout', '1', image, 'sleep', '1000']);
      assert.equal((await inspect(d, b)).Config.StopTimeout, 1);
      const s2 = await timed(() => dkOk(d, ['stop', b]));
      assert.ok(s2.ms >= 900 && s2.ms < 6000, `stop without -t waited --stop-timeout 1 s, not 10 (${s2.ms.toFixed(0)} ms)`);
      assert.equal((await inspect(d, b)).State.ExitCode, 137);
    });

    it('--privileged: every capability the daemon has, host devices, mount works', async () => {
      const { d } = daemon();
      const hostDev = ['loop-control', 'kmsg', 'mem', 'fuse'].find((x) => existsSync(`/dev/${x}`));
      assert.ok(hostDev, 'the host has a device outside the default set');
      const r = await dk(d, ['run', '--rm', '--privileged', image, 'sh', '-c', `grep CapEff /proc/1/status; ls /dev; mkdir -p /mnt; mount -t tmpfs none /mnt && echo mounted`]);
      assert.equal(r.code, 0, `--privileged must work where root lacks some capabilities (CAP_SYS_RESOURCE here)\n${d.diagnose(r)}`);
      const eff = BigInt(`0x${/CapEff:\s*([0-9a-f]+)/.exec(r.stdout)![1]}`);
      assert.equal(eff.toString(16), (await capabilities('self')).bnd.toString(16), 'CapEff is the bounding set the daemon runs with');
      assert.ok(lines(r.stdout).includes(hostDev), `/dev/${hostDev} is there`);
      assert.match(r.stdout, /^mounted$/m);
      const plain = await dkOk(d, ['run', '--rm', image, 'sh', '-c', `ls /dev; mkdir -p /mnt; mount -t tmpfs none /mnt 2>&1 || echo mount-failed`]);
      assert.ok(!lines(plain.stdout).includes(hostDev), `/dev/${hostDev} is not in an unprivileged container`);
      assert.match(plain.stdout, /^mount-failed$/m);
    });

    it('--cap-add and --cap-drop', async () => {
      const { d } = daemon();
      assert.equal((await containerCaps(d, [])).toString(16), DEFAULT_CAPS.toString(16), "Docker's default set");
      assert.equal(await containerCaps(d, ['--cap-drop', 'ALL']), 0n);
      const mixed = await containerCaps(d, ['--cap-add', 'NET_ADMIN', '--cap-drop', 'CHOWN']);
      assert.equal(mixed.toString(16), ((DEFAULT_CAPS | (1n << CAP_NET_ADMIN)) & ~(1n << CAP_CHOWN)).toString(16));
      const r = await dkOk(d, ['run', '--rm', '--network', 'none', '--cap-add', 'NET_ADMIN', '--cap-drop', 'CHOWN', image, 'sh', '-c',
        'chown 65534 /tmp 2>&1 || echo chown-denied; ip link set lo mtu 1280 && echo mtu-set']);
      assert.match(r.stdout, /^chown-denied$/m);
      assert.match(r.stdout, /^mtu-set$/m);
      const plain = await dkOk(d, ['run', '--rm', '--network', 'none', image, 'sh', '-c',
        'chown 65534 /tmp && echo chown-ok; ip link set lo mtu 1280 2>&1 || echo mtu-denied']);
      assert.match(plain.stdout, /^chown-ok$/m);
      assert.match(plain.stdout, /^mtu-denied$/m);
    });

    it('--security-opt seccomp=unconfined and no-new-privileges', async () => {
      const { d } = daemon();
      const status = async (args: string[]): Promise<string> => (await dkOk(d, ['run', '--rm', ...args, image, 'grep', '-E', '^(Seccomp|NoNewPrivs):', '/proc/1/status'])).stdout;
      const def = await status([]);
      assert.match(def, /^Seccomp:\s+2$/m, 'the default seccomp filter');
      assert.match(def, /^NoNewPrivs:\s+0$/m);
      assert.match(await status(['--security-opt', 'seccomp=unconfined']), /^Seccomp:\s+0$/m);
      assert.match(await status(['--security-opt', 'no-new-privileges']), /^NoNewPrivs:\s+1$/m);
      assert.match(await status(['--security-opt', 'no-new-privileges:true']), /^NoNewPrivs:\s+1$/m);
    });

    it('--ulimit', async () => {
      const { d } = daemon();
      const r = await dkOk(d, ['run', '--rm', '--ulimit', 'nofile=1024:2048', '--ulimit', 'nproc=500:600', image, 'sh', '-c', 'ulimit -Sn; ulimit -Hn; ulimit -Su; ulimit -Hu']);
      assert.deepEqual(lines(r.stdout), ['1024', '2048', '500', '600']);
    });

    it('memory, cpu and pids limits are in the cgroup; the container sits under the cgroup parent', async () => {
      const { d, cgroupParent } = daemon();
      const n = nm('limits');
      await runD(d, ['--name', n, '-m', '32m', '--memory-swap', '64m', '--memory-reservation', '16m', '--cpus', '0.5', '--cpu-shares', '512',
        '--cpuset-cpus', '0', '--pids-limit', '20', '--oom-kill-disable', image, 'sleep', '1000']);
      const pid = await pidOf(d, n);
      const paths = await cgroupPaths(pid);
      assert.ok([...paths.values()].every((p) => p.startsWith(`${cgroupParent}/`)), `under ${cgroupParent}: ${JSON.stringify([...paths])}`);
      const l = await readLimits(pid);
      assert.equal(l.memory, 32 * MiB);
      if (l.memorySwap !== undefined) assert.equal(l.memorySwap, 64 * MiB);
      assert.equal(l.memoryReservation, 16 * MiB);
      assert.equal(l.cpuPeriod, 100_000);
      assert.equal(l.cpuQuota, 50_000);
      if (l.cpuShares !== undefined) assert.equal(l.cpuShares, 512);
      else assert.equal(l.cpuWeight, sharesToWeight(512));
      assert.equal(l.cpusetCpus, '0');
      assert.equal(l.pidsMax, 20);
      if (l.oomKillDisable !== undefined) assert.equal(l.oomKillDisable, true);
      const hc = (await inspect(d, n)).HostConfig;
      assert.deepEqual([hc.Memory, hc.MemorySwap, hc.MemoryReservation, hc.NanoCpus, hc.CpuShares, hc.CpusetCpus, hc.PidsLimit, hc.OomKillDisable],
        [32 * MiB, 64 * MiB, 16 * MiB, 5e8, 512, '0', 20, true]);
      // What a user sees of the pids limit: fork fails past 20.
      const fork = await dk(d, ['exec', n, 'sh', '-c', 'for i in $(seq 30); do sleep 30 & done; wait']);
      assert.match(fork.stderr + fork.stdout, /can't fork|Resource temporarily unavailable/, d.diagnose(fork));
      assert.match(JSON.parse((await dkOk(d, ['stats', '--no-stream', '--format', '{{json .}}', n])).stdout).MemUsage, /\/ 32MiB$/);

      const q = nm('quota');
      await runD(d, ['--name', q, '--cpu-quota', '30000', '--cpu-period', '60000', image, 'sleep', '1000']);
      const lq = await readLimits(await pidOf(d, q));
      assert.deepEqual([lq.cpuQuota, lq.cpuPeriod], [30_000, 60_000]);

      const own = nm('own-parent');
      await runD(d, ['--name', own, '--cgroup-parent', `${cgroupParent}/custom`, image, 'sleep', '1000']);
      const ownPaths = await cgroupPaths(await pidOf(d, own));
      assert.ok(ownPaths.get('memory')?.startsWith(`${cgroupParent}/custom/`) ?? ownPaths.get('')?.startsWith(`${cgroupParent}/custom/`), `a per-container --cgroup-parent: ${JSON.stringify([...ownPaths])}`);
    });

    it('--device maps a host device, with its permissions', async () => {
      const { d } = daemon();
      // /dev/kmsg (1:11) is outside the default device allow-list, so the device cgroup rule decides;
      // a write to it only adds a line to the kernel log.
      const write = 'echo joey-it-device-test > /dev/mykmsg 2>&1 && echo written || echo write-denied';
      const r = await dkOk(d, ['run', '--rm', '--device', '/dev/zero:/dev/myzero', '--device', '/dev/kmsg:/dev/mykmsg:r', image, 'sh', '-c',
        `head -c 4 /dev/myzero | od -An -tx1; ls -l /dev/myzero; ${write}`]);
      assert.match(r.stdout, /^\s*00 00 00 00$/m);
      assert.match(r.stdout, /^crw\S*\s+.*\s1,\s+5\s.*\/dev\/myzero$/m);
      assert.match(r.stdout, /^write-denied$/m, 'the :r device cannot be written');
      const rw = await dkOk(d, ['run', '--rm', '--device', '/dev/kmsg:/dev/mykmsg:rw', image, 'sh', '-c', write]);
      assert.match(rw.stdout, /^written$/m, 'the :rw device can');
      const plain = await dk(d, ['run', '--rm', image, 'ls', '/dev/myzero']);
      assert.notEqual(plain.code, 0, 'no such device without --device');
    });

    it('--sysctl sets namespaced kernel parameters for the container only', async () => {
      const { d } = daemon();
      const hostMsgmax = (await readFile('/proc/sys/kernel/msgmax', 'utf8')).trim();
      const want = hostMsgmax === '12345' ? '12346' : '12345';
      const r = await dkOk(d, ['run', '--rm', '--network', 'none', '--sysctl', 'net.ipv4.ip_forward=1', '--sysctl', `kernel.msgmax=${want}`, image,
        'cat', '/proc/sys/net/ipv4/ip_forward', '/proc/sys/kernel/msgmax']);
      assert.deepEqual(lines(r.stdout), ['1', want]);
      assert.equal((await readFile('/proc/sys/kernel/msgmax', 'utf8')).trim(), hostMsgmax, 'the host keeps its value');
    });

    it('--pid, --ipc and --uts: host or another container', async () => {
      const { d } = daemon();
      const show = 'for n in pid ipc uts; do readlink /proc/self/ns/$n; done; hostname';
      const hostNs = [await namespaceOf('self', 'pid'), await namespaceOf('self', 'ipc'), await namespaceOf('self', 'uts'), hostname()];
      const shared = lines((await dkOk(d, ['run', '--rm', '--pid', 'host', '--ipc', 'host', '--uts', 'host', image, 'sh', '-c', `${show}; test -d /proc/${process.pid} && echo sees-host`])).stdout);
      assert.deepEqual(shared, [...hostNs, 'sees-host']);
      const own = lines((await dkOk(d, ['run', '--rm', image, 'sh', '-c', `${show}; test -d /proc/${process.pid} || echo own-pids`])).stdout);
      for (let i = 0; i < 3; i++) assert.notEqual(own[i], hostNs[i], `a private ${['pid', 'ipc', 'uts'][i]} namespace`);
      assert.equal(own[4], 'own-pids');

      const p = nm('ns-owner');
      await runD(d, ['--name', p, '--ipc', 'shareable', image, 'sleep', '1000']);
      const ppid = await pidOf(d, p);
      const joined = (await dkOk(d, ['run', '--rm', '--pid', `container:${p}`, '--ipc', `container:${p}`, image, 'sh', '-c', 'readlink /proc/self/ns/pid; readlink /proc/self/ns/ipc; ps -o args'])).stdout;
      const [pidNs, ipcNs] = lines(joined);
      assert.equal(pidNs, await namespaceOf(ppid, 'pid'));
      assert.equal(ipcNs, await namespaceOf(ppid, 'ipc'));
      assert.match(joined, /^sleep 1000$/m, 'the other container\'s process is visible');

      // A container without a pid namespace of its own: its init's exit
      // does not take its other processes along, yet an exec in it ends
      // when it stops (runc kills what is left in its cgroup).
      const guest = nm('ns-guest');
      await runD(d, ['--name', guest, '--pid', `container:${p}`, image, 'sh', '-c', 'trap "exit 0" TERM; while :; do sleep 0.1; done']);
      const long = watch(d, ['exec', guest, 'sh', '-c', 'echo in; exec sleep 1001']);
      await long.waitFor(/in/);
      await dkOk(d, ['stop', '-t', '5', guest]);
      const ended = await Promise.race([long.done, sleep(10_000).then(() => undefined)]);
      long.stop();
      assert.ok(ended, 'the exec is still attached after its container stopped');
      assert.equal((await inspect(d, guest)).State.ExitCode, 0, 'stopped by its own trap, not killed');
      assert.doesNotMatch((await dkOk(d, ['exec', p, 'ps', '-o', 'args'])).stdout, /sleep 1001/, 'the exec\'s process is gone');
    });

    it('--network none and host', async () => {
      const { d } = daemon();
      const none = await dkOk(d, ['run', '--rm', '--network', 'none', image, 'ls', '/sys/class/net']);
      assert.deepEqual(lines(none.stdout), ['lo']);
      const host = await dkOk(d, ['run', '--rm', '--network', 'host', image, 'ls', '/sys/class/net']);
      assert.deepEqual(lines(host.stdout).sort(), (await readdir('/sys/class/net')).sort());
      const n = nm('hostnet');
      await runD(d, ['--name', n, '--network', 'host', image, 'sleep', '1000']);
      const c = await inspect(d, n);
      assert.equal(c.HostConfig.NetworkMode, 'host');
      assert.deepEqual(Object.keys(c.NetworkSettings.Networks), ['host']);
      assert.equal(await namespaceOf(c.State.Pid, 'net'), await namespaceOf('self', 'net'));
    });

    it('--log-opt max-size/max-file bound what logs keep', async () => {
      const { d } = daemon();
      const n = nm('logopt');
      await dkOk(d, ['run', '--name', n, '--log-opt', 'max-size=10k', '--log-opt', 'max-file=1', image, 'sh', '-c',
        'i=0; while [ $i -lt 2000 ]; do echo "line $i padding padding padding"; i=$((i+1)); done']);
      assert.deepEqual((await inspect(d, n)).HostConfig.LogConfig.Config, { 'max-size': '10k', 'max-file': '1' });
      const out = (await dkOk(d, ['logs', n])).stdout;
      assert.ok(out.length < 30_000, `logs keep at most about max-size (got ${out.length} bytes of ~70000 written)`);
      assert.match(out, /^line 1999 padding padding padding$/m, 'the newest line is kept');
      assert.doesNotMatch(out, /^line 0 /m, 'the oldest are dropped');

      // max-file=3: rotated, not truncated; the newest lines in order without
      // a gap, and a follower sees every line across the rotations.
      const r = nm('logrot');
      await dkOk(d, ['create', '--name', r, '--log-opt', 'max-size=4k', '--log-opt', 'max-file=3', image, 'sh', '-c',
        'i=0; while [ $i -lt 600 ]; do echo "line $i padding"; i=$((i+1)); usleep 10000; done']);
      await dkOk(d, ['start', r]);
      const follower = watch(d, ['logs', '-f', r]); // from the first line, as it runs for 6 s
      await dkOk(d, ['wait', r]);
      const followed = lines((await follower.done).stdout);
      assert.equal(followed.length, 600, 'logs -f saw every line');
      assert.deepEqual(followed.map((l) => Number(l.split(' ')[1])), [...Array(600).keys()]);
      const kept = lines((await dkOk(d, ['logs', r])).stdout).map((l) => Number(l.split(' ')[1]));
      assert.equal(kept[kept.length - 1], 599);
      assert.deepEqual(kept, kept.map((_, i) => kept[0]! + i), 'contiguous');
      // A line takes about 60 bytes on disk: one 4k file holds ~65 lines.
      assert.ok(kept.length > 130 && kept.length < 450, `three files of about 4k keep more than two files' worth and less than everything (${kept.length} lines)`);
    });

    it('--pull missing, never, always', async () => {
      const { d } = daemon();
      const never = await dk(d, ['run', '--rm', '--pull', 'never', pullImage, 'true']);
      assert.equal(never.code, 125, d.diagnose(never));
      assert.match(never.stderr, /No such image/i);
      const missing = await dkOk(d, ['run', '--rm', '--pull', 'missing', pullImage, 'echo', 'ran']);
      assert.equal(missing.stdout, 'ran\n');
      assert.match(missing.stderr, /Unable to find image .* locally/);
      assert.match(missing.stderr, /Pulling from pulltest/);
      const always = await dkOk(d, ['run', '--rm', '--pull', 'always', pullImage, 'echo', 'ran']);
      assert.match(always.stderr, /Pulling from pulltest/);
      assert.match(always.stderr, /Image is up to date/);
      assert.equal(always.stdout, 'ran\n');
      await dkOk(d, ['rmi', pullImage]);
    });
  });

  describe('exit codes', () => {
    it("the process's own exit code", async () => {
      const { d } = daemon();
      assert.equal((await dk(d, ['run', '--rm', image, 'sh', '-c', 'exit 3'])).code, 3);
      assert.equal((await dk(d, ['run', '--rm', image, 'true'])).code, 0);
    });

    it('137 after SIGKILL', async () => {
      const { d } = daemon();
      const n = nm('sigkill');
      const w = watch(d, ['run', '--name', n, image, 'sleep', '1000']);
      await waitFor('the container to run', async () => (await inspect(d, n).catch(() => undefined))?.State.Running);
      await dkOk(d, ['kill', n]);
      const r = await w.done;
      assert.equal(r.code, 137, d.diagnose(r));
      assert.equal((await inspect(d, n)).State.ExitCode, 137);
    });

    it('OOMKilled after an OOM kill', async () => {
      const { d } = daemon();
      const n = nm('oom');
      const r = await dk(d, ['run', '--name', n, '-m', '16m', '--memory-swap', '16m', image, 'sh', '-c', 'x=a; while :; do x=$x$x; done']);
      assert.equal(r.code, 137, d.diagnose(r));
      const s = (await inspect(d, n)).State;
      assert.equal(s.OOMKilled, true);
      assert.equal(s.ExitCode, 137);
    });

    it('125 for engine errors', async () => {
      const { d } = daemon();
      const n = nm('taken');
      await dkOk(d, ['create', '--name', n, image, 'true']);
      const dup = await dk(d, ['run', '--name', n, image, 'true']);
      assert.equal(dup.code, 125, d.diagnose(dup));
      assert.match(dup.stderr, /already in use|Conflict/i);
      const cpus = await dk(d, ['run', '--rm', '--cpuset-cpus', '1000', image, 'true']);
      assert.equal(cpus.code, 125, d.diagnose(cpus));
      const noImage = await dk(d, ['run', '--rm', '--pull', 'never', `${reg.host}/no/such:image`, 'true']);
      assert.equal(noImage.code, 125, d.diagnose(noImage));
    });

    it('126 for a file that cannot be executed, 127 for a missing command', async () => {
      const { d } = daemon();
      const notExec = await dk(d, ['run', '--rm', image, '/etc/passwd']);
      assert.equal(notExec.code, 126, d.diagnose(notExec));
      assert.match(notExec.stderr, /permission denied/i);
      const missing = await dk(d, ['run', '--rm', image, '/no/such/binary']);
      assert.equal(missing.code, 127, d.diagnose(missing));
      assert.match(missing.stderr, /no such file or directory/i);
      const notInPath = await dk(d, ['run', '--rm', image, 'no-such-command']);
      assert.equal(notInPath.code, 127, d.diagnose(notInPath));
      assert.match(notInPath.stderr, /not found/i);
      assert.deepEqual(lines((await dkOk(d, ['ps', '-aq'])).stdout), [], '--rm removed the containers that failed to start');

      // exec: the same codes, the runtime's message in the output, the exec
      // recorded as exited; the container keeps running.
      const n = nm('execcodes');
      await runD(d, ['--name', n, image, 'sleep', '1000']);
      const eNotExec = await dk(d, ['exec', n, '/etc/passwd']);
      assert.equal(eNotExec.code, 126, d.diagnose(eNotExec));
      assert.match(eNotExec.stdout + eNotExec.stderr, /permission denied/i);
      const eMissing = await dk(d, ['exec', n, 'no-such-command']);
      assert.equal(eMissing.code, 127, d.diagnose(eMissing));
      assert.match(eMissing.stdout + eMissing.stderr, /not found/i);
      assert.equal((await inspect(d, n)).State.Running, true);
    });
  });

  describe('restart policies', () => {
    it('on-failure:2 restarts twice, then stays exited; on-failure ignores exit 0', async () => {
      const { d } = daemon();
      const n = nm('onfailure');
      await runD(d, ['--name', n, '--restart', 'on-failure:2', image, 'sh', '-c', 'echo run; exit 3']);
      const c = await waitFor('RestartCount 2 and exited', async () => {
        const x = await inspect(d, n);
        return x.RestartCount === 2 && x.State.Status === 'exited' ? x : undefined;
      });
      assert.equal(c.State.ExitCode, 3);
      await sleep(500);
      assert.equal((await inspect(d, n)).RestartCount, 2, 'no third restart');
      assert.deepEqual(lines((await dkOk(d, ['logs', n])).stdout), ['run', 'run', 'run']);

      const ok = nm('onfailure-ok');
      await runD(d, ['--name', ok, '--restart', 'on-failure', image, 'true']);
      await dkOk(d, ['wait', ok]);
      await sleep(500);
      const x = await inspect(d, ok);
      assert.deepEqual([x.RestartCount, x.State.Status, x.State.ExitCode], [0, 'exited', 0]);
    });

    it('always restarts until stopped by hand', async () => {
      const { d } = daemon();
      const n = nm('always');
      await runD(d, ['--name', n, '--restart', 'always', image, 'sh', '-c', 'echo run; sleep 0.1; exit 0']);
      await waitFor('two restarts', async () => (await inspect(d, n)).RestartCount >= 2);
      await dkOk(d, ['stop', '-t', '1', n]);
      const c = await inspect(d, n);
      assert.equal(c.State.Status, 'exited');
      await sleep(1000);
      const later = await inspect(d, n);
      assert.equal(later.State.Status, 'exited', 'a container stopped by hand stays stopped');
      assert.equal(later.RestartCount, c.RestartCount);
    });
  });

  describe('health checks', () => {
    it('healthy, then unhealthy, with events', async () => {
      const { d } = daemon();
      const since = Math.floor(Date.now() / 1000) - 1;
      const n = nm('health');
      const id = await runD(d, ['--name', n, '--health-cmd', 'test -f /tmp/ok', '--health-interval', '200ms', '--health-retries', '2',
        '--health-timeout', '1s', image, 'sh', '-c', 'touch /tmp/ok; exec sleep 1000']);
      const health = async (): Promise<any> => (await inspect(d, n)).State.Health;
      await waitFor('healthy', async () => (await health())?.Status === 'healthy');
      assert.match((await dkOk(d, ['ps', '--filter', `name=${n}`, '--format', '{{.Status}}'])).stdout, /\(healthy\)/);
      assert.equal(lines((await dkOk(d, ['ps', '-q', '--filter', 'health=healthy'])).stdout).includes(id.slice(0, 12)), true);
      await dkOk(d, ['exec', n, 'rm', '/tmp/ok']);
      await waitFor('unhealthy', async () => (await health())?.Status === 'unhealthy');
      const h = await health();
      assert.ok(h.FailingStreak >= 2, `FailingStreak ${h.FailingStreak}`);
      assert.equal(h.Log.at(-1).ExitCode, 1);
      assert.match((await dkOk(d, ['ps', '--filter', `name=${n}`, '--format', '{{.Status}}'])).stdout, /\(unhealthy\)/);
      const until = Math.ceil(Date.now() / 1000) + 1;
      const ev = await dkOk(d, ['events', '--since', String(since), '--until', String(until), '--filter', `container=${id}`, '--format', '{{json .}}']);
      const actions = lines(ev.stdout).map((l) => JSON.parse(l)).map((e) => e.Action ?? e.status as string);
      const hs = actions.filter((a) => a.startsWith('health_status'));
      assert.equal(hs[0], 'health_status: healthy', actions.join('\n'));
      assert.ok(hs.includes('health_status: unhealthy'), actions.join('\n'));
      assert.ok(hs.indexOf('health_status: unhealthy') > 0);
      assert.ok(actions.includes('start'), actions.join('\n'));
    });

    it('--health-timeout fails a check that hangs', async () => {
      const { d } = daemon();
      const n = nm('health-timeout');
      await runD(d, ['--name', n, '--health-cmd', 'sleep 5', '--health-interval', '100ms', '--health-retries', '1', '--health-timeout', '200ms', image, 'sleep', '1000']);
      const h = await waitFor('unhealthy', async () => {
        const x = (await inspect(d, n)).State.Health;
        return x?.Status === 'unhealthy' ? x : undefined;
      });
      const last = h.Log.at(-1);
      assert.notEqual(last.ExitCode, 0);
      assert.match(last.Output, /timeout|timed out/i);
      const took = Date.parse(last.End) - Date.parse(last.Start);
      assert.ok(took < 2000, `the check was cut off after about 200 ms (took ${took} ms)`);
    });

    it('--health-start-period: failures do not count yet', async () => {
      const { d } = daemon();
      const n = nm('health-start');
      await runD(d, ['--name', n, '--health-cmd', 'false', '--health-interval', '100ms', '--health-retries', '1', '--health-start-period', '30s', image, 'sleep', '1000']);
      const h = await waitFor('three checks', async () => {
        const x = (await inspect(d, n)).State.Health;
        return x?.Log?.length >= 3 ? x : undefined;
      });
      assert.equal(h.Status, 'starting');
      assert.equal(h.FailingStreak, 0);
      assert.ok(h.Log.every((l: any) => l.ExitCode === 1), JSON.stringify(h.Log));
      const c = await inspect(d, n);
      assert.equal(c.Config.Healthcheck.StartPeriod, 30e9);
      assert.deepEqual(c.Config.Healthcheck.Test, ['CMD-SHELL', 'false']);
    });
  });

  describe('a real terminal (tmux)', () => {
    let term: Terminal | undefined;
    afterEach(async () => {
      await term?.close();
      term = undefined;
    });
    const open = async (d: Daemon): Promise<Terminal> => {
      term = await startTerminal({ cols: 100, rows: 40, env: d.clientEnv(), prompt: 'host$ ' });
      await term.waitFor(/host\$$/m);
      return term;
    };

    it('run -it: typing, the window size follows a resize, Ctrl-C, the exit code', async () => {
      const { d } = daemon();
      const t = await open(d);
      const n = nm('tty');
      await t.type(`${DOCKER_BIN} run -it --rm --name ${n} ${image} sh`);
      await t.waitFor(/^\/ # ?$/m);
      await t.type('echo hi-$((40+2))');
      await t.waitFor(/^hi-42$/m);
      const size = await t.size();
      await t.type('stty size');
      await t.waitFor(new RegExp(`^${size.rows} ${size.cols}$`, 'm'));
      await t.resize(120, 30);
      const resized = await t.size();
      assert.notDeepEqual(resized, size);
      // The client forwards SIGWINCH on its own time: ask again until the
      // new size has landed (a few tries at most).
      const sizeLine = new RegExp(`^size-${resized.rows}x${resized.cols}$`, 'm');
      for (let i = 0; ; i++) {
        await t.type('echo size-$(stty size | tr " " x)');
        const ok = await t.waitFor(sizeLine, 1500).then(() => true, () => false);
        if (ok) break;
        if (i === 9) await t.waitFor(sizeLine, 1); // fails, showing the screen
      }
      await t.type('sleep 100');
      await sleep(500);
      await t.keys('C-c');
      await t.type('echo "slept=$?"');
      await t.waitFor(/^slept=130$/m, 5000);
      await t.type('exit 3');
      await t.waitFor(/host\$ ?$/);
      await t.type('echo "rc=$?"');
      await t.waitFor(/^rc=3$/m);
      assert.ok(await waitFor('--rm to remove it', () => gone(d, n), 10_000));
    });

    it('--detach-keys detaches and leaves it running; attach again, exit code from attach', async () => {
      const { d } = daemon();
      const t = await open(d);
      const n = nm('detach');
      await t.type(`${DOCKER_BIN} run -it --detach-keys ctrl-x,x --name ${n} ${image} sh`);
      await t.waitFor(/^\/ # ?$/m);
      await t.type('echo before-$((1+1))');
      await t.waitFor(/^before-2$/m);
      await t.keys('C-x');
      await sleep(100);
      await t.keys('x');
      await t.waitFor(/host\$ ?$/);
      await t.type('echo "detached=$?"');
      await t.waitFor(/^detached=0$/m);
      const c = await inspect(d, n);
      assert.equal(c.State.Running, true, 'the container kept running after detaching');
      await t.type(`${DOCKER_BIN} attach --detach-keys ctrl-x,x ${n}`);
      await sleep(500);
      await t.type('echo again-$((2+2))');
      await t.waitFor(/^again-4$/m);
      await t.type('exit 3');
      await t.waitFor(/host\$ ?$/);
      await t.type('echo "rc=$?"');
      await t.waitFor(/^rc=3$/m);
      assert.equal((await inspect(d, n)).State.ExitCode, 3);
    });
  });

  describe('docker-py (python3-docker)', () => {
    const script = join(REPO_ROOT, 'test/py/containers_scenario.py');
    const scenarios = ['run', 'lifecycle', 'wait_restart_policy', 'exec', 'logs', 'archive', 'stats', 'update', 'list_prune', 'commit_diff_top', 'attach', 'health_events'];

    before(async () => {
      // Every scenario the script has is run here: a new one must be added to the list above.
      const r = await run('python3', [script, '--list']);
      assert.deepEqual(lines(r.stdout), scenarios, r.stderr);
    });

    for (const s of scenarios) {
      it(`docker-py: ${s}`, async () => {
        const { d } = daemon();
        const r = await run('python3', [script, s, image, `${process.pid}-${++counter}`], { env: d.clientEnv(), timeoutMs: 90_000 });
        assert.equal(r.code, 0, d.diagnose(r));
        assert.equal(r.stdout.trim(), `ok ${s}`);
      }, 120_000);
    }
  });
});

// ---- daemon restarts ------------------------------------------------------------

describe('containers across daemon restarts (live restore)', () => {
  const daemon = useDaemon('restart', { liveRestore: true });

  for (const how of ['SIGTERM', 'SIGKILL'] as const) {
    it(`after a daemon ${how}: running containers keep running, exits while down are recorded, --rm ones are removed`, async () => {
      const { d } = daemon();
      const ticker = nm('ticker');
      const quits = nm('quits');
      const autoRm = nm('autorm');
      await runD(d, ['--name', ticker, image, 'sh', '-c', 'trap "echo bye; exit 0" TERM; i=0; while :; do echo "tick $i"; i=$((i+1)); sleep 0.1; done']);
      await runD(d, ['--name', quits, image, 'sh', '-c', 'trap "exit 42" USR1; sleep 1000 & wait']);
      await runD(d, ['--rm', '--name', autoRm, image, 'sh', '-c', 'trap "exit 0" USR1; sleep 1000 & wait']);
      const tickerPid = await pidOf(d, ticker);
      const tickerStart = (await procStat(tickerPid))!.startTime;
      const quitsPid = await pidOf(d, quits);
      const autoRmPid = await pidOf(d, autoRm);
      const lastTick = async (): Promise<number> => Math.max(-1, ...lines((await dkOk(d, ['logs', ticker])).stdout).map((l) => Number(l.split(' ')[1])));
      await waitFor('ticks', async () => (await lastTick()) >= 2);

      if (how === 'SIGTERM') await d.stop();
      else await d.kill9();
      assert.equal(d.running, false);
      assert.ok(await pidAlive(tickerPid), 'the container outlived the daemon');
      process.kill(quitsPid, 'SIGUSR1');
      process.kill(autoRmPid, 'SIGUSR1');
      await waitFor('the two containers to exit while the daemon is down', async () => !(await pidAlive(quitsPid)) && !(await pidAlive(autoRmPid)));
      await d.restart();

      const t = await inspect(d, ticker);
      assert.equal(t.State.Running, true);
      assert.equal(t.State.Pid, tickerPid, 'the same process');
      assert.equal((await procStat(tickerPid))?.startTime, tickerStart, 'not a new process with the same pid');
      const q = await inspect(d, quits);
      assert.equal(q.State.Status, 'exited');
      assert.equal(q.State.ExitCode, 42, 'the real exit code of an exit while the daemon was down');
      assert.ok(await waitFor('the --rm container to be removed', () => gone(d, autoRm), 15_000));
      const running = lines((await dkOk(d, ['ps', '--format', '{{.Names}}'])).stdout);
      assert.deepEqual(running, [ticker]);

      const seen = await lastTick();
      const f = watch(d, ['logs', '-f', ticker]);
      try {
        await f.waitFor(new RegExp(`^tick ${seen + 3}$`, 'm'));
        assert.equal((await dkOk(d, ['exec', ticker, 'echo', 'alive'])).stdout, 'alive\n');
        const w = watch(d, ['wait', ticker]);
        await dkOk(d, ['stop', '-t', '5', ticker]);
        const wr = await w.done;
        assert.equal(wr.stdout.trim(), '0', d.diagnose(wr));
        const fr = await Promise.race([f.done, sleep(10_000).then(() => undefined)]);
        assert.ok(fr, 'logs -f ended with the container');
        assert.match(fr.stdout, /^bye$/m);
      } finally {
        f.stop();
      }
      assert.equal((await inspect(d, ticker)).State.ExitCode, 0);
      assert.equal(await pidAlive(tickerPid), false);
    }, 120_000);
  }

  it('start-up removes what a crash left: a runc container with no record, and its process', async () => {
    const { d, cgroupParent } = daemon();
    await d.stop();
    // What a kill -9 between `runc create` and the record's save leaves.
    const id = randomBytes(32).toString('hex');
    const bundle = join(d.execRoot, 'orphan-bundle');
    await mkdir(join(bundle, 'rootfs', 'bin'), { recursive: true });
    await copyFile('/bin/busybox', join(bundle, 'rootfs', 'bin', 'busybox'));
    await chmod(join(bundle, 'rootfs', 'bin', 'busybox'), 0o755);
    const runcRoot = join(d.execRoot, 'runc');
    (await run('runc', ['spec', '--bundle', bundle])).code === 0 || assert.fail('runc spec');
    const spec = JSON.parse(await readFile(join(bundle, 'config.json'), 'utf8'));
    spec.process.terminal = false;
    spec.process.args = ['/bin/busybox', 'sleep', '1000'];
    spec.linux.cgroupsPath = `${cgroupParent}/orphan`;
    await writeFile(join(bundle, 'config.json'), JSON.stringify(spec));
    // The container's stdio must not be our pipes: it would hold them open.
    const created = spawnSync('runc', ['--root', runcRoot, 'create', '--bundle', bundle, id], { stdio: 'ignore' });
    assert.equal(created.status, 0, 'runc create');
    const orphanPid = JSON.parse((await run('runc', ['--root', runcRoot, 'state', id])).stdout).pid as number;
    assert.ok(await pidAlive(orphanPid));
    await d.restart();
    const listed = (JSON.parse((await run('runc', ['--root', runcRoot, 'list', '--format', 'json'])).stdout || 'null') ?? []) as Array<{ id: string }>; // runc prints null for none
    assert.deepEqual(listed.filter((c) => c.id === id), [], 'the runtime no longer holds it');
    assert.ok(await waitFor('the orphan process to go', async () => !(await pidAlive(orphanPid)), 10_000));
    await removeDir(bundle);
  });

  it('restart policies at daemon start: always comes back, unless-stopped stays stopped', async () => {
    const { d } = daemon();
    const always = nm('always');
    const unless = nm('unless');
    const running = nm('unless-running');
    await runD(d, ['--name', always, '--restart', 'always', image, 'sleep', '1000']);
    await runD(d, ['--name', unless, '--restart', 'unless-stopped', image, 'sleep', '1000']);
    await runD(d, ['--name', running, '--restart', 'unless-stopped', image, 'sleep', '1000']);
    const runningPid = await pidOf(d, running);
    await dkOk(d, ['stop', '-t', '0', always, unless]);
    await d.restart();
    await waitFor('the always container to be started again', async () => (await inspect(d, always)).State.Status === 'running');
    await sleep(1000);
    const u = await inspect(d, unless);
    assert.equal(u.State.Status, 'exited', 'unless-stopped stays stopped after docker stop');
    const r = await inspect(d, running);
    assert.equal(r.State.Running, true);
    assert.equal(r.State.Pid, runningPid, 'a running unless-stopped container is kept, not restarted');
  }, 90_000);
});

// ---- concurrency ------------------------------------------------------------------

describe('concurrency', () => {
  const daemon = useDaemon('burst');

  it('20 parallel run --rm while ps loops: all succeed and nothing is left behind', async () => {
    const { d, cgroupParent } = daemon();
    // The leak checks below can see what they look for: a running container has a monitor and a cgroup.
    const probe = nm('probe');
    await runD(d, ['--name', probe, '--network', 'none', image, 'sleep', '1000']);
    assert.ok((await orphansMentioning(d.execRoot)).length > 0, `a running container's monitor is a child of PID 1 whose command line names the exec root ${d.execRoot}`);
    assert.ok((await cgroupDirsUnder(cgroupParent)).length > 0, `a running container has a cgroup under ${cgroupParent}`);
    await dkOk(d, ['rm', '-f', probe]);

    let stop = false;
    const ps: CmdResult[] = [];
    const loop = (async () => {
      while (!stop) ps.push(await dk(d, ['ps', '-a', '--format', '{{.ID}} {{.Status}}']));
    })();
    const t0 = performance.now();
    const runs = await Promise.all(Array.from({ length: 20 }, () => dk(d, ['run', '--rm', '--network', 'none', image, 'true'], { timeoutMs: 120_000 })));
    const ms = performance.now() - t0;
    stop = true;
    await loop;
    for (const r of runs) assert.equal(r.code, 0, d.diagnose(r));
    assert.ok(ps.length >= 2, `ps ran ${ps.length} times during the burst`);
    for (const r of ps) assert.equal(r.code, 0, d.diagnose(r));
    assert.deepEqual(lines((await dkOk(d, ['ps', '-aq'])).stdout), [], 'no containers remain');
    // (dockerd bind-mounts its data root onto itself when /tmp's propagation is shared: that one is the daemon's.)
    assert.deepEqual((await mountsUnder(d.dataRoot)).filter((m) => m !== d.dataRoot), [], 'no mounts remain under the data root');
    const monitors = await waitFor('monitors to exit', async () => {
      const o = await orphansMentioning(d.execRoot);
      return o.length === 0 ? o : undefined;
    }, 10_000).catch(async () => orphansMentioning(d.execRoot));
    assert.deepEqual(monitors, [], 'no monitor processes remain');
    const cgroups = await waitFor('cgroups to go', async () => {
      const c = await cgroupDirsUnder(cgroupParent);
      return c.length === 0 ? c : undefined;
    }, 10_000).catch(async () => cgroupDirsUnder(cgroupParent));
    assert.deepEqual(cgroups, [], `no cgroups remain under ${cgroupParent}`);
    assert.ok(ms < 60_000, `20 runs took ${ms.toFixed(0)} ms`);
  }, 180_000);
});
