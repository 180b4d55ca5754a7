import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { is } from '../errdefs/index.ts';
import { setLogSink } from '../util/log.ts';
import { createFakeEngine, type FakeEngine } from '../api/docker/fake-engine.ts';
import { requestUnix } from '../api/docker/test-helpers.ts';
import { parseDaemonArgs, type DaemonConfig } from './config.ts';
import { startDaemon } from './daemon.ts';

const logs: string[] = [];
setLogSink((l) => logs.push(l));
const dir = mkdtempSync(join(tmpdir(), 'joey-daemon-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function configFor(name: string): DaemonConfig {
  const r = parseDaemonArgs(['--data-root', join(dir, name, 'data'), '--exec-root', join(dir, name, 'run'), '--config-file', '/dev/null/none'], {
    readFile: () => '{}',
  });
  assert.equal(r.kind, 'run');
  const c = (r as { config: DaemonConfig }).config;
  c.listeners = [{ kind: 'unix', path: join(dir, name, 'run', 'joeyd.sock'), addr: `unix://${join(dir, name, 'run', 'joeyd.sock')}` }];
  return c;
}

test('start: lock, pid file, engine, socket; shutdown undoes all of it', async () => {
  const config = configFor('a');
  let engine!: FakeEngine;
  logs.length = 0;
  const d = await startDaemon(config, {
    version: '9.9.9',
    createEngine: async (ec) => {
      assert.equal(ec.dataRoot, join(dir, 'a', 'data'));
      return (engine = createFakeEngine());
    },
  });
  const sock = config.listeners[0]!.kind === 'unix' ? config.listeners[0]!.path : '';
  assert.deepEqual(d.addrs, [`unix://${sock}`]);
  assert.ok(logs.some((l) => JSON.parse(l).msg === `API listening on unix://${sock}`));
  assert.equal(readFileSync(config.pidfile, 'utf8'), `${process.pid}\n`);
  assert.equal(statSync(sock).mode & 0o777, 0o660);
  const ping = await requestUnix(sock, 'GET', '/_ping');
  assert.equal(ping.body, 'OK');
  assert.equal(ping.headers.server, 'joey/9.9.9');

  // A second daemon on the same data root is refused, whatever its sockets.
  const other = configFor('a');
  other.listeners = [{ kind: 'unix', path: join(dir, 'a2.sock'), addr: `unix://${join(dir, 'a2.sock')}` }];
  other.pidfile = join(dir, 'a2.pid');
  let created = false;
  await assert.rejects(
    startDaemon(other, { version: 'x', createEngine: async () => ((created = true), createFakeEngine()) }),
    (err: unknown) => is(err, 'conflict') && new RegExp(`data root .* is in use by another joeyd \\(pid ${process.pid}\\)`).test((err as Error).message),
  );
  assert.equal(created, false);
  assert.equal(existsSync(join(dir, 'a2.pid')), false);

  // So is one on another data root that would serve the same socket.
  const third = configFor('a3');
  third.listeners = config.listeners;
  await assert.rejects(
    startDaemon(third, { version: 'x', createEngine: async () => ((created = true), createFakeEngine()) }),
    new RegExp(`another daemon is already listening on ${sock}`),
  );
  assert.equal(created, false);

  // An event stream in progress ends cleanly at shutdown.
  const events = new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request({ socketPath: sock, path: '/v1.47/events' }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
  await new Promise((r) => setTimeout(r, 50));
  await d.shutdown();
  assert.deepEqual(await events, { status: 200, body: '' });
  assert.equal(engine.closed, true);
  assert.equal(existsSync(config.pidfile), false);
  assert.equal(existsSync(sock), false);

  // The lock went with it: the data root can be used again.
  const again = await startDaemon(config, { version: 'x', createEngine: async () => createFakeEngine() });
  await again.shutdown();
});

test('a failed start leaves nothing behind', async () => {
  const config = configFor('b');
  await assert.rejects(
    startDaemon(config, {
      version: 'x',
      createEngine: async () => {
        throw new Error('database is corrupt');
      },
    }),
    /database is corrupt/,
  );
  assert.equal(existsSync(config.pidfile), false);
  // Nor does it hold the lock.
  const d = await startDaemon(config, { version: 'x', createEngine: async () => createFakeEngine() });
  await d.shutdown();
});

test('a pid file naming another live process refuses the start', async () => {
  const config = configFor('c');
  const { writeFileSync, mkdirSync } = await import('node:fs');
  mkdirSync(join(dir, 'c', 'run'), { recursive: true });
  writeFileSync(config.pidfile, `${process.ppid}\n`);
  await assert.rejects(startDaemon(config, { version: 'x', createEngine: async () => createFakeEngine() }), /pid file found, ensure joeyd is not running/);
  // A dead pid is overwritten.
  writeFileSync(config.pidfile, '999999999\n');
  const d = await startDaemon(config, { version: 'x', createEngine: async () => createFakeEngine() });
  assert.equal(readFileSync(config.pidfile, 'utf8'), `${process.pid}\n`);
  await d.shutdown();
});

function joeyd(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/daemon/main.ts', ...args], { cwd: join(import.meta.dirname, '..', '..'), timeout: 30_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

test('joeyd --version, --help, and refusing bad configuration', async () => {
  const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
  let r = await joeyd('--version');
  assert.equal(r.code, 0);
  assert.equal(r.stdout, `joeyd version ${pkg.version}\n`);
  r = await joeyd('--help');
  assert.equal(r.code, 0);
  assert.match(r.stdout, /Usage: joeyd/);
  r = await joeyd('--config-file', join(dir, 'none.json'), '-H', 'tcp://127.0.0.1:2376');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /unable to configure the joey daemon with file .*none\.json/);
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(dir, 'empty.json'), '{}');
  r = await joeyd('--config-file', join(dir, 'empty.json'), '--data-root', join(dir, 'd'), '-H', 'tcp://127.0.0.1:2376');
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'joeyd: binding to tcp without TLS is insecure, use --tlsverify\n');
});
