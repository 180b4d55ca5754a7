// The overlay snapshotter: the conformance suite, then its own on-disk and
// crash-recovery cases. Tests that mount need root; they are skipped otherwise.
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Database } from '../metadata/db.ts';
import { run } from '../sys/exec.ts';
import { unmount, mountsUnder } from '../sys/mount.ts';
import { setLogSink } from '../util/log.ts';
import { openOverlaySnapshotter, type OverlaySnapshotter } from './overlay.ts';
import { collectSnapshots, isRoot, layer, needsRoot, snapshotterSuite, withMount, type Harness } from './testsuite.ts';
import { UNPACK_LABEL, type Snapshotter } from './types.ts';

setLogSink(() => {}); // cleanup logs what it removes; the reports are asserted instead

async function overlayHarness(t: TestContext, rootName = 'snapshots'): Promise<Harness & { sn: OverlaySnapshotter; db: Database; root: string }> {
  const base = mkdtempSync(join(tmpdir(), 'joey-snap-'));
  const db = openDatabase(join(base, 'metadata.db'));
  const root = join(base, rootName);
  const sn = await openOverlaySnapshotter(root, db);
  const scratch = join(base, 'mnt');
  mkdirSync(scratch);
  t.after(async () => {
    // Unmount anything a failed test left behind before deleting.
    for (const m of await mountsUnder(base)) await unmount(m.target, { lazy: true }).catch(() => {});
    await sn.close();
    db.close();
    rmSync(base, { recursive: true, force: true });
  });
  return { sn, db, root, scratch };
}

snapshotterSuite('overlay', (t) => overlayHarness(t));

