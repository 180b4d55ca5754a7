// A conformance suite for the Snapshotter interface, to run against every
// implementation and wrapper: snapshotterSuite('name', factory) inside a
// *.test.ts file. Tests that mount need root and are skipped otherwise.
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { is, type ErrorKind } from '../errdefs/index.ts';
import { run } from '../sys/exec.ts';
import { mount, unmount, isMountPoint } from '../sys/mount.ts';
import { UNPACK_LABEL, type Mount, type SnapshotInfo, type Snapshotter } from './types.ts';

export const isRoot = process.getuid?.() === 0;
export const needsRoot = isRoot ? {} : { skip: 'needs root to mount' };

export interface Harness {
  sn: Snapshotter;
  /** A scratch directory for mount points. */
  scratch: string;
}

export type Factory = (t: TestContext) => Promise<Harness>;

export async function withMount<T>(mounts: Mount[], target: string, fn: () => T | Promise<T>): Promise<T> {
  assert.equal(mounts.length, 1);
  mkdirSync(target, { recursive: true });
  await mount(mounts[0]!, target);
  try {
    return await fn();
  } finally {
    await unmount(target);
  }
}

export async function collectSnapshots(sn: Snapshotter): Promise<SnapshotInfo[]> {
  const out: SnapshotInfo[] = [];
  for await (const s of sn.walk()) out.push(s);
  return out;
}

/** Prepares a parentless snapshot, fills it, and commits it as `name` on `parent`. */
export async function layer(sn: Snapshotter, name: string, parent: string | undefined, files: Record<string, string>): Promise<void> {
  const key = `unpack-${name}`;
  await sn.prepare(key, parent, { labels: { [UNPACK_LABEL]: '1' } });
  const upper = await sn.upperDir(key);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(upper, path, '..'), { recursive: true });
    writeFileSync(join(upper, path), text);
  }
  await sn.commit(name, key);
}

export function rejectsWith(kind: ErrorKind) {
  return (err: unknown) => {
    assert.ok(is(err, kind), `expected ${kind}, got ${String(err)}`);
    return true;
  };
}

