// Real conmon + runc on a busybox rootfs (root only).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { access, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { is } from '../../errdefs/index.ts';
import { AttachConnection } from '../../sys/attach.ts';
import { cgroupPaths, readCgroupLimits } from '../../sys/cgroups.ts';
import { isAlive } from '../../sys/proc.ts';
import type { AttachPacket } from '../../sys/attach.ts';
import { watchExits } from './exits.ts';
import type { ConmonCreated } from './runtime.ts';
import { Sandbox, canRunContainers, waitFor } from './testing.ts';

const skip = canRunContainers();
const MiB = 1024 * 1024;

describe('ConmonRuntime (conmon + runc)', { skip }, () => {
  let sb: Sandbox;
  let n = 0;
  const newId = (tag: string) => `${tag}-${process.pid}-${n++}`;

  before(() => {
    sb = new Sandbox('rt');
  });
  after(async () => {
    await sb?.cleanup();
  });

  async function create(tag: string, args: string[], o: { stdin?: boolean; tty?: boolean; memoryLimit?: number } = {}) {
    const id = newId(tag);
    const paths = sb.paths(id);
    const created = (await sb.runtime.create({
      id,
      name: tag,
      spec: sb.spec(args, { id, terminal: o.tty, memoryLimit: o.memoryLimit }),
      paths,
      stdin: !!o.stdin,
      tty: !!o.tty,
    })) as ConmonCreated;
    sb.track(created.monitorPid);
    return { id, paths, created };
  }

  const exitOf = (id: string, paths: ReturnType<Sandbox['paths']>) => waitFor(() => sb.runtime.exitCode(id, paths), `exit of ${id}`);

  async function collect(conn: AttachConnection): Promise<{ out: string; err: string }> {
    let out = '';
    let err = '';
    for await (const p of conn.packets()) {
      if (p.stream === 1) out += p.data.toString();
      else err += p.data.toString();
    }
    return { out, err };
  }

  test('runs a process: exit code from the exit file, both streams in the k8s-file log', async () => {
    const { id, paths, created } = await create('exit', ['sh', '-c', 'echo hi; echo err >&2; exit 3']);
    assert.ok(created.pid > 0 && created.monitorPid > 0 && created.monitorStartTime !== null);
    assert.equal((await sb.runtime.state(id)).status, 'created');
    await sb.runtime.start(id);
    assert.equal(await exitOf(id, paths), 3);
    const log = await readFile(paths.logPath, 'utf8');
    assert.match(log, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}\+00:00 stdout F hi$/m);
    assert.match(log, / stderr F err$/m);
    assert.equal((await sb.runtime.state(id)).status, 'stopped');
    assert.equal(await sb.runtime.oomKilled(paths), false);
    await sb.runtime.delete(id);
    await assert.rejects(sb.runtime.state(id), (e) => is(e, 'not-found'));
  });

  test('start without a runc process: the exec fifo is read and removed; a second start is refused; a dead init is reported', async () => {
    const { id, paths } = await create('fifo', ['sh', '-c', 'exit 4']);
    const fifo = join(sb.runtime.runc.root, id, 'exec.fifo');
    await access(fifo);
    await sb.runtime.start(id);
    await assert.rejects(access(fifo), /ENOENT/);
    assert.equal(await exitOf(id, paths), 4);
    await assert.rejects(sb.runtime.start(id), (e) => is(e, 'conflict') || is(e, 'internal'));
    await sb.runtime.delete(id);

    // runc's init killed between create and start: start fails (no hang).
    const dead = await create('fifo-dead', ['true']);
    process.kill(dead.created.pid, 'SIGKILL');
    await assert.rejects(sb.runtime.start(dead.id), /dead|stopped|not running|cannot start/);
    await sb.runtime.delete(dead.id, { force: true });
  });

  test('delete after an exit goes without runc: cgroups and state gone; a running container is left to runc', async () => {
    const { id, paths } = await create('del', ['sh', '-c', 'mkdir -p /tmp && exit 0']);
    const cg = await cgroupPaths(`${sb.cgroupParent}/${id}`);
    const dirs = [...Object.values(cg.v1), ...(cg.unified ? [cg.unified] : [])];
    assert.ok(dirs.length > 0 && dirs.every((d) => existsSync(d)), 'runc made the cgroups');
    // A live init: not for the shortcut.
    assert.equal(await sb.runtime.runc.deleteStopped(id), false);
    assert.ok(existsSync(join(sb.runtime.runc.root, id)));
    await sb.runtime.start(id);
    assert.equal(await exitOf(id, paths), 0);
    assert.equal(await sb.runtime.runc.deleteStopped(id), true);
    assert.deepEqual(dirs.filter((d) => existsSync(d)), [], 'every cgroup of the container is gone');
    assert.equal(existsSync(join(sb.runtime.runc.root, id)), false);
    await assert.rejects(sb.runtime.state(id), (e) => is(e, 'not-found'));
    await sb.runtime.delete(id); // nothing left: done
  });

  test('SIGKILL gives 137', async () => {
    const { id, paths } = await create('kill', ['sleep', '1000']);
    await sb.runtime.start(id);
    assert.equal((await sb.runtime.state(id)).status, 'running');
    await sb.runtime.kill(id, 'KILL');
    assert.equal(await exitOf(id, paths), 137);
    await sb.runtime.delete(id);
  });

  test('an OOM kill gives 137 and oomKilled', async () => {
    const { id, paths } = await create('oom', ['sh', '-c', 'x=a; while true; do x=$x$x; done'], { memoryLimit: 8 * MiB });
    await sb.runtime.start(id);
    assert.equal(await exitOf(id, paths), 137);
    assert.equal(await sb.runtime.oomKilled(paths), true);
    await sb.runtime.delete(id);
  });

  test('a failed create carries runc’s message and leaves no container behind', async () => {
    const id = newId('fail');
    const paths = sb.paths(id);
    await assert.rejects(
      sb.runtime.create({ id, name: 'fail', spec: sb.spec(['/nonexistent'], { id }), paths, stdin: false, tty: false }),
      (e: Error) => /exec: "\/nonexistent": stat \/nonexistent: no such file or directory/.test(e.message),
    );
    await assert.rejects(sb.runtime.state(id), (e) => is(e, 'not-found'));
    assert.equal(await sb.runtime.exitCode(id, paths), undefined);
  });

  test('containers outlive the process that created them (live restore)', async () => {
    const id = newId('live');
    const paths = sb.paths(id);
    // A separate Node process creates and starts the container, then exits.
    const script = `
      import { ConmonRuntime } from ${JSON.stringify(fileURLToPath(new URL('./runtime.ts', import.meta.url)))};
      import { testSpec } from ${JSON.stringify(fileURLToPath(new URL('./testing.ts', import.meta.url)))};
      const rt = new ConmonRuntime({ name: 'runc', runtimePath: '/usr/sbin/runc', runtimeRoot: ${JSON.stringify(sb.runcRoot)}, conmonPath: '/usr/bin/conmon' });
      const c = await rt.create({ id: ${JSON.stringify(id)}, name: 'live', paths: ${JSON.stringify(paths)}, stdin: false, tty: false,
        spec: testSpec({ args: ['sleep', '1000'], rootfs: ${JSON.stringify(sb.rootfs)}, cgroupsPath: ${JSON.stringify(`${sb.cgroupParent}/${id}`)} }) });
      await rt.start(${JSON.stringify(id)});
      process.stdout.write(JSON.stringify(c));
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b));
    const code = await new Promise((r) => child.on('close', r));
    assert.equal(code, 0);
    const created = JSON.parse(out) as ConmonCreated;
    sb.track(created.monitorPid);

    const rt = sb.newRuntime();
    assert.equal(await rt.monitorAlive(created.monitorPid, created.monitorStartTime), true);
    assert.equal(await rt.monitorAlive(created.monitorPid), true);
    assert.deepEqual(await rt.state(id), { status: 'running', pid: created.pid });
    assert.equal(await rt.exitCode(id, paths), undefined);
    const stats = await rt.stats(id); // finds the cgroup without having created it
    assert.ok(stats.memory.usage > 0);
    await rt.kill(id, 'KILL');
    assert.equal(await waitFor(() => rt.exitCode(id, paths), 'exit'), 137);
    await waitFor(async () => ((await isAlive(created.monitorPid)) ? undefined : true), 'conmon to exit');
    assert.equal(await rt.monitorAlive(created.monitorPid, created.monitorStartTime), false);
    await rt.delete(id);
  });

  test('attach: stdin in, stdout out, closing stdin ends `cat`', async () => {
    const { id, paths } = await create('attach', ['cat'], { stdin: true });
    const conn = await AttachConnection.connect(join(paths.bundle, 'attach'));
    await sb.runtime.start(id);
    await conn.write('hello\n');
    const it = conn.packets();
    const first = (await it.next()).value as AttachPacket;
    assert.deepEqual({ stream: first.stream, data: first.data.toString() }, { stream: 1, data: 'hello\n' });
    await conn.closeStdin();
    assert.equal(await exitOf(id, paths), 0);
    assert.equal((await it.next()).done, true); // conmon closes clients at exit
    conn.close();
    await sb.runtime.delete(id);
  });

  test('tty: a resize through ctl reaches the running container', async () => {
    // The ctl FIFO is asynchronous: poll the size until the new one shows.
    const { id, paths } = await create('tty', ['sh', '-c', 'while :; do stty size; sleep 0.02; done'], { tty: true });
    await sb.runtime.start(id);
    const logShows = (size: string) => waitFor(async () => ((await readFile(paths.logPath, 'utf8')).includes(` stdout F ${size}\r\n`) ? true : undefined), size);
    await sb.runtime.resize(paths, 40, 100);
    await logShows('40 100');
    await sb.runtime.resize(paths, 25, 80);
    await logShows('25 80');
    await sb.runtime.kill(id, 'KILL');
    assert.equal(await exitOf(id, paths), 137);
    await sb.runtime.delete(id);
  });

  test('reopenLog: after a rename, new lines go to a fresh file', async () => {
    const { id, paths } = await create('logs', ['sh', '-c', 'echo one; read x; echo two'], { stdin: true });
    const conn = await AttachConnection.connect(join(paths.bundle, 'attach'));
    await sb.runtime.start(id);
    await waitFor(async () => ((await readFile(paths.logPath, 'utf8')).includes('F one') ? true : undefined), 'first line');
    await rename(paths.logPath, `${paths.logPath}.1`);
    await sb.runtime.reopenLog(paths);
    await new Promise((r) => setTimeout(r, 50));
    await conn.write('\n');
    assert.equal(await exitOf(id, paths), 0);
    conn.close();
    assert.match(await readFile(`${paths.logPath}.1`, 'utf8'), /F one/);
    const fresh = await readFile(paths.logPath, 'utf8');
    assert.match(fresh, /F two/);
    assert.doesNotMatch(fresh, /F one/);
    await sb.runtime.delete(id);
  });

  test('exec: detached exit code, attached output, tty size, failures', async () => {
    const { id, paths } = await create('exec', ['sleep', '1000']);
    await sb.runtime.start(id);
    const execDir = (s: string) => join(paths.bundle, 'execs', s);
    const process0 = { user: { uid: 0, gid: 0 }, env: ['PATH=/bin'], cwd: '/' };

    const d = await sb.runtime.exec(id, { process: { ...process0, args: ['sh', '-c', 'exit 5'] }, tty: false, stdin: false, dir: execDir('d'), detach: true });
    sb.track(d.monitorPid);
    assert.equal(d.attachSocket, undefined);
    assert.equal(await d.exited, 5);
    assert.equal((await readFile(join(execDir('d'), id), 'utf8')).trim(), '5');

    let conn: AttachConnection | undefined;
    const a = await sb.runtime.exec(id, {
      process: { ...process0, args: ['sh', '-c', 'echo from-exec; echo e >&2'] },
      tty: false,
      stdin: false,
      dir: execDir('a'),
      detach: false,
      beforeStart: async (sock) => {
        conn = await AttachConnection.connect(sock);
      },
    });
    sb.track(a.monitorPid);
    assert.equal(a.attachSocket, join(execDir('a'), 'attach'));
    const got = await collect(conn!);
    assert.deepEqual(got, { out: 'from-exec\n', err: 'e\n' });
    assert.equal(await a.exited, 0);

    let tconn: AttachConnection | undefined;
    const t = await sb.runtime.exec(id, {
      process: { ...process0, args: ['sh', '-c', 'while :; do stty size; sleep 0.02; done'] },
      tty: true,
      stdin: false,
      dir: execDir('t'),
      detach: false,
      beforeStart: async (sock) => {
        tconn = await AttachConnection.connect(sock);
      },
    });
    sb.track(t.monitorPid);
    await t.resize(30, 90);
    let seen = '';
    for await (const p of tconn!.packets()) {
      assert.equal(p.stream, 1); // a tty has one stream
      seen += p.data.toString();
      if (seen.includes('30 90\r\n')) break;
    }
    tconn!.close();
    process.kill(t.pid, 'SIGKILL'); // a host pid
    assert.equal(await t.exited, 137);

    // A failed attach stops the exec before it runs.
    const marker = join(sb.rootfs, 'tmp', `ran-${id}`);
    await assert.rejects(
      sb.runtime.exec(id, {
        process: { ...process0, args: ['sh', '-c', `echo > /tmp/ran-${id}`] },
        tty: false,
        stdin: false,
        dir: execDir('x'),
        detach: false,
        beforeStart: async () => {
          throw new Error('client went away');
        },
      }),
      /client went away/,
    );
    await new Promise((r) => setTimeout(r, 200));
    await assert.rejects(readFile(marker), { code: 'ENOENT' });

    await assert.rejects(
      sb.runtime.exec(id, { process: { ...process0, args: ['/nonexistent'] }, tty: false, stdin: false, dir: execDir('f'), detach: true }),
      (e: Error) => /no such file or directory/.test(e.message),
    );
    // The container's own exit file was not touched by the execs.
    assert.equal(await sb.runtime.exitCode(id, paths), undefined);
    await sb.runtime.kill(id, 9);
    assert.equal(await exitOf(id, paths), 137);
    await sb.runtime.delete(id);
  });

  test('exec kill: the exec\'s process and the children it waits for go; the container stays', async () => {
    const { id, paths } = await create('execkill', ['sleep', '1000']);
    await sb.runtime.start(id);
    const init = (await sb.runtime.state(id)).pid;
    const process0 = { user: { uid: 0, gid: 0 }, env: ['PATH=/bin'], cwd: '/' };
    const dir = join(paths.bundle, 'execs', 'k');
    const ex = await sb.runtime.exec(id, { process: { ...process0, args: ['sh', '-c', 'sleep 1000 & sleep 1000; echo never'] }, tty: false, stdin: false, dir, detach: true });
    sb.track(ex.monitorPid);
    await waitFor(async () => ((await sb.runtime.pids(id)).length === 4 ? true : undefined), 'the exec and its two children');
    await ex.kill();
    assert.equal(await ex.exited, 137);
    assert.deepEqual(await waitFor(async () => {
      const left = await sb.runtime.pids(id);
      return left.length === 1 ? left : undefined;
    }, 'only the init left'), [init]);
    // Once it has ended, a kill does nothing (its pid may be another process's by then).
    await ex.kill();
    assert.equal((await sb.runtime.state(id)).status, 'running');
    await sb.runtime.kill(id, 9);
    assert.equal(await exitOf(id, paths), 137);
    await sb.runtime.delete(id);
  });

  test('pause/resume, update, pids and stats act on the cgroup', async () => {
    const { id, paths } = await create('res', ['sh', '-c', 'sleep 1000 & sleep 1000 & wait'], { memoryLimit: 64 * MiB });
    await sb.runtime.start(id);
    const cg = await cgroupPaths(`${sb.cgroupParent}/${id}`);
    assert.equal(readCgroupLimits(cg).memoryLimit, 64 * MiB);

    await sb.runtime.pause(id);
    assert.equal((await sb.runtime.state(id)).status, 'paused');
    assert.equal(readCgroupLimits(cg).frozen, true);
    await assert.rejects(sb.runtime.pause(id), (e) => is(e, 'conflict'));
    await sb.runtime.resume(id);
    assert.equal((await sb.runtime.state(id)).status, 'running');
    assert.equal(readCgroupLimits(cg).frozen, false);

    await sb.runtime.update(id, { memory: { limit: 96 * MiB }, pids: { limit: 50 }, cpu: { quota: 50000, period: 100000 } });
    const lim = readCgroupLimits(cg);
    assert.equal(lim.memoryLimit, 96 * MiB);
    assert.equal(lim.pidsMax, 50);
    assert.equal(lim.cpuQuota, 50000);

    const st = await sb.runtime.state(id);
    const pids = await waitFor(async () => {
      const p = await sb.runtime.pids(id);
      return p.length >= 3 ? p : undefined;
    }, 'three processes');
    assert.ok(pids.includes(st.pid));

    const viaRunc = await sb.runtime.runc.stats(id); // the fallback source agrees
    assert.equal(viaRunc.memory?.usage?.limit, 96 * MiB);

    const s = await sb.runtime.stats(id);
    assert.ok(s.memory.usage > 0);
    assert.equal(s.memory.limit, 96 * MiB);
    assert.equal(s.pids.current, 3);
    assert.equal(s.pids.limit, 50);
    assert.ok(s.cpu.usageNs > 0);
    assert.ok(!Number.isNaN(Date.parse(s.read)));

    await sb.runtime.kill(id, 'KILL', { all: true });
    assert.equal(await exitOf(id, paths), 137);
    await sb.runtime.delete(id);
    await assert.rejects(sb.runtime.stats(id), (e) => is(e, 'not-found'));
  });

  test('the exit command runs after the exit, and a bad log path fails the create', async () => {
    const marker = join(sb.dir, 'exit-command-ran');
    const id = newId('excmd');
    const paths = sb.paths(id);
    const c = await sb.runtime.create({ id, name: 'excmd', spec: sb.spec(['true'], { id }), paths, stdin: false, tty: false, exitCommand: ['/bin/sh', '-c', `echo ran > ${marker}`] });
    sb.track(c.monitorPid);
    await sb.runtime.start(id);
    await waitFor(() => readFile(marker, 'utf8').catch(() => undefined), 'the exit command');
    assert.equal(await exitOf(id, paths), 0);
    await sb.runtime.delete(id);

    const bad = newId('badlog');
    await assert.rejects(
      sb.runtime.create({ id: bad, name: 'badlog', spec: sb.spec(['true'], { id: bad }), paths: { ...sb.paths(bad), logPath: join(sb.dir, 'missing', 'log') }, stdin: false, tty: false }),
      /Failed to open log file/,
    );
  });

  test('watchExits reports each exit once, including exits from before the watch', async () => {
    const seen: string[] = [];
    const first = await create('w1', ['true']);
    await sb.runtime.start(first.id);
    await exitOf(first.id, first.paths);
    const stop = watchExits(sb.exitDir, (id) => seen.push(id), { rescanMs: 200 });
    try {
      const second = await create('w2', ['sh', '-c', 'exit 7']);
      await sb.runtime.start(second.id);
      await waitFor(async () => (seen.includes(second.id) ? true : undefined), 'the watch to see the exit');
      assert.ok(seen.includes(first.id));
      await new Promise((r) => setTimeout(r, 300)); // a re-scan must not report again
      assert.equal(seen.filter((s) => s === second.id).length, 1);
      await sb.runtime.delete(first.id);
      await sb.runtime.delete(second.id);
    } finally {
      stop();
    }
  });
});