describe('overlay snapshotter', () => {
  test('renames inside a caller\'s transaction commit or roll back with it', async (t) => {
    const { sn, db } = await overlayHarness(t);
    await sn.prepare('ctr');
    await sn.prepare('tmp');
    assert.throws(() =>
      db.transaction(() => {
        sn.rename('ctr', 'ctr.old');
        sn.rename('tmp', 'ctr');
        throw new Error('the caller failed after the swap');
      }),
    );
    assert.deepEqual((await collectSnapshots(sn)).map((s) => s.key).sort(), ['ctr', 'tmp'], 'nothing moved');
    db.transaction(() => {
      sn.rename('ctr', 'ctr.old');
      sn.rename('tmp', 'ctr');
    });
    assert.deepEqual((await collectSnapshots(sn)).map((s) => s.key).sort(), ['ctr', 'ctr.old']);
  });

  test('directories are named by id and commit moves nothing', async (t) => {
    const { sn, root } = await overlayHarness(t);
    await sn.prepare('a');
    const upper = await sn.upperDir('a');
    assert.match(upper, new RegExp(`^${root}/[0-9]+/fs$`));
    assert.ok(existsSync(join(upper, '..', 'work')));
    await sn.commit('A', 'a');
    const bind = (await sn.mounts('A'))[0]!;
    assert.deepEqual(bind, { type: 'bind', source: upper, options: ['rbind', 'ro'] });
    assert.ok(!existsSync(join(upper, '..', 'work')), 'a committed layer has no work dir');
  });

  test('remove deletes the directory, read-only dirs included', async (t) => {
    const { sn, root } = await overlayHarness(t);
    await sn.prepare('a');
    const upper = await sn.upperDir('a');
    mkdirSync(join(upper, 'ro/deep'), { recursive: true });
    writeFileSync(join(upper, 'ro/deep/f'), 'x');
    chmodSync(join(upper, 'ro/deep/f'), 0o444);
    chmodSync(join(upper, 'ro/deep'), 0o555);
    chmodSync(join(upper, 'ro'), 0o555);
    if (isRoot) await run('mknod', [join(upper, 'dev'), 'c', '1', '3']);
    await sn.remove('a');
    assert.deepEqual(readdirSync(root), []);
  });

  test('cleanup removes orphan directories and half-unpacked snapshots', async (t) => {
    const { sn, db, root } = await overlayHarness(t);
    await layer(sn, 'L1', undefined, { a: 'a' });
    await sn.prepare('ctr', 'L1');
    // A crash in the middle of unpacking a layer:
    await sn.prepare('half', 'L1', { labels: { [UNPACK_LABEL]: 'sha256:x' } });
    writeFileSync(join(await sn.upperDir('half'), 'partial'), 'p');
    // A crash between deleting a row and its directory:
    mkdirSync(join(root, '9999', 'fs', 'ro'), { recursive: true });
    chmodSync(join(root, '9999', 'fs', 'ro'), 0o555);
    // A crash between inserting a row and making its directory:
    db.db.prepare("INSERT INTO snapshots (key, kind, created_at) VALUES ('no-dir', 'active', 1)").run();
    // Something that is not ours:
    writeFileSync(join(root, 'README'), 'keep me');

    const report = await sn.reconcile();
    assert.deepEqual(report.removedUnpacks, ['half']);
    assert.deepEqual(report.removedDirs, [join(root, '9999')]);
    assert.deepEqual(report.droppedRows, ['no-dir']);
    assert.deepEqual(report.brokenRows, []);
    assert.deepEqual(report.skipped, [join(root, 'README')]);
    assert.deepEqual((await collectSnapshots(sn)).map((s) => s.key).sort(), ['L1', 'ctr']);
    assert.ok(!existsSync(join(root, '9999')));
    assert.equal(readdirSync(root).length, 3, 'L1, ctr and README remain');

    const again = await sn.reconcile();
    assert.deepEqual([again.removedUnpacks, again.removedDirs, again.droppedRows, again.brokenRows], [[], [], [], []]);
  });

  test('cleanup keeps a referenced row whose directory is missing, and drops chains nothing uses', async (t) => {
    const { sn, db } = await overlayHarness(t);
    await layer(sn, 'L1', undefined, { a: 'a' });
    await layer(sn, 'L2', 'L1', { b: 'b' });
    await layer(sn, 'M1', undefined, { m: 'm' });
    await layer(sn, 'M2', 'M1', { m: 'm' });
    const used = db.db.prepare('INSERT INTO images (id, manifest_digest, manifest_media_type, manifest_size, chain_id, size, added_at) VALUES (?, ?, ?, 1, ?, 0, 0)');
    used.run('sha256:' + 'a'.repeat(64), 'sha256:' + 'b'.repeat(64), 'x', 'L2');
    for (const key of ['L1', 'M1', 'M2']) rmSync(join(await mountSource(sn, key), '..'), { recursive: true, force: true });

    const report = await sn.reconcile();
    assert.deepEqual(report.droppedRows.sort(), ['M1', 'M2']);
    assert.deepEqual(report.brokenRows, ['L1'], 'L2 still needs L1, and an image needs L2');
    assert.deepEqual((await collectSnapshots(sn)).map((s) => s.key).sort(), ['L1', 'L2']);
  });

  test('cleanup leaves an orphan directory alone while something is mounted inside it', needsRoot, async (t) => {
    const { sn, root, scratch } = await overlayHarness(t);
    const precious = join(scratch, 'precious');
    mkdirSync(precious);
    writeFileSync(join(precious, 'data'), 'not the snapshotter’s');
    const inside = join(root, '4242', 'fs');
    mkdirSync(inside, { recursive: true });
    await withMount([{ type: 'bind', source: precious, options: ['rbind', 'rw'] }], inside, async () => {
      const report = await sn.reconcile();
      assert.deepEqual(report.skipped, [join(root, '4242')]);
      assert.deepEqual(report.removedDirs, []);
    });
    assert.equal(readFileSync(join(precious, 'data'), 'utf8'), 'not the snapshotter’s');
    assert.deepEqual((await sn.reconcile()).removedDirs, [join(root, '4242')], 'once unmounted it goes');
  });

  test('a long chain mounts past the one-page option limit', needsRoot, async (t) => {
    // A long root makes the absolute lowerdir list far longer than a page.
    const { sn, scratch } = await overlayHarness(t, 'snapshots-' + 'x'.repeat(150));
    const depth = 120;
    let parent: string | undefined;
    for (let i = 0; i < depth; i++) {
      await sn.prepare(`u${i}`, parent);
      writeFileSync(join(await sn.upperDir(`u${i}`), `f${i}`), String(i));
      await sn.commit(`L${i}`, `u${i}`, { parent, size: 1 });
      parent = `L${i}`;
    }
    const mounts = await sn.prepare('ctr', parent);
    assert.ok(mounts[0]!.options.join(',').length > 4096);
    const target = join(scratch, 'deep');
    await withMount(mounts, target, () => {
      assert.equal(readFileSync(join(target, 'f0'), 'utf8'), '0');
      assert.equal(readFileSync(join(target, `f${depth - 1}`), 'utf8'), String(depth - 1));
      assert.equal(readdirSync(target).length, depth);
    });
  });
});

/** The fs dir of a committed snapshot: the source of its bind mount. */
async function mountSource(sn: Snapshotter, key: string): Promise<string> {
  const m = (await sn.mounts(key))[0]!;
  if (m.type === 'bind') return m.source;
  return m.options.find((o) => o.startsWith('lowerdir='))!.slice('lowerdir='.length).split(':')[0]!;
}

