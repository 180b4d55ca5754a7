import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { is } from '../../errdefs/index.ts';
import type { OciSpec } from '../types.ts';
import { checkHookPaths, checkHooks, mergeHooks } from './hooks.ts';

const refused = (fn: () => unknown, re: RegExp) => assert.throws(fn, (e: unknown) => is(e, 'invalid') && re.test((e as Error).message));

test('checkHooks keeps well-formed stages and drops empty ones', () => {
  assert.equal(checkHooks(undefined), undefined);
  assert.equal(checkHooks({ prestart: [], poststop: null }), undefined);
  assert.deepEqual(checkHooks({ prestart: [{ path: '/h', args: ['h', 'x'], env: ['A=1'], timeout: 5 }], poststop: [] }), {
    prestart: [{ path: '/h', args: ['h', 'x'], env: ['A=1'], timeout: 5 }],
  });
});

test('checkHooks names what is wrong', () => {
  refused(() => checkHooks({ prestop: [{ path: '/h' }] }), /unknown hook stage "prestop"/);
  refused(() => checkHooks({ prestart: [{ path: 'h' }] }), /OciHooks\.prestart\[0\]: path "h" is not absolute/);
  refused(() => checkHooks({ prestart: [{}] }), /path is required/);
  refused(() => checkHooks({ prestart: { path: '/h' } }), /expected a list of hooks/);
  refused(() => checkHooks({ poststop: [{ path: '/h', args: 'x' }] }), /args must be a list of strings/);
  refused(() => checkHooks({ poststop: [{ path: '/h', env: ['NOEQUALS'] }] }), /env must be a list of KEY=value/);
  refused(() => checkHooks({ poststop: [{ path: '/h', timeout: 0 }] }), /timeout must be a positive number/);
  refused(() => checkHooks({ poststop: [{ path: '/h', argv: [] }] }), /unknown field "argv"/);
  refused(() => checkHooks([]), /expected an object of stages/);
});

test('checkHookPaths: missing, not a file, not executable; startContainer paths are the container\'s', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'joey-hooks-'));
  try {
    const ok = join(dir, 'ok.sh');
    const plain = join(dir, 'plain.sh');
    await writeFile(ok, '#!/bin/sh\n');
    await chmod(ok, 0o755);
    await writeFile(plain, '#!/bin/sh\n');
    await chmod(plain, 0o644);
    await checkHookPaths({ prestart: [{ path: ok }], poststop: [{ path: ok }] });
    await checkHookPaths({ startContainer: [{ path: '/only/in/the/container' }] });
    const rejects = (hooks: object, re: RegExp) => assert.rejects(checkHookPaths(hooks), (e: unknown) => is(e, 'invalid') && re.test((e as Error).message));
    await rejects({ createRuntime: [{ path: join(dir, 'nope') }] }, /createRuntime\[0\]: hook .*nope does not exist/);
    await rejects({ poststop: [{ path: ok }, { path: plain }] }, /poststop\[1\]: hook .*plain\.sh is not executable/);
    await rejects({ prestart: [{ path: dir }] }, /is not a regular file/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('mergeHooks appends stage by stage, in the order given, and leaves a spec without hooks alone', () => {
  const spec: OciSpec = { ociVersion: '1.0.2', hooks: { prestart: [{ path: '/already' }] } };
  mergeHooks(spec, { prestart: [{ path: '/daemon' }], poststop: [{ path: '/daemon-stop' }] }, { prestart: [{ path: '/container' }] });
  assert.deepEqual(spec.hooks, {
    prestart: [{ path: '/already' }, { path: '/daemon' }, { path: '/container' }],
    poststop: [{ path: '/daemon-stop' }],
  });
  const bare: OciSpec = { ociVersion: '1.0.2' };
  mergeHooks(bare, undefined, {});
  assert.equal('hooks' in bare, false, 'no empty hooks object in config.json');
});
