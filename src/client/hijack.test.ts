// The client side of docker's hijacked connections (attach, exec start).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { ApiClient, ApiError } from './client.ts';
import { rawAnswer, startFakeApi, upgradeError, upgraded } from './fake-api.ts';

test('upgrade: Connection/Upgrade headers, the 101, then a raw duplex stream with half-close', async (t) => {
  const api = await startFakeApi();
  t.after(() => api.close());
  api.upgrade('POST', '/exec/e1/start', (req, socket) => {
    upgraded(socket, false);
    socket.write('early bytes|');
    let got = '';
    socket.on('data', (d: Buffer) => (got += d));
    socket.on('end', () => socket.end(`got ${got} and ${req.body.toString()}`));
    socket.resume();
  });
  const c = new ApiClient({ host: api.host });
  t.after(() => c.close());
  const conn = await c.hijack('/exec/e1/start', { body: { Detach: false, Tty: true } });
  assert.equal(conn.mediaType, 'application/vnd.docker.raw-stream');
  conn.socket.write('stdin data');
  conn.closeWrite();
  let out = '';
  conn.socket.on('data', (d: Buffer) => (out += d));
  await once(conn.socket, 'end');
  assert.equal(out, 'early bytes|got stdin data and {"Detach":false,"Tty":true}');
  const req = api.requests.at(-1)!;
  assert.equal(req.headers.connection, 'Upgrade');
  assert.equal(req.headers.upgrade, 'tcp');
  assert.equal(req.version, '1.47');
});

test('an error status is the daemon\'s error; another answer is docker\'s "unable to upgrade"', async (t) => {
  const api = await startFakeApi({
    upgrades: [
      { method: 'POST', path: '/containers/nope/attach', upgrade: upgradeError(404, 'No such container: nope') },
      { method: 'POST', path: '/containers/plain/attach', upgrade: (_req, socket) => rawAnswer(socket, 200, 'x', 'text/plain') },
    ],
  });
  t.after(() => api.close());
  const c = new ApiClient({ host: api.host });
  t.after(() => c.close());
  await assert.rejects(c.hijack('/containers/nope/attach'), (err: unknown) => err instanceof ApiError && err.status === 404 && err.message === 'No such container: nope');
  await assert.rejects(c.hijack('/containers/plain/attach'), { message: 'unable to upgrade to tcp, received 200' });
});
