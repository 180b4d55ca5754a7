import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { conflict } from '../../errdefs/index.ts';
import { setLogSink } from '../../util/log.ts';
import { createFakeEngine } from './fake-engine.ts';
import { C1_ID } from './fake-containers.ts';
import { muxFrame } from './hijack.ts';
import { demux, rawRequest, startTestServer } from './test-helpers.ts';

setLogSink(() => {});

const engine = createFakeEngine();
const fake = engine.fakeContainers;
const srv = await startTestServer(engine);
after(() => srv.close());

function lastCall(method: string): unknown[] {
  const c = engine.calls.filter((x) => x.method === method).at(-1);
  assert.ok(c, `no call to ${method}`);
  return c.args;
}

async function createContainer(body: Record<string, unknown>, name?: string): Promise<string> {
  const r = await srv.request('POST', `/v1.47/containers/create${name ? `?name=${name}` : ''}`, {
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ Image: 'busybox', ...body }),
  });
  assert.equal(r.status, 201, r.body);
  return (r.json() as { Id: string }).Id;
}

test('create: 201 {Id, Warnings}; name and platform go to the engine; a string Cmd is a list of one', async () => {
  const r = await srv.request('POST', '/v1.47/containers/create?name=/web-1&platform=linux/amd64', {
    body: JSON.stringify({ Image: 'busybox', Cmd: 'top', Env: ['A=1'], HostConfig: { Memory: 1024, AutoRemove: false }, Labels: null }),
  });
  assert.equal(r.status, 201);
  const body = r.json() as { Id: string; Warnings: string[] };
  assert.match(body.Id, /^[0-9a-f]{64}$/);
  assert.deepEqual(body.Warnings, []);
  assert.deepEqual(lastCall('containers.create'), [
    { Image: 'busybox', Cmd: ['top'], Env: ['A=1'], HostConfig: { Memory: 1024, AutoRemove: false } },
    { name: 'web-1', platform: 'linux/amd64' },
  ]);
});

test('create: invalid names, bodies and field types are 400s naming the problem', async () => {
  const cases: Array<[string, string, string]> = [
    ['?name=a', '{"Image":"busybox"}', 'Invalid container name (a), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed'],
    ['?name=bad%20name', '{"Image":"busybox"}', 'Invalid container name (bad name), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed'],
    ['?name=_x', '{"Image":"busybox"}', 'Invalid container name (_x), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed'],
    ['', '', 'config cannot be empty in order to create a container'],
    ['', '[1]', 'invalid request body: expected a JSON object'],
    ['', '{"Image":"busybox","Cmd":5}', 'invalid Cmd: expected a string or a list of strings, got 5'],
    ['', '{"Image":"busybox","Tty":"yes"}', 'invalid Tty: expected a boolean, got "yes"'],
    ['', '{"Image":"busybox","HostConfig":{"Memory":"1g"}}', 'invalid HostConfig.Memory: expected an integer, got "1g"'],
    ['', '{"Image":"busybox","HostConfig":[]}', 'invalid HostConfig: expected a JSON object'],
    ['', '{"Image":"busybox","Labels":{"a":1}}', 'invalid Labels: expected an object of strings, got {"a":1}'],
  ];
  for (const [q, body, message] of cases) {
    const r = await srv.request('POST', `/containers/create${q}`, { body });
    assert.equal(r.status, 400, `${q} ${body}`);
    assert.deepEqual(r.json(), { message });
  }
});

test('create: a missing image is 404 "No such image" (the CLI pulls on it); a taken name 409', async () => {
  let r = await srv.request('POST', '/containers/create', { body: '{"Image":"alpine:3.19"}' });
  assert.equal(r.status, 404);
  assert.deepEqual(r.json(), { message: 'No such image: alpine:3.19' });
  r = await srv.request('POST', '/containers/create?name=c1', { body: '{"Image":"busybox"}' });
  assert.equal(r.status, 409);
  assert.match((r.json() as { message: string }).message, /The container name "\/c1" is already in use/);
});

