import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { is } from '../errdefs/index.ts';
import { Runc, runcMessage, stoppedAndPlain } from './runc.ts';

test('runcMessage pulls msg out of logrus lines', () => {
  const line = 'time="2026-11-27T08:19:11Z" level=error msg="runc create failed: unable to start container process: exec: \\"/nonexistent\\": stat /nonexistent: no such file or directory"\n';
  assert.equal(runcMessage(line), 'runc create failed: unable to start container process: exec: "/nonexistent": stat /nonexistent: no such file or directory');
  assert.equal(runcMessage('plain text\n'), 'plain text');
});

const RUNC = '/usr/sbin/runc';

test('runc errors carry a kind and runc’s message', { skip: (!existsSync(RUNC) && 'runc is not installed') || (process.getuid?.() !== 0 && 'needs root') }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'joey-runc-'));
  try {
    const runc = new Runc({ binary: RUNC, root });
    assert.deepEqual(runc.runtimeArgs, ['--root', root]);
    await assert.rejects(runc.state('nope'), (e) => is(e, 'not-found') && /container does not exist/.test((e as Error).message));
    await assert.rejects(runc.kill('nope', 'KILL'), (e) => is(e, 'not-found'));
    await runc.delete('nope', true); // force on an unknown id is done, as runc says
    assert.deepEqual(await runc.list(), []);
    const missing = new Runc({ binary: '/nonexistent/runc', root });
    await assert.rejects(missing.state('x'), (e) => is(e, 'unavailable'));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('runc delete is skipped only where it would remove cgroups and state alone', () => {
  const ns = (pid: { type: string; path?: string }[]) => ({ init_process_pid: 42, init_process_start: '100', config: { namespaces: pid, Hooks: { poststop: null } } });
  assert.equal(stoppedAndPlain(ns([{ type: 'NEWNS' }, { type: 'NEWPID', path: '' }])), true);
  // the host's pid namespace, or another container's: runc kills leftovers
  assert.equal(stoppedAndPlain(ns([{ type: 'NEWNS' }])), false);
  assert.equal(stoppedAndPlain(ns([{ type: 'NEWPID', path: '/proc/1/ns/pid' }])), false);
  // poststop hooks to run, an RDT group to remove, no init recorded
  assert.equal(stoppedAndPlain({ ...ns([{ type: 'NEWPID' }]), config: { namespaces: [{ type: 'NEWPID' }], Hooks: { poststop: [{ path: '/x' }] } } }), false);
  assert.equal(stoppedAndPlain({ ...ns([{ type: 'NEWPID' }]), intel_rdt_path: '/sys/fs/resctrl/x' }), false);
  assert.equal(stoppedAndPlain({ ...ns([{ type: 'NEWPID' }]), init_process_pid: 0 }), false);
});

test('runc delete that exits 0 yet logged an error (a failed poststop hook) reports it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'joey-runc-'));
  try {
    const fake = join(dir, 'fake-runc');
    writeFileSync(fake, `#!/bin/sh\necho 'time="2026-11-27T08:19:11Z" level=warning msg="just a warning"' >&2\necho 'time="2026-11-27T08:19:11Z" level=error msg="error running hook #0: error running hook: exit status 4, stdout: , stderr: lease held\\\\n"' >&2\nexit 0\n`, { mode: 0o755 });
    const runc = new Runc({ binary: fake, root: dir });
    assert.equal(await runc.delete('x', true), 'error running hook #0: error running hook: exit status 4, stdout: , stderr: lease held');
    const quiet = join(dir, 'quiet-runc');
    writeFileSync(quiet, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    assert.equal(await new Runc({ binary: quiet, root: dir }).delete('x'), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
