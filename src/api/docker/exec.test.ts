import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { setLogSink } from '../../util/log.ts';
import { createFakeEngine } from './fake-engine.ts';
import { C1_ID } from './fake-containers.ts';
import { demux, rawRequest, startTestServer } from './test-helpers.ts';

setLogSink(() => {});

const engine = createFakeEngine();
const srv = await startTestServer(engine);
after(() => srv.close());

async function execCreate(cfg: Record<string, unknown>, container = 'c1'): Promise<string> {
  const r = await srv.request('POST', `/v1.47/containers/${container}/exec`, { body: JSON.stringify(cfg) });
  assert.equal(r.status, 201, r.body);
  return (r.json() as { Id: string }).Id;
}

async function inspect(id: string): Promise<{ Running: boolean; ExitCode: number | null; ContainerID: string }> {
  const r = await srv.request('GET', `/exec/${id}/json`);
  assert.equal(r.status, 200);
  return r.json() as { Running: boolean; ExitCode: number | null; ContainerID: string };
}

test('exec create: 201 {Id}; the config reaches the engine; bad configs are 400', async () => {
  const id = await execCreate({ Cmd: ['echo', 'x'], AttachStdout: true, AttachStderr: true, Env: ['A=1'], ConsoleSize: [24, 80] });
  assert.match(id, /^[0-9a-f]{64}$/);
  const call = engine.calls.filter((c) => c.method === 'containers.execCreate').at(-1)!;
  assert.deepEqual(call.args, ['c1', { Cmd: ['echo', 'x'], AttachStdout: true, AttachStderr: true, Env: ['A=1'], ConsoleSize: [24, 80] }]);
  for (const [body, msg] of [
    ['{}', 'No exec command specified'],
    ['{"Cmd":[]}', 'No exec command specified'],
    ['', 'exec config cannot be empty'],
    ['{"Cmd":"echo"}', 'invalid Cmd: expected a list of strings, got "echo"'],
    ['{"Cmd":["x"],"ConsoleSize":[24]}', 'invalid ConsoleSize: expected [height, width], got [24]'],
  ]) {
    const r = await srv.request('POST', '/containers/c1/exec', { body });
    assert.equal(r.status, 400, body);
    assert.deepEqual(r.json(), { message: msg });
  }
  assert.equal((await srv.request('POST', '/containers/nope/exec', { body: '{"Cmd":["x"]}' })).status, 404);
});

test('exec start: hijacked, output framed, ExitCode in inspect; a second start is 409', async () => {
  const id = await execCreate({ Cmd: ['sh', '-c', 'echo out; echo err >&2; exit 2'], AttachStdout: true, AttachStderr: true });
  const conn = await rawRequest(srv.socket, 'POST', `/v1.47/exec/${id}/start`, {
    headers: { 'Content-Type': 'application/json' },
    body: '{"Detach":false,"Tty":false}',
  });
  assert.equal(conn.status, 101);
  assert.equal(conn.headers['content-type'], 'application/vnd.docker.multiplexed-stream');
  await conn.ended;
  assert.deepEqual(demux(conn.received), [
    [1, 'out\n'],
    [2, 'err\n'],
  ]);
  conn.socket.destroy();
  const info = await inspect(id);
  assert.equal(info.Running, false);
  assert.equal(info.ExitCode, 2);
  assert.equal(info.ContainerID, C1_ID);
  const again = await srv.request('POST', `/exec/${id}/start`, { body: '{"Detach":true}' });
  assert.equal(again.status, 409);
});

test('exec start with a tty is raw', async () => {
  const id = await execCreate({ Cmd: ['echo', 'tty'], AttachStdout: true, Tty: true });
  const conn = await rawRequest(srv.socket, 'POST', `/exec/${id}/start`, { body: '{"Tty":true}' });
  assert.equal(conn.headers['content-type'], 'application/vnd.docker.raw-stream');
  await conn.ended;
  assert.equal(conn.received.toString(), 'tty\n');
  conn.socket.destroy();
});

test('exec start: stdin bytes sent right behind the body, split across packets, reach the process', async () => {
  const id = await execCreate({ Cmd: ['cat'], AttachStdin: true, AttachStdout: true });
  const body = '{"Detach":false,"Tty":false}';
  const head = `POST /exec/${id}/start HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
  const sock = connect(srv.socket);
  let received = Buffer.alloc(0);
  const closed = new Promise<void>((resolve) => sock.on('end', resolve));
  sock.on('data', (c: Buffer) => (received = Buffer.concat([received, c])));
  sock.write(head + body.slice(0, 10));
  await new Promise((r) => setTimeout(r, 30));
  sock.write(body.slice(10) + 'hello\n');
  await new Promise((r) => setTimeout(r, 30));
  sock.end(); // stdin ends: cat exits, the stream ends
  await closed;
  const text = received.toString('latin1');
  assert.match(text, /^HTTP\/1\.1 101 UPGRADED\r\n/);
  const rest = received.subarray(received.indexOf('\r\n\r\n') + 4);
  assert.deepEqual(demux(rest), [[1, 'hello\n']]);
  assert.equal((await inspect(id)).ExitCode, 0);
});

test('exec start detached: 200 with no body', async () => {
  const id = await execCreate({ Cmd: ['echo', 'bg'] });
  const r = await srv.request('POST', `/exec/${id}/start`, { body: '{"Detach":true,"Tty":false}' });
  assert.equal(r.status, 200);
  assert.equal(r.body, '');
  const call = engine.calls.filter((c) => c.method === 'containers.execStart').at(-1)!;
  assert.deepEqual(call.args, [id, { Detach: true, Tty: false }]);
  assert.equal((await srv.request('POST', '/exec/nope/start', { body: '{"Detach":true}' })).status, 404);
  assert.equal((await srv.request('POST', `/exec/${id}/start`, { body: '{"Detach":"yes"}' })).status, 400);
});

test('exec resize and inspect of unknown execs', async () => {
  const id = await execCreate({ Cmd: ['top'], Tty: true });
  assert.equal((await srv.request('POST', `/exec/${id}/resize?h=40&w=120`)).status, 200);
  const call = engine.calls.filter((c) => c.method === 'containers.execResize').at(-1)!;
  assert.deepEqual(call.args, [id, 40, 120]);
  assert.equal((await srv.request('POST', `/exec/${id}/resize?h=40`)).status, 400);
  assert.equal((await srv.request('POST', '/exec/nope/resize?h=1&w=1')).status, 404);
  const r = await srv.request('GET', '/exec/nope/json');
  assert.equal(r.status, 404);
  assert.deepEqual(r.json(), { message: 'No such exec instance: nope' });
});

test('exec on a stopped container is 409', async () => {
  const r = await srv.request('POST', '/containers/create?name=stopped', { body: '{"Image":"busybox","Cmd":["top"]}' });
  assert.equal(r.status, 201);
  const e = await srv.request('POST', '/containers/stopped/exec', { body: '{"Cmd":["ls"]}' });
  assert.equal(e.status, 409);
});