test('list: docker-py parameters, legacy since/before, limit, filters', async () => {
  let r = await srv.request('GET', '/v1.47/containers/json?all=1&size=0&trunc_cmd=0&limit=-1');
  assert.equal(r.status, 200);
  assert.deepEqual(lastCall('containers.list'), [{ all: true, limit: undefined, size: false, filters: undefined }]);
  assert.ok((r.json() as Array<{ Id: string }>).some((c) => c.Id === C1_ID));
  r = await srv.request('GET', '/containers/json?limit=2&size=True&since=abc&filters=' + encodeURIComponent('{"status":{"running":true},"since":["x"]}'));
  assert.equal(r.status, 200);
  assert.deepEqual(lastCall('containers.list'), [{ all: false, limit: 2, size: true, filters: { status: ['running'], since: ['x', 'abc'] } }]);
  for (const [q, msg] of [
    ['all=maybe', 'invalid boolean value for all: "maybe"'],
    ['limit=ten', 'invalid value for limit: "ten" is not an integer'],
    ['limit=1.5', 'invalid value for limit: "1.5" is not an integer'],
    ['filters=%7B', 'invalid filter: invalid JSON'],
  ]) {
    r = await srv.request('GET', `/containers/json?${q}`);
    assert.equal(r.status, 400, q);
    assert.ok((r.json() as { message: string }).message.startsWith(msg!), r.body);
  }
});

test('inspect, top, changes: their JSON; unknown containers 404', async () => {
  let r = await srv.request('GET', '/containers/c1/json?size=1');
  assert.equal(r.status, 200);
  assert.equal((r.json() as { Id: string }).Id, C1_ID);
  assert.deepEqual(lastCall('containers.inspect'), ['c1', { size: true }]);
  r = await srv.request('GET', '/containers/c1/top?ps_args=aux');
  assert.deepEqual((r.json() as { Titles: string[] }).Titles.slice(0, 2), ['UID', 'PID']);
  assert.deepEqual(lastCall('containers.top'), ['c1', 'aux']);
  r = await srv.request('GET', '/containers/c1/changes');
  assert.deepEqual(r.json(), [
    { Path: '/tmp', Kind: 0 },
    { Path: '/tmp/new', Kind: 1 },
  ]);
  for (const p of ['/containers/nope/json', '/containers/nope/top', '/containers/nope/logs?stdout=1', '/containers/nope/stats?stream=0']) {
    r = await srv.request('GET', p);
    assert.equal(r.status, 404, p);
    assert.deepEqual(r.json(), { message: 'No such container: nope' });
  }
});

test('lifecycle: start 204 then 304, stop 204 then 304, restart/kill/pause/unpause/rename 204, remove 204', async () => {
  const id = await createContainer({ Cmd: ['top'] }, 'life');
  assert.equal((await srv.request('POST', `/containers/${id}/start`)).status, 204);
  const again = await srv.request('POST', '/containers/life/start');
  assert.equal(again.status, 304);
  assert.equal(again.body, '');
  assert.equal((await srv.request('POST', '/containers/life/pause')).status, 204);
  assert.equal(fake.find('life').status, 'paused');
  assert.equal((await srv.request('POST', '/containers/life/unpause')).status, 204);
  assert.equal((await srv.request('POST', '/containers/life/restart?t=1&signal=SIGINT')).status, 204);
  assert.deepEqual(lastCall('containers.restart'), ['life', { timeout: 1, signal: 'SIGINT' }]);
  assert.equal((await srv.request('POST', '/containers/life/kill?signal=HUP')).status, 204);
  assert.deepEqual(lastCall('containers.kill'), ['life', 'HUP']);
  // Killing what is not running is the engine's conflict: 409.
  const k = await srv.request('POST', '/containers/life/kill');
  assert.equal(k.status, 409);
  assert.equal((await srv.request('POST', '/containers/life/start')).status, 204);
  assert.equal((await srv.request('POST', '/containers/life/stop?t=5&signal=SIGTERM')).status, 204);
  assert.deepEqual(lastCall('containers.stop'), ['life', { timeout: 5, signal: 'SIGTERM' }]);
  assert.equal((await srv.request('POST', '/containers/life/stop')).status, 304);
  assert.equal((await srv.request('POST', '/containers/life/stop?t=soon')).status, 400);
  assert.equal((await srv.request('POST', '/containers/life/rename?name=life2')).status, 204);
  assert.deepEqual(lastCall('containers.rename'), ['life', 'life2']);
  assert.equal((await srv.request('POST', '/containers/life2/rename?name=x')).status, 400);
  assert.equal((await srv.request('POST', '/containers/life2/rename')).status, 400);
  const del = await srv.request('DELETE', '/containers/life2?force=1&v=true&link=0');
  assert.equal(del.status, 204);
  assert.deepEqual(lastCall('containers.remove'), ['life2', { force: true, volumes: true, link: false }]);
  assert.equal((await srv.request('DELETE', '/containers/life2')).status, 404);
  // `docker rm --link client/db`: the name carries a slash.
  await srv.request('DELETE', '/containers/client/db?link=1');
  assert.deepEqual(lastCall('containers.remove'), ['client/db', { force: false, volumes: false, link: true }]);
});

