// OCI runtimes beside runc, driven by the docker CLI against a private joeyd:
// a second runc-compatible runtime (a wrapper script that logs its calls and
// execs runc) registered by daemon.json and by flags, per container and as
// the default, across a daemon restart; crun, which this host's hybrid
// cgroup layout makes fail, failing cleanly; and bad runtime settings
// refused at daemon start.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cgroupDirsUnder } from './lib/cgroups.ts';
import { useContainerDaemon } from './lib/containers.ts';
import { JOEYD_BIN, mountsUnder, type Daemon } from './lib/daemon.ts';
import { orphansMentioning, pidAlive } from './lib/host.ts';
import { pushImage } from './lib/images.ts';
import { makeTempDir, removeDir, run, waitFor, type CmdResult } from './lib/proc.ts';
import { startRegistry, type Registry } from './lib/registry.ts';

const RUNC = existsSync('/usr/sbin/runc') ? '/usr/sbin/runc' : '/usr/bin/runc';
const CRUN = '/usr/bin/crun';
/** cgroup v1 controllers beside a cgroup2 mount: the layout crun 1.8 refuses. */
const HYBRID = existsSync('/sys/fs/cgroup/unified') && existsSync('/sys/fs/cgroup/memory');

// Known before the daemons start (their flags name it); made in `before`.
const tools = `/tmp/joey-it-runtimes-${process.pid}`;
const wrapper = join(tools, 'myrunc');
const callLog = join(tools, 'calls.log');

let reg: Registry;
let image: string;

before(async () => {
  await mkdir(tools, { recursive: true });
  // Records each call (its arguments), then becomes runc: same process, same pid.
  await writeFile(wrapper, `#!/bin/sh\necho "$*" >> ${callLog}\nexec ${RUNC} "$@"\n`);
  await chmod(wrapper, 0o755);
  reg = await startRegistry();
  image = (await pushImage(reg, 'busybox')).ref;
});

after(async () => {
  await reg?.stop();
  await removeDir(tools);
});

function it(name: string, fn: () => Promise<void>, timeoutMs = 60_000): void {
  test(name, { timeout: timeoutMs }, fn);
}

const calls = async (): Promise<string[]> => (await readFile(callLog, 'utf8').catch(() => '')).split('\n').filter(Boolean);
/** The wrapper's calls that concern container `id`. */
const callsFor = async (id: string): Promise<string[]> => (await calls()).filter((l) => l.split(' ').includes(id));

async function inspect(d: Daemon, name: string): Promise<any> {
  const [c] = await d.dockerJson<any[]>(['container', 'inspect', name], { timeoutMs: 30_000 });
  return c;
}

async function runD(d: Daemon, args: string[]): Promise<string> {
  const r = await d.dockerOk(['run', '-d', ...args], { timeoutMs: 60_000 });
  const id = r.stdout.trim();
  assert.match(id, /^[0-9a-f]{64}$/, d.diagnose(r));
  return id;
}

/** Ids in a runtime's state dir (its --root), as the runtime itself lists them. */
async function runtimeList(binary: string, root: string): Promise<string[]> {
  const r = await run(binary, ['--root', root, 'list', '-q']);
  return r.stdout.split('\n').filter(Boolean);
}

