import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { is } from '../errdefs/index.ts';
import { type ConmonOptions, conmonCreate } from './conmon.ts';

const CONMON = '/usr/bin/conmon';

function opts(dir: string, o: Partial<ConmonOptions> = {}): ConmonOptions {
  return {
    conmon: CONMON,
    runtime: '/usr/sbin/runc',
    id: 'c',
    bundle: dir,
    pidFile: join(dir, 'pidfile'),
    exitDir: dir,
    conmonPidFile: join(dir, 'conmon.pid'),
    cwd: dir,
    ...o,
  };
}

test('conmonCreate reports a missing conmon and conmon’s own failures', { skip: (!existsSync(CONMON) && 'conmon is not installed') || (process.getuid?.() !== 0 && 'needs root') }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'joey-conmon-'));
  try {
    await assert.rejects(conmonCreate(opts(dir, { conmon: '/nonexistent/conmon' })), (e) => is(e, 'unavailable'));
    // No config.json in the bundle: runc create fails and conmon passes its words on.
    await assert.rejects(conmonCreate(opts(dir, { runtimeArgs: ['--root', join(dir, 'runc')] })), (e: Error) => /config\.json/.test(e.message) && /create failed/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