test('remove of a running container without force is 409', async () => {
  const r = await srv.request('DELETE', '/containers/c1');
  assert.equal(r.status, 409);
  assert.match((r.json() as { message: string }).message, /You cannot remove a running container/);
});

test('upgrade: the body goes to the engine; bad input is a 400, a rollback a 500 naming the cause', async () => {
  let r = await srv.request('POST', '/v1.47/containers/c1/upgrade', { body: '{"Image":"busybox:v2","Cmd":["sh"],"KeepRootfs":true,"RollbackWindow":5000000000}' });
  assert.equal(r.status, 200, r.body);
  assert.equal((r.json() as { Image: string }).Image, 'busybox:v2');
  assert.deepEqual(lastCall('containers.upgrade').slice(0, 2), ['c1', { Image: 'busybox:v2', Cmd: ['sh'], KeepRootfs: true, RollbackWindow: 5e9 }]);
  r = await srv.request('POST', '/containers/c1/upgrade', { body: '{"RollbackWindow":"5s"}' });
  assert.equal(r.status, 400);
  assert.match((r.json() as { message: string }).message, /RollbackWindow/);
  assert.equal((await srv.request('POST', '/containers/nope/upgrade', { body: '{}' })).status, 404);
  r = await srv.request('POST', '/containers/c1/upgrade', { body: '{"Image":"fails:v2"}' });
  assert.equal(r.status, 500);
  assert.match((r.json() as { message: string }).message, /rolled back: the container exited/);
});

test('update, resize, prune, commit', async () => {
  let r = await srv.request('POST', '/containers/c1/update', { body: '{"Memory":1048576,"RestartPolicy":{"Name":"always"}}' });
  assert.equal(r.status, 200);
  assert.deepEqual(r.json(), { Warnings: [] });
  assert.deepEqual(lastCall('containers.update'), ['c1', { Memory: 1048576, RestartPolicy: { Name: 'always' } }]);
  r = await srv.request('POST', '/containers/c1/update', { body: '{"CpuShares":"x"}' });
  assert.equal(r.status, 400);

  r = await srv.request('POST', '/containers/c1/resize?h=24&w=80');
  assert.equal(r.status, 200);
  assert.deepEqual(fake.find('c1').resized, [24, 80]);
  for (const q of ['h=24', 'h=-1&w=2', 'h=a&w=2']) assert.equal((await srv.request('POST', `/containers/c1/resize?${q}`)).status, 400, q);

  r = await srv.request('POST', '/commit?container=c1&repo=team/app&tag=v1&comment=hi&author=me&pause=0&changes=CMD%20%5B%22sh%22%5D&changes=ENV%20A%3D1', { body: '{"Cmd":["sh"]}' });
  assert.equal(r.status, 201);
  assert.deepEqual(r.json(), { Id: 'sha256:' + 'fe'.repeat(32) });
  assert.deepEqual(lastCall('containers.commit'), [
    { container: 'c1', repo: 'team/app', tag: 'v1', comment: 'hi', author: 'me', pause: false, changes: ['CMD ["sh"]', 'ENV A=1'], config: { Cmd: ['sh'] } },
  ]);
  r = await srv.request('POST', '/commit?container=c1');
  assert.equal(r.status, 201);
  assert.equal((lastCall('containers.commit')[0] as { pause: boolean }).pause, true); // dockerd's default
  assert.equal((await srv.request('POST', '/commit')).status, 400);

  const done = await createContainer({ Cmd: ['echo', 'x'] }, 'to-prune');
  r = await srv.request('POST', '/containers/prune?filters=' + encodeURIComponent('{"until":["24h"]}'));
  assert.equal(r.status, 200);
  assert.ok((r.json() as { ContainersDeleted: string[] }).ContainersDeleted.includes(done));
  assert.deepEqual(lastCall('containers.prune'), [{ until: ['24h'] }]);
});