describe('a second runc-compatible runtime, from daemon.json', () => {
  const daemon = useContainerDaemon('rt-file', () => image, {
    config: { runtimes: { myrunc: { path: wrapper, runtimeArgs: ['--log-format', 'text'] } } },
  });

  it('docker info lists every runtime with its path and args, and the default', async () => {
    const { d } = daemon();
    const info = await d.dockerJson<any>(['info', '--format', '{{json .}}']);
    assert.equal(info.DefaultRuntime, 'runc');
    assert.deepEqual(info.Runtimes.myrunc, { path: wrapper, runtimeArgs: ['--log-format', 'text'] });
    assert.equal(info.Runtimes.runc.path, RUNC);
    if (existsSync(CRUN)) assert.equal(info.Runtimes.crun?.path, CRUN, 'crun is built in where installed');
    const text = (await d.dockerOk(['info'])).stdout;
    assert.match(text, /Runtimes:.*\bmyrunc\b/);
    assert.match(text, /Default Runtime: runc/);
  });

  it('a container runs with --runtime myrunc: run, inspect, exec, logs, stop, rm go through it', async () => {
    const { d } = daemon();
    const id = await runD(d, ['--runtime', 'myrunc', '--name', 'mine', image, 'sh', '-c', 'echo hello; trap "exit 7" TERM; sleep 1000 & wait']);
    assert.equal((await inspect(d, 'mine')).HostConfig.Runtime, 'myrunc');
    const root = join(d.execRoot, 'runtimes', 'myrunc');
    assert.deepEqual(await runtimeList(RUNC, root), [id], 'the container lives in the runtime\'s own state dir');
    assert.ok(!(await runtimeList(RUNC, join(d.execRoot, 'runc'))).includes(id), 'and not in runc\'s');
    const create = (await callsFor(id)).find((l) => / create /.test(` ${l} `));
    assert.ok(create, `the wrapper ran create: ${(await calls()).join('\n')}`);
    assert.match(create, new RegExp(`^--root ${root} --log-format text `), 'the state dir, then runtimeArgs, before the subcommand');

    assert.equal((await d.dockerOk(['exec', 'mine', 'echo', 'from exec'])).stdout, 'from exec\n');
    assert.ok((await callsFor(id)).some((l) => / exec /.test(` ${l} `)), 'exec went through the runtime');
    await waitFor('the log line', async () => (await d.dockerOk(['logs', 'mine'])).stdout === 'hello\n');
    const stats = (await d.dockerOk(['stats', '--no-stream', '--format', '{{.MemUsage}} {{.PIDs}}', 'mine'])).stdout.trim();
    assert.match(stats, /^[\d.]+[KMG]iB \/ .* [1-9]\d*$/, `stats of a container of another runtime: ${stats}`);
    await d.dockerOk(['stop', 'mine'], { timeoutMs: 30_000 });
    const s = (await inspect(d, 'mine')).State;
    assert.equal(s.Status, 'exited');
    assert.equal(s.ExitCode, 7);
    assert.ok((await callsFor(id)).some((l) => / kill /.test(` ${l} `)), 'stop signalled through the runtime');
    assert.deepEqual(await runtimeList(RUNC, root), [], 'the runtime\'s state went at the exit');
    await d.dockerOk(['rm', 'mine']);
    assert.equal((await d.docker(['inspect', 'mine'])).code, 1);
  });

  it('a container without --runtime still gets runc', async () => {
    const { d } = daemon();
    const id = await runD(d, ['--name', 'plain', image, 'sleep', '1000']);
    assert.equal((await inspect(d, 'plain')).HostConfig.Runtime, 'runc');
    assert.deepEqual(await callsFor(id), [], 'the wrapper never saw it');
    assert.ok((await runtimeList(RUNC, join(d.execRoot, 'runc'))).includes(id));
  });

  it('an unknown --runtime is refused, naming it, and nothing is created', async () => {
    const { d } = daemon();
    const before = (await d.dockerOk(['ps', '-aq'])).stdout;
    const r = await d.docker(['run', '--runtime', 'nosuch', '--name', 'bad', image, 'true']);
    assert.equal(r.code, 125, d.diagnose(r));
    assert.match(r.stderr, /unknown or invalid runtime name: nosuch/);
    assert.equal((await d.dockerOk(['ps', '-aq'])).stdout, before);
    const api = await d.api('POST', '/containers/create?name=bad2', { Image: image, Cmd: ['true'], HostConfig: { Runtime: 'nosuch' } });
    assert.equal(api.status, 400, api.text);
    assert.match(api.json<{ message: string }>().message, /nosuch/);
  });

  it('a restart without the runtime defined leaves its container running; defining it again gives it back', async () => {
    const { d } = daemon();
    const cfgFile = join(d.dir, 'daemon.json');
    const cfg = await readFile(cfgFile, 'utf8');
    await runD(d, ['--runtime', 'myrunc', '--name', 'orphaned', image, 'sh', '-c', 'trap "exit 5" TERM; sleep 1000 & wait']);
    const pid = (await inspect(d, 'orphaned')).State.Pid as number;
    try {
      await d.stop();
      await writeFile(cfgFile, '{}');
      await d.restart();
      assert.ok(await pidAlive(pid), 'the container kept running');
      const c = await inspect(d, 'orphaned');
      assert.equal(c.State.Running, true, 'still recorded as running');
      assert.ok(d.logLines().some((l) => l.runtime === 'myrunc' && /does not define/.test(String(l.msg))), 'a warning names the runtime');
      const r = await d.docker(['stop', 'orphaned'], { timeoutMs: 30_000 });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /unknown or invalid runtime name: myrunc/);
    } finally {
      await d.stop();
      await writeFile(cfgFile, cfg);
      await d.restart();
    }
    assert.equal((await inspect(d, 'orphaned')).State.Pid, pid, 're-attached once defined again');
    await d.dockerOk(['stop', 'orphaned'], { timeoutMs: 30_000 });
    assert.equal((await inspect(d, 'orphaned')).State.ExitCode, 5);
  });

  const crunTest = existsSync(CRUN) ? it : (name: string, fn: () => Promise<void>) => test(name, { skip: 'crun is not installed' }, fn);
  crunTest(`--runtime crun ${HYBRID ? 'fails with crun\'s own reason on this hybrid-cgroup host, leaving nothing behind' : 'runs a container'}`, async () => {
    const cd = daemon();
    const { d } = cd;
    if (!HYBRID) {
      const r = await d.dockerOk(['run', '--rm', '--runtime', 'crun', image, 'echo', 'via crun']);
      assert.equal(r.stdout, 'via crun\n');
      return;
    }
    const r: CmdResult = await d.docker(['run', '--runtime', 'crun', '--name', 'viacrun', image, 'echo', 'never']);
    assert.ok(r.code >= 125 && r.code <= 128, `exit ${r.code}\n${d.diagnose(r)}`);
    assert.match(r.stderr, /cgroups in hybrid mode not supported/, 'crun\'s own words reach the user');
    assert.doesNotMatch(r.stdout, /never/);
    const c = await inspect(d, 'viacrun');
    assert.equal(c.State.Status, 'created', 'recorded as never started, as Docker does');
    assert.equal(c.State.Running, false);
    assert.equal(c.State.Pid, 0);
    assert.match(c.State.Error, /hybrid mode/);
    assert.equal(c.HostConfig.Runtime, 'crun');
    // Nothing left: no mount, no cgroup, no runtime state, no monitor.
    assert.deepEqual(await mountsUnder(d.dir), []);
    assert.deepEqual(await cgroupDirsUnder(cd.cgroupParent), []);
    const root = join(d.execRoot, 'runtimes', 'crun');
    assert.deepEqual(existsSync(root) ? await readdir(root) : [], []);
    assert.deepEqual(await orphansMentioning(c.Id), []);
    // A second try fails the same way (nothing half-made in its way), and rm works.
    const again = await d.docker(['start', 'viacrun']);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /cgroups in hybrid mode not supported/);
    await d.dockerOk(['rm', 'viacrun']);
  });
});

