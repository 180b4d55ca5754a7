import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { daemonBoundingCaps, isAlive, parseCapMask, parseProcStat, processStartTime, readProcStatus } from './proc.ts';

test('parseProcStat copes with spaces and parentheses in comm', () => {
  const st = parseProcStat('4242 (a) b (c)) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 100\n');
  assert.deepEqual(st, { pid: 4242, comm: 'a) b (c)', state: 'S', ppid: 1, startTime: 987654 });
});

test('isAlive: this process yes, a vanished pid no, a zombie no', async () => {
  assert.equal(await isAlive(process.pid), true);
  const start = await processStartTime(process.pid);
  assert.ok(start !== null && start > 0);
  assert.equal(await isAlive(process.pid, start), true);
  assert.equal(await isAlive(process.pid, start + 1), false, 'a reused pid has another start time');
  assert.equal(await isAlive(2 ** 22 + 1), false);
  assert.equal(await processStartTime(2 ** 22 + 1), null);

  // `sleep 0.5` is a child of sh that still runs when sh execs `sleep 5`,
  // which inherits it and never reaps it (a child that ended before the exec
  // could be reaped by sh itself).
  const child = spawn('sh', ['-c', 'sleep 0.5 & echo $!; exec sleep 5'], { stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const zombie = Number(await new Promise<string>((r) => child.stdout.once('data', (b: Buffer) => r(b.toString()))));
    for (let i = 0; i < 300 && (await readProcStatus(zombie))?.['State']?.[0] !== 'Z'; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal((await readProcStatus(zombie))?.['State']?.[0], 'Z');
    assert.equal(await isAlive(zombie), false);
  } finally {
    child.kill('SIGKILL');
  }
});

test('capability masks: CapBnd of this process parses, bad text does not', () => {
  assert.equal(parseCapMask('000001ffffffffff'), (1n << 41n) - 1n);
  assert.equal(parseCapMask('00000000a80425fb'), 0xa80425fbn);
  assert.throws(() => parseCapMask('xyz'));
  assert.ok(daemonBoundingCaps() > 0n);
  assert.equal(daemonBoundingCaps(), daemonBoundingCaps());
});