test('export and archive: tar bodies and the path-stat header', async () => {
  let r = await srv.request('GET', '/containers/c1/export');
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'application/x-tar');
  assert.equal(r.body, 'tar of c1');

  r = await srv.request('HEAD', '/containers/c1/archive?path=/etc/hostname');
  assert.equal(r.status, 200);
  const stat = JSON.parse(Buffer.from(String(r.headers['x-docker-container-path-stat']), 'base64').toString());
  assert.deepEqual(stat, { name: 'hostname', size: 13, mode: 0o644, mtime: '2023-11-14T22:13:20Z', linkTarget: '' });

  r = await srv.request('GET', '/containers/c1/archive?path=/etc/hostname');
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'application/x-tar');
  assert.ok(r.headers['x-docker-container-path-stat']);
  assert.equal(r.body, 'tar of /etc/hostname');

  r = await srv.request('GET', '/containers/c1/archive?path=/nope');
  assert.equal(r.status, 404);
  assert.deepEqual(r.json(), { message: 'Could not find the file /nope in container c1' });
  assert.equal((await srv.request('GET', '/containers/c1/archive')).status, 400);

  r = await srv.request('PUT', '/containers/c1/archive?path=/tmp&noOverwriteDirNonDir=1&copyUIDGID=true', { body: 'TARBYTES' });
  assert.equal(r.status, 200);
  assert.deepEqual(fake.uploads.at(-1), { id: C1_ID, path: '/tmp', data: Buffer.from('TARBYTES') });
  assert.deepEqual(lastCall('containers.archivePut').slice(3), [{ noOverwriteDirNonDir: true, copyUIDGID: true }]);
});

test('stats: one JSON object, or a stream of them; stream with one-shot is refused', async () => {
  let r = await srv.request('GET', '/containers/c1/stats?stream=0&one-shot=1');
  assert.equal(r.status, 200);
  assert.equal(r.lines().length, 1);
  assert.equal((r.lines()[0] as { id: string }).id, C1_ID);
  assert.deepEqual((lastCall('containers.stats')[1] as object), { stream: false, oneShot: true, signal: (lastCall('containers.stats')[1] as { signal: AbortSignal }).signal });
  r = await srv.request('GET', '/containers/c1/stats?stream=1&one-shot=1');
  assert.equal(r.status, 400);
  assert.deepEqual(r.json(), { message: 'cannot have stream=true and one-shot=true' });
  // Streaming: read three objects, then go away; the engine sees the abort.
  const lines = await new Promise<string[]>((resolve, reject) => {
    const req = httpRequest({ socketPath: srv.socket, path: '/containers/c1/stats' }, (res) => {
      let buf = '';
      res.on('data', (c: Buffer) => {
        buf += c.toString();
        const ls = buf.split('\n').filter((l) => l);
        if (ls.length >= 3) {
          req.destroy();
          resolve(ls);
        }
      });
    });
    req.on('error', (err) => ((err as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(err)));
    req.end();
  });
  assert.equal(lines.length >= 3, true);
  const signal = (lastCall('containers.stats')[1] as { signal: AbortSignal }).signal;
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(signal.aborted, true);
});

test('logs: multiplexed frames with the exact bytes, stream selection, tail', async () => {
  let r = await srv.request('GET', '/v1.47/containers/c1/logs?stdout=1&stderr=1');
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'application/vnd.docker.multiplexed-stream');
  const raw = await rawBody('/containers/c1/logs?stdout=1&stderr=1');
  assert.deepEqual(raw, Buffer.concat([muxFrame(1, Buffer.from('hello from c1\n')), muxFrame(2, Buffer.from('warning from c1\n'))]));
  assert.deepEqual(raw.subarray(0, 8), Buffer.from([1, 0, 0, 0, 0, 0, 0, 14]));
  assert.deepEqual(demux(await rawBody('/containers/c1/logs?stderr=1')), [[2, 'warning from c1\n']]);
  assert.deepEqual(demux(await rawBody('/containers/c1/logs?stdout=1&stderr=1&tail=1')), [[2, 'warning from c1\n']]);
  assert.deepEqual(lastCall('containers.logs')[1], {
    follow: false,
    stdout: true,
    stderr: true,
    since: undefined,
    until: undefined,
    timestamps: false,
    tail: 1,
    signal: (lastCall('containers.logs')[1] as { signal: AbortSignal }).signal,
  });
  await rawBody('/containers/c1/logs?stdout=1&tail=all&since=1700000000.5&until=1800000000');
  assert.deepEqual((lastCall('containers.logs')[1] as { tail: unknown; since: number; until: number }).tail, 'all');
  assert.equal((lastCall('containers.logs')[1] as { since: number }).since, 1700000000.5);
  for (const [q, msg] of [
    ['', 'Bad parameters: you must choose at least one stream'],
    ['stdout=1&tail=-2', 'invalid value for tail: -2 is less than 0'],
    ['stdout=1&since=yesterday', 'invalid value for since: "yesterday" is not a Unix timestamp'],
    ['stdout=1&follow=perhaps', 'invalid boolean value for follow: "perhaps"'],
  ]) {
    r = await srv.request('GET', `/containers/c1/logs?${q}`);
    assert.equal(r.status, 400, q);
    assert.deepEqual(r.json(), { message: msg });
  }
});