describe('a runtime from --add-runtime as --default-runtime, across a daemon restart', () => {
  const daemon = useContainerDaemon('rt-flag', () => image, { args: ['--add-runtime', `myrunc=${wrapper}`, '--default-runtime', 'myrunc'] });

  it('new containers get the default runtime; a restarted joeyd re-attaches to them and can exec into and stop them', async () => {
    const { d } = daemon();
    const info = await d.dockerJson<any>(['info', '--format', '{{json .}}']);
    assert.equal(info.DefaultRuntime, 'myrunc');
    assert.deepEqual(info.Runtimes.myrunc, { path: wrapper });

    const id = await runD(d, ['--name', 'kept', image, 'sh', '-c', 'trap "exit 3" TERM; sleep 1000 & wait']);
    const c = await inspect(d, 'kept');
    assert.equal(c.HostConfig.Runtime, 'myrunc');
    const pid = c.State.Pid as number;
    assert.ok((await callsFor(id)).some((l) => / create /.test(` ${l} `)));

    await d.kill9();
    assert.ok(await pidAlive(pid), 'the container outlived the daemon');
    await d.restart();
    const again = await inspect(d, 'kept');
    assert.equal(again.State.Running, true, 're-attached');
    assert.equal(again.State.Pid, pid, 'the same process');
    assert.deepEqual(await runtimeList(RUNC, join(d.execRoot, 'runtimes', 'myrunc')), [id], 'start-up kept its runtime state');

    const before = (await callsFor(id)).length;
    assert.equal((await d.dockerOk(['exec', 'kept', 'echo', 'still here'])).stdout, 'still here\n');
    await d.dockerOk(['stop', 'kept'], { timeoutMs: 30_000 });
    const s = (await inspect(d, 'kept')).State;
    assert.equal(s.Status, 'exited');
    assert.equal(s.ExitCode, 3);
    assert.ok((await callsFor(id)).length > before, 'exec and stop went through the runtime after the restart');
    assert.equal(await pidAlive(pid), false);
  });

  it('an explicit --runtime runc still picks runc', async () => {
    const { d } = daemon();
    const id = await runD(d, ['--runtime', 'runc', '--name', 'stock', image, 'sleep', '1000']);
    assert.equal((await inspect(d, 'stock')).HostConfig.Runtime, 'runc');
    assert.deepEqual(await callsFor(id), []);
  });
});

