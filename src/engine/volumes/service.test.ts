import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openDatabase, type Database } from '../../metadata/db.ts';
import type { EngineEvent, EventBus } from '../types.ts';
import { ANONYMOUS_LABEL, Volumes } from './service.ts';

let dir: string;
let db: Database;
let vols: Volumes;
const events: Array<Omit<EngineEvent, 'time' | 'timeNano' | 'scope'>> = [];
const bus: EventBus = { publish: (ev) => void events.push(ev), subscribe: () => () => undefined };

function addContainer(id: string): void {
  db.db.prepare(`INSERT INTO containers (id, name, image_id, image_ref, created_at, config, host_config, state, runtime) VALUES (?, ?, 'i', 'r', 't', '{}', '{}', '{}', 'runc')`).run(id, `c-${id.slice(0, 6)}`);
}

describe('volumes', () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'joey-volumes-'));
    db = openDatabase(join(dir, 'joey.db'));
    vols = new Volumes({ db, root: join(dir, 'volumes'), events: bus });
  });
  after(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a container\'s mounts: binds made or refused, anonymous and named volumes, recorded with it', async () => {
    const missing = join(dir, 'made-by-v');
    const p = await vols.prepare({ Volumes: { '/anon': {} } }, { Binds: [`${missing}:/b:ro`, 'named1:/n'], Mounts: [{ Type: 'tmpfs', Target: '/t' }] });
    assert.ok(statSync(missing).isDirectory(), '-v makes a missing bind source');
    assert.deepEqual(p.mounts.map((m) => [m.Type, m.Destination, m.RW]), [['bind', '/b', false], ['volume', '/n', true], ['tmpfs', '/t', true], ['volume', '/anon', true]]);
    const anon = p.mounts.find((m) => m.Destination === '/anon')!;
    assert.match(anon.Name!, /^[0-9a-f]{64}$/);
    assert.equal(anon.Source, join(dir, 'volumes', anon.Name!, '_data'));
    assert.ok(existsSync(anon.Source));
    const id = 'a'.repeat(64);
    addContainer(id);
    db.transaction(() => vols.record(id, p));
    assert.deepEqual(vols.mountsOf(id), p.mounts);
    const listed = (await vols.list()).Volumes;
    assert.deepEqual(listed.map((v) => v.Name).sort(), [anon.Name!, 'named1'].sort());
    assert.equal(listed.find((v) => v.Name === anon.Name)!.Labels[ANONYMOUS_LABEL], '');

    await assert.rejects(vols.remove('named1'), { kind: 'conflict', message: new RegExp(`remove named1: volume is in use - \\[${id}\\]`) });
    // The container goes (its mount rows with it); rm -v takes only the anonymous volume.
    const mounts = vols.mountsOf(id);
    db.transaction(() => db.db.prepare('DELETE FROM containers WHERE id = ?').run(id));
    await vols.removeAnonymous(mounts);
    assert.deepEqual((await vols.list()).Volumes.map((v) => v.Name), ['named1']);
    assert.ok(!existsSync(join(dir, 'volumes', anon.Name!)));
    assert.deepEqual((await vols.list({ filters: { dangling: ['true'] } })).Volumes.map((v) => v.Name), ['named1']);
    await vols.remove('named1');
    await assert.rejects(vols.inspect('named1'), { kind: 'not-found', message: /no such volume/ });
    assert.deepEqual(events.map((e) => `${e.Type} ${e.Action}`).filter((x) => x.endsWith('destroy')), ['volume destroy', 'volume destroy']);
  });

  test('--mount bind of a missing source is refused, and nothing is left behind', async () => {
    const before = (await vols.list()).Volumes.length;
    await assert.rejects(vols.prepare({ Volumes: { '/anon': {} } }, { Mounts: [{ Type: 'bind', Source: join(dir, 'nope'), Target: '/x' }] }), {
      kind: 'invalid', message: /bind source path does not exist: .*nope/,
    });
    assert.ok(!existsSync(join(dir, 'nope')));
    assert.equal((await vols.list()).Volumes.length, before);
  });

  test('an empty volume is filled from the image\'s content at its destination, once', async () => {
    const rootfs = join(dir, 'rootfs');
    mkdirSync(join(rootfs, 'srv/data/sub'), { recursive: true });
    writeFileSync(join(rootfs, 'srv/data/sub/f'), 'from the image');
    const p = await vols.prepare({ Volumes: { '/srv/data': {}, '/missing': {} } }, { Binds: ['nocp:/srv:nocopy'] });
    await vols.populate(p.mounts, rootfs);
    const data = p.mounts.find((m) => m.Destination === '/srv/data')!;
    assert.equal(readFileSync(join(data.Source, 'sub/f'), 'utf8'), 'from the image');
    const nocopy = p.mounts.find((m) => m.Destination === '/srv')!;
    assert.deepEqual(readdirSync(nocopy.Source), [], 'nocopy leaves it empty');
    writeFileSync(join(rootfs, 'srv/data/sub/f'), 'changed');
    await vols.populate(p.mounts, rootfs);
    assert.equal(readFileSync(join(data.Source, 'sub/f'), 'utf8'), 'from the image', 'a volume with content is not overwritten');
    await vols.discard(p);
    assert.ok(!existsSync(data.Source));
  });
});