test('logs and attach before API 1.42 call the multiplexed stream raw, as dockerd did', async () => {
  const r = await srv.request('GET', '/v1.41/containers/c1/logs?stdout=1&stderr=1');
  assert.equal(r.headers['content-type'], 'application/vnd.docker.raw-stream');
  assert.deepEqual(demux(Buffer.from(r.body)), [
    [1, 'hello from c1\n'],
    [2, 'warning from c1\n'],
  ]);
  const conn = await rawRequest(srv.socket, 'POST', '/v1.41/containers/c1/attach?logs=1&stdout=1');
  assert.equal(conn.headers['content-type'], 'application/vnd.docker.raw-stream');
  await conn.ended;
  assert.deepEqual(demux(conn.received), [[1, 'hello from c1\n']]);
});

test('logs: timestamps prefix each line with RFC 3339 nanoseconds and a space', async () => {
  const frames = demux(await rawBody('/containers/c1/logs?stdout=1&stderr=1&timestamps=1'));
  assert.deepEqual(frames, [
    [1, '2023-11-14T22:13:21.123456789Z hello from c1\n'],
    [2, '2023-11-14T22:13:22.000000001Z warning from c1\n'],
  ]);
});

test('logs: a tty container is raw', async () => {
  const id = await createContainer({ Cmd: ['sh', '-c', 'echo out; echo err >&2'], Tty: true });
  await srv.request('POST', `/containers/${id}/start`);
  await waitFor(() => fake.find(id).status === 'exited');
  const r = await srv.request('GET', `/containers/${id}/logs?stdout=1&stderr=1`);
  assert.equal(r.headers['content-type'], 'application/vnd.docker.raw-stream');
  assert.equal(r.body, 'out\nerr\n');
});

test('logs: follow sends the headers at once and streams until the container stops', async () => {
  const id = await createContainer({ Cmd: ['top'] });
  await srv.request('POST', `/containers/${id}/start`);
  const chunks: Buffer[] = [];
  const gotHeaders = new Promise<number>((resolve) => {
    const req = httpRequest({ socketPath: srv.socket, path: `/containers/${id}/logs?follow=1&stdout=1` }, (res) => {
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => ended());
      resolve(res.statusCode!);
    });
    req.end();
  });
  let ended!: () => void;
  const end = new Promise<void>((r) => (ended = r));
  assert.equal(await gotHeaders, 200);
  assert.equal(chunks.length, 0);
  await srv.request('POST', `/containers/${id}/stop`);
  await end;
});

test('wait: headers flushed before the container exits, then {StatusCode}', async () => {
  const id = await createContainer({ Cmd: ['top'] });
  await srv.request('POST', `/containers/${id}/start`);
  let body = '';
  let statusAtHeaders = 0;
  const headers = new Promise<void>((resolve) => {
    const req = httpRequest({ socketPath: srv.socket, method: 'POST', path: `/v1.47/containers/${id}/wait?condition=next-exit` }, (res) => {
      statusAtHeaders = res.statusCode!;
      assert.equal(res.headers['content-type'], 'application/json');
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => done());
      resolve();
    });
    req.end();
  });
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  await headers;
  assert.equal(statusAtHeaders, 200);
  assert.equal(fake.find(id).status, 'running'); // headers came while it still ran
  assert.equal(body, '');
  await srv.request('POST', `/containers/${id}/kill`);
  await finished;
  assert.deepEqual(JSON.parse(body), { StatusCode: 137, Error: null });
  assert.deepEqual(lastCall('containers.wait')[1], { condition: 'next-exit', signal: (lastCall('containers.wait')[1] as { signal: AbortSignal }).signal });
});