describe('bad runtime settings stop joeyd at start, with a clear error', () => {
  let dir: string;
  before(async () => {
    dir = await makeTempDir('joey-it-rtconf-');
    await writeFile(join(dir, 'not-exec'), '#!/bin/sh\n');
    await chmod(join(dir, 'not-exec'), 0o644);
  });
  after(async () => {
    if (dir) await removeDir(dir);
  });

  /** joeyd with private dirs and `args` (plus a daemon.json when given); it must exit non-zero at once. */
  async function refused(args: string[], config: Record<string, unknown>, re: RegExp): Promise<void> {
    const cfg = join(dir, `daemon-${Math.random().toString(36).slice(2)}.json`);
    await writeFile(cfg, JSON.stringify(config));
    const r = await run(process.execPath, [JOEYD_BIN, '--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'), '-H', `unix://${join(dir, 'j.sock')}`, '--config-file', cfg, '--bridge', 'none', ...args], { timeoutMs: 20_000 });
    assert.equal(r.code, 1, `joeyd should refuse to start\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, re);
    assert.equal(existsSync(join(dir, 'data')), false, 'nothing was set up');
  }

  it('a name given twice', () => refused(['--add-runtime', `a=${wrapper}`, '--add-runtime', `a=${RUNC}`], {}, /runtime 'a' was already defined/));
  it('a path that does not exist', () => refused(['--add-runtime', 'a=/nonexistent/runc'], {}, /runtime 'a': \/nonexistent\/runc does not exist/));
  it('a path that is not executable', () => refused([], { runtimes: { a: { path: join(dir, 'not-exec') } } }, /runtime 'a': .*not-exec is not an executable file/));
  it('a default that is not defined', () => refused(['--default-runtime', 'nosuch'], {}, /specified default runtime 'nosuch' does not exist/));
  it('the reserved name runc', () => refused(['--add-runtime', `runc=${wrapper}`], {}, /runtime name 'runc' is reserved/));
  it('runtimes both as flags and in daemon.json', () => refused(['--add-runtime', `a=${wrapper}`], { runtimes: { b: { path: wrapper } } }, /specified both as a flag and in the configuration file: runtimes/));
  it('a containerd shim runtime', () => refused([], { runtimes: { kata: { runtimeType: 'io.containerd.kata.v2' } } }, /"runtimeType" \(a containerd shim\) is not supported/));
});
