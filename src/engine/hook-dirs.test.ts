import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { HookDirs } from './hook-dirs.ts';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const hook = (path: string, stages = ['prestart']) => JSON.stringify({ version: '1.0.0', hook: { path }, when: { always: true }, stages });
const paths = (h: HookDirs) => h.current().map((f) => f.hook.path);

test('hook files added, edited, replaced and removed apply at the next look; nothing changed, nothing read', async () => {
  const root = await mkdtemp(join(tmpdir(), 'joey-hookdirs-'));
  dirs.push(root);
  const d = join(root, 'hooks.d');
  await mkdir(d);
  await writeFile(join(d, '10-a.json'), hook('/bin/a'));
  let loads = 0;
  const { loadHookDirs } = await import('../runtime/spec/hooks-dir.ts');
  const h = new HookDirs([d, join(root, 'missing.d')], (ds) => {
    loads++;
    return loadHookDirs(ds);
  });
  assert.deepEqual(paths(h), ['/bin/a']);
  assert.deepEqual(paths(h), ['/bin/a']);
  assert.equal(loads, 1, 'read once while nothing changes');

  await writeFile(join(d, '20-b.json'), hook('/bin/b'));
  assert.deepEqual(paths(h), ['/bin/a', '/bin/b'], 'a new file');
  await writeFile(join(d, '10-a.json'), hook('/bin/a-edited'));
  assert.deepEqual(paths(h), ['/bin/a-edited', '/bin/b'], 'an edit in place');
  await writeFile(join(root, 'tmp.json'), hook('/bin/b2'));
  await rename(join(root, 'tmp.json'), join(d, '20-b.json'));
  assert.deepEqual(paths(h), ['/bin/a-edited', '/bin/b2'], 'a file renamed over another');
  await rm(join(d, '10-a.json'));
  assert.deepEqual(paths(h), ['/bin/b2'], 'a removed file');
  await mkdir(join(root, 'missing.d'));
  await writeFile(join(root, 'missing.d', '30-c.json'), hook('/bin/c'));
  assert.deepEqual(paths(h), ['/bin/b2', '/bin/c'], 'a dir that appeared');
});

test('a file that does not parse after a change keeps the previous hooks until it is fixed', async () => {
  const root = await mkdtemp(join(tmpdir(), 'joey-hookdirs-'));
  dirs.push(root);
  await writeFile(join(root, '10-a.json'), hook('/bin/a'));
  const h = new HookDirs([root]);
  assert.deepEqual(paths(h), ['/bin/a']);
  await writeFile(join(root, '20-bad.json'), hook('/bin/bad', ['prestop']));
  assert.deepEqual(paths(h), ['/bin/a'], 'the bad file is not taken; the old set stays');
  await writeFile(join(root, '20-bad.json'), hook('/bin/fixed'));
  assert.deepEqual(paths(h), ['/bin/a', '/bin/fixed'], 'fixed in place, it applies');
});

test('joeyd still refuses to start on a bad file', async () => {
  const root = await mkdtemp(join(tmpdir(), 'joey-hookdirs-'));
  dirs.push(root);
  await writeFile(join(root, 'bad.json'), '{');
  assert.throws(() => new HookDirs([root]), /bad\.json/);
});
