import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { is } from '../errdefs/index.ts';
import { lockDataRoot } from './lock.ts';

const dir = mkdtempSync(join(tmpdir(), 'joey-lock-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('the data-root lock names its holder and dies with it, even on kill -9', async () => {
  const lockModule = join(import.meta.dirname, 'lock.ts');
  const child = spawn(process.execPath, [
    '--import', 'tsx', '--input-type=module', '-e',
    `const { lockDataRoot } = await import(${JSON.stringify(lockModule)}); await lockDataRoot(${JSON.stringify(dir)}); console.log('locked'); setInterval(() => {}, 1000);`,
  ]);
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`child exited ${code}`)));
  });
  assert.equal(statSync(join(dir, 'joeyd.lock')).mode & 0o777, 0o600);
  await assert.rejects(lockDataRoot(dir), (err: unknown) => is(err, 'conflict') && (err as Error).message === `data root ${dir} is in use by another joeyd (pid ${child.pid})`);
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
  const lock = await lockDataRoot(dir);
  await lock.release();
  // Released: taken again at once.
  await (await lockDataRoot(dir)).release();
});