test('wait: a stopped container answers at once; errors found at once keep their status', async () => {
  const id = await createContainer({ Cmd: ['sh', '-c', 'exit 7'] });
  await srv.request('POST', `/containers/${id}/start`);
  await waitFor(() => fake.find(id).status === 'exited');
  let r = await srv.request('POST', `/containers/${id}/wait`);
  assert.equal(r.status, 200);
  assert.deepEqual(r.json(), { StatusCode: 7, Error: null });
  r = await srv.request('POST', '/containers/nope/wait');
  assert.equal(r.status, 404);
  r = await srv.request('POST', `/containers/${id}/wait?condition=soon`);
  assert.equal(r.status, 400);
  assert.match((r.json() as { message: string }).message, /^invalid condition: "soon"/);
});

test('wait: an engine failure after the headers is reported in the body', async () => {
  const e2 = createFakeEngine({
    containers: {
      wait: () => new Promise((_, reject) => setTimeout(() => reject(conflict('container removed while waiting')), 20)),
    },
  });
  const s2 = await startTestServer(e2);
  const r = await s2.request('POST', '/containers/c1/wait');
  assert.equal(r.status, 200);
  assert.deepEqual(r.json(), { StatusCode: -1, Error: { Message: 'container removed while waiting' } });
  await s2.close();
});

test('attach: 101 UPGRADED, output framed, stdin to the process, half-close closes stdin', async () => {
  const id = await createContainer({ Cmd: ['cat'], OpenStdin: true, AttachStdin: true });
  const conn = await rawRequest(srv.socket, 'POST', `/v1.47/containers/${id}/attach?stream=1&stdin=1&stdout=1&stderr=1`);
  assert.equal(conn.status, 101);
  assert.equal(conn.statusText, 'UPGRADED');
  assert.equal(conn.headers['content-type'], 'application/vnd.docker.multiplexed-stream');
  assert.equal(conn.headers['connection'], 'Upgrade');
  assert.equal(conn.headers['upgrade'], 'tcp');
  assert.equal(conn.headers['api-version'], '1.47');
  // Attached before start, as docker run does; stdin sent early waits.
  conn.socket.write('early\n');
  assert.equal((await srv.request('POST', `/containers/${id}/start`)).status, 204);
  await conn.until((b) => demux(b).length >= 1);
  conn.socket.write('ping\n');
  await conn.until((b) => demux(b).length >= 2);
  assert.deepEqual(demux(conn.received), [
    [1, 'early\n'],
    [1, 'ping\n'],
  ]);
  assert.deepEqual(conn.received.subarray(0, 8), Buffer.from([1, 0, 0, 0, 0, 0, 0, 6]));
  conn.socket.end(); // half-close: no more stdin
  await conn.ended;
  const c = fake.find(id);
  assert.equal(c.stdinClosed, true);
  await waitFor(() => c.status === 'exited');
  assert.equal(c.sessions.size, 0);
});

test('attach: detach keys end the session and the connection, not the process', async () => {
  const id = await createContainer({ Cmd: ['top'], OpenStdin: true, Tty: true });
  await srv.request('POST', `/containers/${id}/start`);
  const c = fake.find(id);
  const conn = await rawRequest(srv.socket, 'POST', `/containers/${id}/attach?stream=1&stdin=1&stdout=1&detachKeys=ctrl-a,x`);
  assert.equal(conn.status, 101);
  assert.equal(conn.headers['content-type'], 'application/vnd.docker.raw-stream');
  conn.socket.write('ab\x01');
  await waitFor(() => Buffer.concat(c.stdin).toString() === 'ab');
  conn.socket.write('\x01y\x01');
  await waitFor(() => Buffer.concat(c.stdin).toString() === 'ab\x01\x01y');
  conn.socket.write('x');
  await conn.ended;
  assert.equal(Buffer.concat(c.stdin).toString(), 'ab\x01\x01y');
  assert.equal(c.status, 'running');
  assert.equal(c.stdinClosed, false);
  assert.equal(c.sessions.size, 0);
  conn.socket.destroy();

  // The default keys: ctrl-p, ctrl-q.
  const conn2 = await rawRequest(srv.socket, 'POST', `/containers/${id}/attach?stream=1&stdin=1&stdout=1`);
  conn2.socket.write('\x10\x11');
  await conn2.ended;
  assert.equal(c.status, 'running');
  conn2.socket.destroy();

  const bad = await srv.request('POST', `/containers/${id}/attach?stream=1&stdin=1&detachKeys=ctrl-foo`);
  assert.equal(bad.status, 400);
});

