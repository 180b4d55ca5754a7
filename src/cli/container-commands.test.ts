// The container commands against the scripted daemon, without docker: what
// joey asks the API, what it prints, and how it exits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startFakeApi } from '../client/fake-api.ts';
import { containerDaemon } from './fake-containers.ts';
import { runJoey } from './testing.ts';
import type { FakeIoOptions } from './testing.ts';

async function setup(t: { after: (fn: () => unknown) => void }) {
  const api = await startFakeApi();
  const d = containerDaemon(api);
  t.after(() => api.close());
  const joey = (argv: string[], opts: FakeIoOptions = {}) => runJoey(argv, { host: api.host, ...opts, env: { JOEY_CONFIG: '/nonexistent', ...opts.env } });
  return { api, d, joey };
}

test('run: stdout and stderr apart, the exit code ours, in docker\'s order of calls', async (t) => {
  const { api, joey } = await setup(t);
  const r = await joey(['run', '--rm', 'busybox', 'echo:out', 'err:err', 'exit:3']);
  assert.deepEqual(r, { code: 3, stdout: 'out\n', stderr: 'err\n' });
  const calls = api.requests.map((q) => `${q.method} ${q.path.replace(/[0-9a-f]{64}/, 'ID')}${q.path.endsWith('/wait') ? `?${q.query}` : ''}`);
  assert.deepEqual(calls, ['POST /containers/create', 'POST /containers/ID/attach', 'POST /containers/ID/wait?condition=removed', 'POST /containers/ID/start']);
  const attach = api.requests[1]!;
  assert.equal(attach.query.toString(), 'stream=1&stdout=1&stderr=1');
});

test('run: a missing image is pulled (progress on stderr) and the create tried again', async (t) => {
  const { api, joey } = await setup(t);
  const r = await joey(['run', 'alpine:3', 'echo:ok']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, 'ok\n');
  assert.match(r.stderr, /^Unable to find image 'alpine:3' locally\nlatest: Pulling from library\/busybox\n(.*\n)*Status: Downloaded newer image for busybox:latest\n$/);
  const pull = api.requests.find((q) => q.path === '/images/create')!;
  assert.equal(pull.query.get('fromImage'), 'docker.io/library/alpine');
  assert.equal(pull.query.get('tag'), '3');
  assert.equal(api.requests.filter((q) => q.path === '/containers/create').length, 2);
});

test('run: start failures map to 127 (not found), 126 (permission), 125 (the rest)', async (t) => {
  const { joey } = await setup(t);
  assert.equal((await joey(['run', 'busybox', 'missing'])).code, 127);
  assert.equal((await joey(['run', 'busybox', 'noperm'])).code, 126);
  const none = await joey(['run', '--pull', 'never', 'nothere']);
  assert.equal(none.code, 125);
  assert.equal(none.stderr, "joey: Error response from daemon: No such image: nothere:latest\n\nRun 'joey run --help' for more information\n");
  const d = await joey(['run', '-d', 'busybox']);
  assert.match(d.stdout, /^[0-9a-f]{64}\n$/);
});

test('logs: frames split to stdout and stderr; a tty container\'s bytes as they are', async (t) => {
  const { api, joey } = await setup(t);
  assert.deepEqual(await joey(['logs', 'web']), { code: 0, stdout: 'line1\nline2\n', stderr: 'warn1\n' });
  assert.deepEqual(await joey(['logs', '-t', 'ttyc']), { code: 0, stdout: '2025-01-01T00:00:00.000000001Z tty line\r\n', stderr: '' });
  await joey(['logs', '-f', '-n', '5', '--since', '1700000000', '--until', '2024-01-02T03:04:05.5Z', 'web']);
  const q = api.requests.at(-1)!.query;
  assert.deepEqual(Object.fromEntries(q), { stdout: '1', stderr: '1', since: '1700000000', until: '1704164645.500000000', follow: '1', tail: '5' });
});

