import assert from 'node:assert/strict';
import { test } from 'node:test';
import { is } from '../../errdefs/index.ts';
import { hookMatches, hooksFor, loadHookDirs, parseHookFile, subjectOf, type HookSubject } from './hooks-dir.ts';

const file = (o: Record<string, unknown>) => JSON.stringify({ version: '1.0.0', hook: { path: '/usr/libexec/hook' }, when: { always: true }, stages: ['prestart'], ...o });
const refused = (text: string, re: RegExp) =>
  assert.throws(() => parseHookFile(text, '/d/x.json'), (e: unknown) => is(e, 'invalid') && /\/d\/x\.json/.test((e as Error).message) && re.test((e as Error).message));
const subject = (o: Partial<HookSubject> = {}): HookSubject => ({ annotations: {}, command: '/bin/sh', hasBindMounts: false, ...o });

test('parseHookFile reads the 1.0.0 format', () => {
  const f = parseHookFile(file({ hook: { path: '/h', args: ['h', 'a'], env: ['X=1'], timeout: 3 }, stages: ['prestart', 'poststop', 'prestart'], when: { commands: ['^/bin/sh$'] } }), '/d/x.json');
  assert.deepEqual(f.hook, { path: '/h', args: ['h', 'a'], env: ['X=1'], timeout: 3 });
  assert.deepEqual(f.stages, ['prestart', 'poststop']);
  assert.equal(f.source, '/d/x.json');
});

test('parseHookFile refuses what it cannot honour, naming the file and the field', () => {
  refused('{', /JSON/);
  refused(file({ version: '0.1.0' }), /unsupported version "0.1.0"/);
  refused(file({ stages: ['prestop'] }), /unknown stage "prestop"/);
  refused(file({ stages: [] }), /stages must be a non-empty list/);
  refused(file({ hook: { path: 'relative' } }), /not absolute/);
  refused(file({ when: {} }), /when has no condition/);
  refused(file({ when: { always: false } }), /when has no condition/);
  refused(file({ when: { commands: ['('] } }), /when\.commands\[0\]: invalid regular expression/);
  refused(file({ when: { annotations: { a: '[' } } }), /when\.annotations\["a"\]: invalid regular expression/);
  refused(file({ when: { always: 'yes' } }), /when\.always must be true or false/);
  refused(file({ when: { sometimes: true } }), /unknown condition when\.sometimes/);
  refused(file({ extra: 1 }), /unknown field "extra"/);
});

test('conditions are ORed: any one that holds applies the hook', () => {
  const when = parseHookFile(file({ when: { annotations: { '^io\\.x\\.gpu$': '^(true|1)$' }, commands: ['^/usr/bin/java$'], hasBindMounts: true } }), 'f').when;
  assert.equal(hookMatches(when, subject()), false);
  assert.equal(hookMatches(when, subject({ annotations: { 'io.x.gpu': '1' } })), true);
  assert.equal(hookMatches(when, subject({ annotations: { 'io.x.gpu': 'false' } })), false, 'the value must match too');
  assert.equal(hookMatches(when, subject({ annotations: { 'io.x.gpus': 'true' } })), false, 'the key must match');
  assert.equal(hookMatches(when, subject({ command: '/usr/bin/java' })), true);
  assert.equal(hookMatches(when, subject({ command: 'java' })), false, 'commands match args[0] as given');
  assert.equal(hookMatches(when, subject({ hasBindMounts: true })), true);
  assert.equal(hookMatches({ always: true }, subject()), true);
  assert.equal(hookMatches({ hasBindMounts: false, commands: [/^\/x$/] }, subject({ hasBindMounts: true })), false, 'hasBindMounts false is no condition');
});

test('loadHookDirs: *.json files in name order; a later dir replaces a file by name; a missing dir is empty', () => {
  const tree: Record<string, Record<string, string>> = {
    '/a': { '20-b.json': file({ hook: { path: '/a/b' } }), '10-a.json': file({ hook: { path: '/a/a' } }), 'notes.txt': 'x' },
    '/b': { '20-b.json': file({ hook: { path: '/b/b' } }), '05-c.json': file({ hook: { path: '/b/c' } }) },
  };
  const io = {
    readdir: (d: string) => {
      if (!tree[d]) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
      return Object.keys(tree[d]!);
    },
    readFile: (p: string) => tree[p.slice(0, 2)]![p.slice(3)]!,
    isFile: () => true,
  };
  const files = loadHookDirs(['/a', '/missing', '/b'], io);
  assert.deepEqual(files.map((f) => [f.source, f.hook.path]), [['/b/05-c.json', '/b/c'], ['/a/10-a.json', '/a/a'], ['/b/20-b.json', '/b/b']]);
  tree['/a']!['30-bad.json'] = '{"version":"1.0.0"}';
  assert.throws(() => loadHookDirs(['/a'], io), /\/a\/30-bad\.json/);
});

test('hooksFor gathers the matching files\' hooks per stage, in file order; subjectOf reads args[0] and annotations', () => {
  const files = [
    parseHookFile(file({ hook: { path: '/one' }, stages: ['prestart', 'poststop'], when: { always: true } }), '1'),
    parseHookFile(file({ hook: { path: '/two' }, stages: ['prestart'], when: { annotations: { team: 'a' } } }), '2'),
    parseHookFile(file({ hook: { path: '/three' }, stages: ['createRuntime'], when: { commands: ['sh$'] } }), '3'),
  ];
  const s = subjectOf({ ociVersion: '1.0.2', process: { user: { uid: 0, gid: 0 }, args: ['/bin/bash', '-c', 'x'], env: [], cwd: '/' }, annotations: { team: 'a' } }, false);
  assert.deepEqual(s, { annotations: { team: 'a' }, command: '/bin/bash', hasBindMounts: false });
  assert.deepEqual(hooksFor(files, s), { prestart: [{ path: '/one' }, { path: '/two' }], poststop: [{ path: '/one' }], createRuntime: [{ path: '/three' }] });
  assert.deepEqual(hooksFor(files, { ...s, annotations: {}, command: '/bin/true' }), { prestart: [{ path: '/one' }], poststop: [{ path: '/one' }] });
});