test('attach without stdin: output until the process exits, client bytes ignored', async () => {
  const id = await createContainer({ Cmd: ['top'] });
  await srv.request('POST', `/containers/${id}/start`);
  const conn = await rawRequest(srv.socket, 'POST', `/containers/${id}/attach?stream=1&stdout=1&stderr=1`);
  conn.socket.write('ignored');
  await srv.request('POST', `/containers/${id}/stop`);
  await conn.ended;
  assert.equal(fake.find(id).stdin.length, 0);
  conn.socket.destroy();
});

test('attach errors over the upgrade path are ordinary JSON responses; the connection then closes', async () => {
  const conn = await rawRequest(srv.socket, 'POST', '/v1.47/containers/nope/attach?stream=1&stdout=1');
  assert.equal(conn.status, 404);
  assert.equal(conn.headers['connection'], 'close');
  await conn.ended;
  const body = conn.received.toString();
  assert.deepEqual(JSON.parse(body), { message: 'No such container: nope' });
  // A route that does not hijack answers normally on an upgrade request too.
  const ping = await rawRequest(srv.socket, 'GET', '/_ping');
  assert.equal(ping.status, 200);
  await ping.ended;
  assert.equal(ping.received.toString(), 'OK');
  const ver = await rawRequest(srv.socket, 'POST', '/v1.99/containers/c1/attach');
  assert.equal(ver.status, 400);
});

test('attach without Upgrade: 200 and the stream as the body', async () => {
  const r = await srv.request('POST', '/containers/c1/attach?logs=1&stream=0&stdout=1&stderr=1');
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'application/vnd.docker.multiplexed-stream');
  const raw = await new Promise<Buffer>((resolve) => {
    const req = httpRequest({ socketPath: srv.socket, method: 'POST', path: '/containers/c1/attach?logs=1&stream=0&stdout=1' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks)));
    });
    req.end();
  });
  assert.deepEqual(demux(raw), [[1, 'hello from c1\n']]);
  // Raw bytes to the end of the connection, as dockerd sends them, for
  // clients that read the socket under the response.
  const plain = await rawRequest(srv.socket, 'POST', '/containers/c1/attach?logs=1&stdout=1', { upgrade: false });
  assert.equal(plain.status, 200);
  assert.equal(plain.headers['transfer-encoding'], undefined);
  assert.equal(plain.headers['content-length'], undefined);
  assert.equal(plain.headers['connection'], 'close');
  await plain.ended;
  assert.deepEqual(demux(plain.received), [[1, 'hello from c1\n']]);
  // With stdin, the request body is the input.
  const id = await createContainer({ Cmd: ['cat'], OpenStdin: true });
  await srv.request('POST', `/containers/${id}/start`);
  const r2 = await srv.request('POST', `/containers/${id}/attach?stream=1&stdin=1&stdout=1`, { body: 'from body\n' });
  assert.equal(r2.status, 200);
  assert.deepEqual(demux(Buffer.from(r2.body)), [[1, 'from body\n']]);
});

test('attach/ws is 501', async () => {
  const r = await srv.request('GET', '/containers/c1/attach/ws');
  assert.equal(r.status, 501);
});

test('shutdown ends hijacked connections', async () => {
  const e2 = createFakeEngine();
  const s2 = await startTestServer(e2);
  const conn = await rawRequest(s2.socket, 'POST', '/containers/c1/attach?stream=1&stdout=1');
  assert.equal(conn.status, 101);
  // One whose stream is over but whose client never closed its side.
  const idle = await rawRequest(s2.socket, 'POST', '/containers/c1/attach?logs=1&stdout=1');
  await idle.ended;
  const idleClosed = new Promise((r) => idle.socket.on('close', r));
  s2.handler.shutdown();
  await conn.ended;
  await idleClosed;
  assert.equal(e2.fakeContainers.find('c1').sessions.size, 0);
  assert.equal(e2.fakeContainers.find('c1').status, 'running');
  await s2.close();
});

function rawBody(path: string, method = 'GET'): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ socketPath: srv.socket, method, path }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks)));
    });
    req.on('error', reject);
    req.end();
  });
}

async function waitFor(pred: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