test('export -o and cp to "-": the daemon\'s bytes, untouched', async (t) => {
  const { joey } = await setup(t);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'joey-export-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'web.tar');
  const r = await joey(['export', '-o', file, 'web']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(file, 'utf8'), 'EXPORTED-TAR');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const tty = await joey(['export', 'web'], { stdoutTTY: true });
  assert.equal(tty.stderr, 'cowardly refusing to save to a terminal. Use the -o flag or redirect\n');
  const cp = await joey(['cp', 'web:/etc/hostname', '-']);
  assert.equal(cp.code, 0);
  assert.equal(cp.stdout.slice(0, 8), 'hostname');
});

test('cp from the container: a directory lands under the name asked for, modes and times kept', async (t) => {
  const { joey } = await setup(t);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'joey-cp-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const r = await joey(['cp', 'web:/data', path.join(dir, 'copy')]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(path.join(dir, 'copy/a.txt'), 'utf8'), 'alpha\n');
  assert.equal(readFileSync(path.join(dir, 'copy/sub/b.txt'), 'utf8'), 'beta\n');
  assert.equal(statSync(path.join(dir, 'copy/sub')).mode & 0o777, 0o700);
  assert.equal(statSync(path.join(dir, 'copy/a.txt')).mtime.toISOString(), '2024-05-01T12:00:00.000Z');
  assert.ok(!existsSync(path.join(dir, 'copy/data')));
  const again = await joey(['cp', 'web:/data', path.join(dir, 'copy/a.txt')]);
  assert.equal(again.code, 1);
  assert.equal(again.stderr, 'cannot copy directory\n');
});

test('rm -f reports a missing container without failing; stop fails with every error', async (t) => {
  const { joey } = await setup(t);
  assert.deepEqual(await joey(['rm', '-f', 'nope', 'web']), { code: 0, stdout: 'web\n', stderr: 'Error response from daemon: No such container: nope\n' });
  assert.deepEqual(await joey(['stop', 'nope1', 'ttyc', 'nope2']), {
    code: 1,
    stdout: 'ttyc\n',
    stderr: 'Error response from daemon: No such container: nope1\nError response from daemon: No such container: nope2\n',
  });
  const running = await joey(['rm', 'ttyc']);
  assert.equal(running.code, 1);
  assert.match(running.stderr, /container is running: stop the container before removing or force remove\n$/);
});

test('container subcommands and their aliases reach the same commands', async (t) => {
  const { joey } = await setup(t);
  const ls = await joey(['container', 'ls', '-q']);
  for (const argv of [['container', 'list', '-q'], ['container', 'ps', '-q'], ['ps', '-q']]) assert.deepEqual(await joey(argv), ls);
  assert.deepEqual(await joey(['container', 'remove', '-f', 'web']), { code: 0, stdout: 'web\n', stderr: '' });
  const help = await joey(['container', 'ls', '--help']);
  assert.match(help.stdout, /\nAliases:\n {2}joey container ls, joey container list, joey container ps, joey ps\n/);
  const runHelp = await joey(['run', '--help']);
  assert.match(runHelp.stdout, /^Usage: {2}joey run \[OPTIONS\] IMAGE \[COMMAND\] \[ARG\.\.\.\]\n/);
  assert.match(runHelp.stdout, /\n {6}--help +Print usage\n/);
  assert.match(runHelp.stdout, /\n {2}-h, --hostname string +Container host name\n/);
  const unknown = await joey(['container', 'bogus']);
  assert.equal(unknown.stderr, "joey: unknown command: joey container bogus\n\nUsage:  joey container COMMAND\n\nRun 'joey container --help' for more information\n");
});

test('flags after the image belong to the command', async (t) => {
  const { api, joey } = await setup(t);
  const r = await joey(['run', '--name', 'n1', '-e', 'A=1', 'busybox', 'echo:x', '-d', '--rm', '-e=1']);
  assert.equal(r.code, 0, r.stderr);
  const body = JSON.parse(api.requests.find((q) => q.path === '/containers/create')!.body.toString());
  assert.deepEqual(body.Cmd, ['echo:x', '-d', '--rm', '-e=1']);
  assert.deepEqual(body.Env, ['A=1']);
  assert.equal(body.HostConfig.AutoRemove, false);
});
