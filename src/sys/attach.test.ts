import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, closeSync, readSync, rmSync, constants } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { SeqpacketServer, type SeqpacketSocket } from 'node-unix-socket';
import { is } from '../errdefs/index.ts';
import { AttachConnection, STDIN_PACKET_MAX, reopenLog, resizeTerminal } from './attach.ts';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'joey-attach-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A stand-in for conmon's attach socket, bound through /proc/self/fd as conmon does. */
function fakeConmon(socketDir: string): { server: SeqpacketServer; client: Promise<SeqpacketSocket>; received: Buffer[] } {
  mkdirSync(socketDir, { recursive: true });
  const fd = openSync(socketDir, constants.O_RDONLY | constants.O_DIRECTORY);
  const server = new SeqpacketServer();
  server.listen(`/proc/self/fd/${fd}/attach`);
  closeSync(fd);
  const received: Buffer[] = [];
  const client = new Promise<SeqpacketSocket>((resolve) =>
    server.once('connection', (s: SeqpacketSocket) => {
      s.on('data', (b: Buffer) => received.push(Buffer.from(b)));
      resolve(s);
    }),
  );
  return { server, client, received };
}

test('attach: long socket paths, stream ids, stdin packets of at most 32 KiB, EOF', async () => {
  const deep = join(dir, 'x'.repeat(60), 'y'.repeat(60));
  const path = join(deep, 'attach');
  assert.ok(Buffer.byteLength(path) > 108);
  const fake = fakeConmon(deep);
  try {
    const conn = await AttachConnection.connect(path);
    const peer = await fake.client;
    peer.write(Buffer.from('\x02out\n'));
    peer.write(Buffer.from('\x03err\n'));
    const big = Buffer.concat([Buffer.from([2]), Buffer.alloc(8192, 'a')]);
    peer.write(big);
    await conn.write(Buffer.alloc(STDIN_PACKET_MAX + 1000, 'i'));
    const it = conn.packets();
    const got = [];
    for (let i = 0; i < 3; i++) got.push((await it.next()).value!);
    assert.deepEqual(got.slice(0, 2).map((p) => [p.stream, p.data.toString()]), [[1, 'out\n'], [2, 'err\n']]);
    assert.equal(got[2]!.data.length, 8192, 'a full conmon packet arrives whole');
    for (let i = 0; i < 50 && fake.received.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(fake.received.map((b) => b.length), [STDIN_PACKET_MAX, 1000]);
    peer.destroy(); // conmon closes clients when the container exits
    assert.equal((await it.next()).done, true);
    conn.close();
  } finally {
    fake.server.close();
  }
});

test('attach: a missing socket is not-found', async () => {
  await assert.rejects(AttachConnection.connect(join(dir, 'none', 'attach')), (e) => is(e, 'not-found'));
});

test('ctl: one message per write; no reader fails fast instead of blocking', async () => {
  const ctl = join(dir, 'ctl');
  execFileSync('mkfifo', [ctl]);
  await assert.rejects(resizeTerminal(ctl, 40, 100), (e) => is(e, 'unavailable'));
  // A reader like conmon: it holds the FIFO open read-write so that it never sees EOF.
  const fd = openSync(ctl, constants.O_RDWR | constants.O_NONBLOCK);
  try {
    await resizeTerminal(ctl, 40, 100);
    const second = reopenLog(ctl);
    const buf = Buffer.alloc(100);
    assert.equal(buf.toString('utf8', 0, readSync(fd, buf)), '1 40 100\n', 'the second write waits for a gap');
    await second;
    assert.equal(buf.toString('utf8', 0, readSync(fd, buf)), '2 0 0\n');
  } finally {
    closeSync(fd);
  }
  await assert.rejects(resizeTerminal(join(dir, 'no-ctl'), 1, 1), (e) => is(e, 'not-found'));
});
