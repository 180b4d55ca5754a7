// The terminal side of run/attach/exec: detach keys, raw mode, TTY size,
// signals forwarded — what a user at a terminal sees, with fake streams.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { startFakeApi } from '../client/fake-api.ts';
import { DEFAULT_DETACH_KEYS, EscapeProxy, detachKeyBytes } from './attach-io.ts';
import { TTY_ID, containerDaemon } from './fake-containers.ts';
import { runCli } from './program.ts';
import { fakeIo } from './testing.ts';
import type { InStream } from './context.ts';

test('detach keys: docker\'s names, the default ctrl-p ctrl-q', () => {
  assert.deepEqual(detachKeyBytes('ctrl-p,ctrl-q'), DEFAULT_DETACH_KEYS);
  assert.deepEqual(detachKeyBytes('ctrl-@,ctrl-\\,a,DEL'), [0, 28, 97, 127]);
  assert.throws(() => detachKeyBytes('ctrl-1'), /Unknown character: 'ctrl-1'/);
});

test('the escape proxy holds back a partial sequence and passes it on when broken', () => {
  const p = new EscapeProxy([16, 17]);
  assert.deepEqual(p.feed(Buffer.from([97, 16])), { data: Buffer.from([97]), escaped: false });
  assert.deepEqual(p.feed(Buffer.from([98])), { data: Buffer.from([16, 98]), escaped: false });
  assert.deepEqual(p.feed(Buffer.from([99, 16])), { data: Buffer.from([99]), escaped: false });
  assert.deepEqual(p.feed(Buffer.from([17, 100])), { data: Buffer.from([]), escaped: true });
});

/** A terminal on stdin: never ends by itself; records raw mode changes. */
function terminal() {
  const stdin = new PassThrough() as PassThrough & { isTTY: boolean; setRawMode: (m: boolean) => void; modes: boolean[] };
  stdin.isTTY = true;
  stdin.modes = [];
  stdin.setRawMode = (m: boolean) => void stdin.modes.push(m);
  return stdin;
}

async function daemon(t: { after: (fn: () => unknown) => void }) {
  const api = await startFakeApi();
  const d = containerDaemon(api);
  t.after(() => api.close());
  return { api, d };
}

test('run -it: raw mode while attached, the size sent, ctrl-p ctrl-q detaches with exit 0 and leaves it running', async (t) => {
  const { api, d } = await daemon(t);
  const stdin = terminal();
  const f = fakeIo({ stdoutTTY: true, columns: 120, rows: 40, env: { JOEY_HOST: api.host, JOEY_CONFIG: '/nonexistent' } });
  f.io.stdin = stdin as unknown as InStream;
  const running = runCli(['run', '-it', 'busybox', 'cat', 'exit:9'], f.io);
  setTimeout(() => stdin.write('hello'), 150);
  // Detach only once the echo is back, so that a slow machine does not race it.
  void (async () => {
    for (let i = 0; i < 100 && !f.stdout().includes('hello'); i++) await new Promise((r) => setTimeout(r, 50));
    stdin.write(Buffer.from([16, 17]));
  })();
  const code = await running;
  assert.equal(code, 0);
  // nothing more, even once the pending wait is dropped
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(f.stdout(), 'hello');
  assert.equal(f.stderr(), '');
  assert.deepEqual(stdin.modes, [true, false]);
  // 0, not the container's 9: joey left before it exited
  const c = [...d.containers.values()].find((x) => x.body.Tty && x.body.Cmd?.[0] === 'cat' && x.id !== TTY_ID)!;
  assert.equal(c.body.HostConfig.ConsoleSize.join('x'), '40x120');
  const paths = api.requests.map((r) => `${r.method} ${r.path.replace(c.id, 'ID')}`);
  assert.deepEqual(paths.slice(0, 4), ['POST /containers/create', 'POST /containers/ID/attach', 'POST /containers/ID/wait', 'POST /containers/ID/start']);
  assert.ok(paths.includes('POST /containers/ID/resize'));
  assert.ok(!paths.some((p) => /kill|stop/.test(p)), 'nothing stops the container');
  const resize = api.requests.find((r) => r.path.endsWith('/resize'))!;
  assert.equal(`${resize.query.get('h')}x${resize.query.get('w')}`, '40x120');
});

test('attach: custom detach keys; docker reports "read escape sequence"', async (t) => {
  const { api } = await daemon(t);
  const stdin = terminal();
  const f = fakeIo({ stdoutTTY: false, env: { JOEY_HOST: api.host, JOEY_CONFIG: '/nonexistent' } });
  f.io.stdin = stdin as unknown as InStream;
  const running = runCli(['attach', '--detach-keys', 'ctrl-a,x', 'ttyc'], f.io);
  setTimeout(() => stdin.write('abc'), 150);
  setTimeout(() => stdin.write(Buffer.from([1, 120])), 300);
  const code = await running;
  assert.equal(code, 1);
  assert.equal(f.stdout(), 'abc');
  assert.equal(f.stderr(), 'read escape sequence\n');
  const attach = api.requests.find((r) => r.path.endsWith('/attach'))!;
  assert.equal(attach.query.get('detachKeys'), 'ctrl-a,x');
  assert.equal(attach.query.get('stdin'), '1');
});

test('--sig-proxy: a signal we get goes to the container; --sig-proxy=false keeps it', async (t) => {
  const { api } = await daemon(t);
  for (const proxy of [true, false]) {
    let deliver: ((s: string) => void) | undefined;
    const f = fakeIo({ env: { JOEY_HOST: api.host, JOEY_CONFIG: '/nonexistent' } });
    f.io.onSignal = (h) => {
      deliver = h;
      return () => (deliver = undefined);
    };
    const running = runCli(['run', ...(proxy ? [] : ['--sig-proxy=false']), 'busybox', 'sleep:300', 'exit:0'], f.io);
    await new Promise((r) => setTimeout(r, 150));
    deliver?.('SIGTERM');
    assert.equal(await running, 0);
    assert.equal(deliver, undefined, 'stopped listening');
    const kills = api.requests.filter((r) => r.path.endsWith('/kill'));
    assert.equal(kills.length, proxy ? 1 : 0);
    if (proxy) assert.equal(kills[0]!.query.get('signal'), 'TERM');
    api.requests.length = 0;
  }
});

test('exec -it on a terminal: raw mode, the exec sized, its exit code ours', async (t) => {
  const { api } = await daemon(t);
  const stdin = terminal();
  const f = fakeIo({ stdoutTTY: true, columns: 80, rows: 24, env: { JOEY_HOST: api.host, JOEY_CONFIG: '/nonexistent' } });
  f.io.stdin = stdin as unknown as InStream;
  const running = runCli(['exec', '-it', 'ttyc', 'cat', 'exit:7'], f.io);
  setTimeout(() => stdin.end('typed'), 150);
  assert.equal(await running, 7);
  assert.equal(f.stdout(), 'typed');
  assert.deepEqual(stdin.modes, [true, false]);
  const create = api.requests.find((r) => r.path.endsWith('/exec'))!;
  assert.deepEqual(JSON.parse(create.body.toString()).ConsoleSize, [24, 80]);
  assert.ok(api.requests.some((r) => /^\/exec\/[^/]+\/resize$/.test(r.path)));
});