export function snapshotterSuite(name: string, make: Factory): void {
  describe(`snapshotter conformance: ${name}`, () => {
    test('prepare and commit a chain of three', async (t) => {
      const { sn } = await make(t);
      const first = await sn.prepare('a', undefined);
      assert.equal(first.length, 1);
      assert.equal(first[0]!.type, 'bind');
      assert.deepEqual(first[0]!.options, ['rbind', 'rw']);
      writeFileSync(join(await sn.upperDir('a'), 'one'), '1');
      await sn.commit('L1', 'a', { size: 1 });

      await layer(sn, 'L2', 'L1', { two: '2' });
      await layer(sn, 'L3', 'L2', { three: '3' });

      const l3 = await sn.stat('L3');
      assert.equal(l3.kind, 'committed');
      assert.equal(l3.parent, 'L2');
      assert.deepEqual(l3.labels, {}, 'commit drops the unpack label');
      assert.equal((await sn.stat('L1')).parent, undefined);
      assert.equal((await sn.stat('L1')).size, 1);
      await assert.rejects(sn.stat('a'), rejectsWith('not-found'));

      const mounts = await sn.prepare('ctr', 'L3', { labels: { app: 'web' } });
      assert.equal(mounts[0]!.type, 'overlay');
      const opts = mounts[0]!.options;
      const lower = opts.find((o) => o.startsWith('lowerdir='))!.slice('lowerdir='.length).split(':');
      assert.equal(lower.length, 3);
      assert.ok(existsSync(join(lower[0]!, 'three')), 'nearest parent first');
      assert.ok(existsSync(join(lower[2]!, 'one')));
      assert.ok(opts.includes(`upperdir=${await sn.upperDir('ctr')}`));
      assert.ok(opts.some((o) => o.startsWith('workdir=')));
      assert.deepEqual(await sn.mounts('ctr'), mounts);

      const ctr = await sn.stat('ctr');
      assert.equal(ctr.kind, 'active');
      assert.deepEqual(ctr.labels, { app: 'web' });
      assert.deepEqual((await collectSnapshots(sn)).map((s) => s.key).sort(), ['L1', 'L2', 'L3', 'ctr']);
    });

    test('lower layers show through a mounted active snapshot, and writes land in its upper', needsRoot, async (t) => {
      const { sn, scratch } = await make(t);
      await layer(sn, 'L1', undefined, { 'etc/one': 'from L1', 'etc/gone': 'deleted in L3' });
      await layer(sn, 'L2', 'L1', { 'etc/two': 'from L2', 'etc/one': 'L2 overrides L1' });
      // L3 deletes a file of L1 with an overlay whiteout (a 0/0 char device).
      await sn.prepare('u3', 'L2');
      const upper3 = await sn.upperDir('u3');
      mkdirSync(join(upper3, 'etc'));
      await run('mknod', [join(upper3, 'etc', 'gone'), 'c', '0', '0']);
      await sn.commit('L3', 'u3');

      const target = join(scratch, 'rootfs');
      const mounts = await sn.prepare('ctr', 'L3');
      await withMount(mounts, target, async () => {
        assert.ok(await isMountPoint(target));
        assert.equal(readFileSync(join(target, 'etc/one'), 'utf8'), 'L2 overrides L1');
        assert.equal(readFileSync(join(target, 'etc/two'), 'utf8'), 'from L2');
        assert.ok(!existsSync(join(target, 'etc/gone')), 'the whiteout hides the lower file');
        assert.deepEqual(readdirSync(join(target, 'etc')).sort(), ['one', 'two']);
        writeFileSync(join(target, 'new'), 'written in the container');
      });
      assert.ok(!(await isMountPoint(target)));
      assert.equal(readFileSync(join(await sn.upperDir('ctr'), 'new'), 'utf8'), 'written in the container');
      const usage = await sn.usage('ctr');
      assert.equal(usage.inodes, 1);
      assert.equal(usage.size, 'written in the container'.length);
    });

    test('a parentless active snapshot mounts as a writable bind', needsRoot, async (t) => {
      const { sn, scratch } = await make(t);
      const target = join(scratch, 'bind');
      await withMount(await sn.prepare('solo'), target, () => writeFileSync(join(target, 'f'), 'x'));
      assert.equal(readFileSync(join(await sn.upperDir('solo'), 'f'), 'utf8'), 'x');
    });

    test('a view is read-only', needsRoot, async (t) => {
      const { sn, scratch } = await make(t);
      await layer(sn, 'L1', undefined, { a: 'a' });
      await layer(sn, 'L2', 'L1', { b: 'b' });

      const one = await sn.view('v1', 'L1');
      assert.equal(one[0]!.type, 'bind');
      assert.ok(one[0]!.options.includes('ro'));
      const two = await sn.view('v2', 'L2');
      assert.equal(two[0]!.type, 'overlay');
      assert.ok(!two[0]!.options.some((o) => o.startsWith('upperdir=')));
      assert.equal((await sn.stat('v2')).kind, 'view');
      await assert.rejects(sn.upperDir('v2'), rejectsWith('failed-precondition'));
      await assert.rejects(sn.commit('nope', 'v2'), rejectsWith('failed-precondition'));

      for (const [mounts, name] of [[one, 'v1'], [two, 'v2']] as const) {
        const target = join(scratch, name);
        await withMount(mounts, target, () => {
          assert.equal(readFileSync(join(target, 'a'), 'utf8'), 'a');
          assert.throws(() => writeFileSync(join(target, 'x'), 'x'), { code: 'EROFS' });
        });
      }
    });

    test('a parent cannot be removed while it has children', async (t) => {
      const { sn } = await make(t);
      await layer(sn, 'L1', undefined, { a: 'a' });
      await sn.prepare('ctr', 'L1');
      await assert.rejects(sn.remove('L1'), (err) => is(err, 'conflict') && /L1 has 1 child/.test((err as Error).message));
      await sn.remove('ctr');
      await sn.remove('L1');
      await assert.rejects(sn.remove('L1'), rejectsWith('not-found'));
      assert.deepEqual(await collectSnapshots(sn), []);
    });

    test('layers unpacked in parallel are chained at commit', async (t) => {
      const { sn } = await make(t);
      await sn.prepare('x1');
      await sn.prepare('x2');
      await sn.prepare('x3');
      await sn.commit('L1', 'x1');
      await assert.rejects(sn.commit('L3', 'x3', { parent: 'L2' }), rejectsWith('not-found'));
      await assert.rejects(sn.commit('L3', 'x3', { parent: 'x2' }), rejectsWith('failed-precondition'));
      await sn.commit('L2', 'x2', { parent: 'L1' });
      await sn.commit('L3', 'x3', { parent: 'L2' });
      assert.equal((await sn.stat('L3')).parent, 'L2');
      assert.equal((await sn.stat('L2')).parent, 'L1');
      const lower = (await sn.prepare('ctr', 'L3'))[0]!.options.find((o) => o.startsWith('lowerdir='))!;
      assert.equal(lower.split(':').length, 3);
    });

    test('names are unique and parents must be committed', async (t) => {
      const { sn } = await make(t);
      await sn.prepare('a');
      await assert.rejects(sn.prepare('a'), rejectsWith('already-exists'));
      await assert.rejects(sn.prepare('b', 'a'), rejectsWith('failed-precondition'));
      await assert.rejects(sn.prepare('b', 'missing'), rejectsWith('not-found'));
      await assert.rejects(sn.view('v', 'missing'), rejectsWith('not-found'));
      await sn.prepare('c');
      await sn.commit('C', 'c');
      await assert.rejects(sn.commit('C', 'a'), rejectsWith('already-exists'));
      assert.equal((await sn.stat('a')).kind, 'active', 'a failed commit changes nothing');
      await assert.rejects(sn.commit('D', 'C'), rejectsWith('failed-precondition'));
      await assert.rejects(sn.commit('D', 'missing'), rejectsWith('not-found'));
      await assert.rejects(sn.prepare(''), rejectsWith('invalid'));
      await assert.rejects(sn.mounts('missing'), rejectsWith('not-found'));
    });

    test('commit measures the diff when no size is given', async (t) => {
      const { sn } = await make(t);
      await sn.prepare('a');
      const upper = await sn.upperDir('a');
      writeFileSync(join(upper, 'f'), 'hello');
      writeFileSync(join(upper, 'g'), 'world!');
      await run('ln', [join(upper, 'f'), join(upper, 'hardlink')]);
      mkdirSync(join(upper, 'd'));
      const usage = await sn.usage('a');
      assert.equal(usage.inodes, 3, 'a hard link is one inode');
      assert.equal(usage.size, 11, 'files count, hard links once, directories not at all');
      await sn.commit('A', 'a', { labels: { k: 'v' } });
      assert.equal((await sn.stat('A')).size, 11);
      assert.deepEqual((await sn.stat('A')).labels, { k: 'v' });
    });

    test('rename moves an active snapshot to a new key', async (t) => {
      const { sn } = await make(t);
      await layer(sn, 'L1', undefined, { a: 'a' });
      await sn.prepare('ctr', 'L1');
      writeFileSync(join(await sn.upperDir('ctr'), 'mine'), 'x');
      await sn.prepare('next', 'L1');
      // A swap: the old one aside, the new one in its place.
      sn.rename('ctr', 'ctr.old');
      sn.rename('next', 'ctr');
      assert.ok(!existsSync(join(await sn.upperDir('ctr'), 'mine')), 'the key now names the new snapshot');
      assert.equal(readFileSync(join(await sn.upperDir('ctr.old'), 'mine'), 'utf8'), 'x', 'its files followed the old one');
      assert.equal((await sn.stat('ctr.old')).parent, 'L1');
      assert.throws(() => sn.rename('missing', 'x'), rejectsWith('not-found'));
      assert.throws(() => sn.rename('ctr', 'ctr.old'), rejectsWith('already-exists'));
      assert.throws(() => sn.rename('L1', 'L1b'), rejectsWith('failed-precondition'));
      assert.throws(() => sn.rename('ctr', ''), rejectsWith('invalid'));
      assert.deepEqual((await collectSnapshots(sn)).map((s) => s.key).sort(), ['L1', 'ctr', 'ctr.old']);
    });
  });
}
