import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openDatabase, type Database } from '../../metadata/db.ts';
import type { EngineEvent, EventBus } from '../types.ts';
import { notFound } from '../../errdefs/index.ts';
import { ANONYMOUS_LABEL, Volumes, type VolumeSys } from './service.ts';

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

/** A recording stand-in for the mount calls: a set of mounted paths. */
function fakeSys(): VolumeSys & { mounted: Set<string>; calls: string[]; shared: Set<string> } {
  const mounted = new Set<string>();
  const calls: string[] = [];
  const shared = new Set<string>();
  return {
    mounted,
    calls,
    shared,
    async mount(m, target) {
      calls.push(`mount -t ${m.type} -o ${m.options.join(',')} ${m.source} ${target}`);
      mounted.add(target);
    },
    async unmount(target) {
      calls.push(`umount ${target}`);
      if (!mounted.delete(target)) throw notFound(`nothing is mounted at ${target}`);
    },
    async isMountPoint(p) {
      return mounted.has(p);
    },
    async mountsUnder(p) {
      return [...mounted].filter((m) => m === p || m.startsWith(`${p}/`)).map((target) => ({ target }));
    },
    async propagationOf(p) {
      return { mountpoint: p, shared: shared.has(p), slave: false };
    },
    async copyTree() {
      calls.push('copy');
    },
  };
}

describe('named volumes: create, options mounted while held, prune, reconcile', () => {
  let dir2: string;
  let db2: Database;
  let sys: ReturnType<typeof fakeSys>;
  let v2: Volumes;
  const root = (): string => join(dir2, 'volumes');
  const add = (id: string): void => {
    db2.db.prepare(`INSERT INTO containers (id, name, image_id, image_ref, created_at, config, host_config, state, runtime) VALUES (?, ?, 'i', 'r', 't', '{}', '{}', '{}', 'runc')`).run(id, `c-${id.slice(0, 6)}`);
  };
  const made = async (id: string, hc: Parameters<Volumes['prepare']>[1], inherited: Parameters<Volumes['prepare']>[2] = []) => {
    const p = await v2.prepare({}, hc, inherited);
    add(id);
    db2.transaction(() => v2.record(id, p));
    return p;
  };

  before(() => {
    dir2 = mkdtempSync(join(tmpdir(), 'joey-volumes2-'));
    db2 = openDatabase(join(dir2, 'joey.db'));
    sys = fakeSys();
    v2 = new Volumes({ db: db2, root: root(), events: bus, sys });
  });
  after(() => {
    db2.close();
    rmSync(dir2, { recursive: true, force: true });
  });

  test('create: checked options and names, generated names, the same volume for an existing name', async () => {
    const v = await v2.create({ Name: 'tv', DriverOpts: { type: 'tmpfs', device: 'tmpfs', o: 'size=10m,uid=1000' }, Labels: { a: 'b' } });
    assert.deepEqual([v.Name, v.Driver, v.Scope, v.Options, v.Labels], ['tv', 'local', 'local', { type: 'tmpfs', device: 'tmpfs', o: 'size=10m,uid=1000' }, { a: 'b' }]);
    assert.match(v.CreatedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.ok(statSync(v.Mountpoint).isDirectory());
    assert.deepEqual(await v2.create({ Name: 'tv', Labels: { other: '1' } }), v, 'idempotent: the existing volume as it is');
    assert.match((await v2.create({})).Name, /^[0-9a-f]{64}$/);
    await assert.rejects(v2.create({ Name: 'xx', DriverOpts: { nope: '1' } }), { kind: 'invalid', message: /create xx: invalid option: "nope"/ });
    await assert.rejects(v2.create({ Name: 'x', Driver: 'nfs' }), { kind: 'not-found', message: /plugin "nfs" not found/ });
    await assert.rejects(v2.create({ Name: '../x' }), { kind: 'invalid', message: /invalid characters/ });
    assert.deepEqual(sys.calls, [], 'nothing mounted at create');
  });

  test('a volume with options is mounted for its first running user and unmounted after its last', async () => {
    const a = 'a'.repeat(64);
    const b = 'b'.repeat(64);
    const pa = await made(a, { Binds: ['tv:/t'] });
    const pb = await made(b, { Mounts: [{ Type: 'volume', Source: 'tv', Target: '/t' }] });
    const mp = join(root(), 'tv', '_data');
    await v2.acquire(a, pa.mounts);
    await v2.acquire(b, pb.mounts);
    assert.deepEqual(sys.calls, [`mount -t tmpfs -o size=10m,uid=1000 tmpfs ${mp}`], 'mounted once');
    await v2.release(a);
    assert.ok(sys.mounted.has(mp), 'still held by the other');
    await v2.release(b);
    assert.ok(!sys.mounted.has(mp), 'unmounted after the last');
    await v2.release(b); // idempotent
    // A crash: the holders are rebuilt from running containers, the rest unmounted.
    await v2.acquire(a, pa.mounts);
    const fresh = new Volumes({ db: db2, root: root(), events: bus, sys });
    await fresh.reconcile();
    assert.ok(!sys.mounted.has(mp), 'nobody adopted it: unmounted at start-up');
    sys.mounted.add(mp);
    const again = new Volumes({ db: db2, root: root(), events: bus, sys });
    again.adopt(a, pa.mounts);
    await again.reconcile();
    assert.ok(sys.mounted.has(mp), 'a running container still holds it');
    await again.release(a);
    assert.ok(!sys.mounted.has(mp));
    // In use by created containers: refused, even with force.
    await assert.rejects(v2.remove('tv', { force: true }), { kind: 'conflict', message: new RegExp(`remove tv: volume is in use - \\[${a}, ${b}\\]`) });
    db2.transaction(() => db2.db.prepare('DELETE FROM containers').run());
  });

  test('acquire: subpaths resolve inside the volume; shared binds need a shared source', async () => {
    const c = 'c'.repeat(64);
    await v2.create({ Name: 'subs' });
    mkdirSync(join(root(), 'subs', '_data', 'x', 'y'), { recursive: true });
    const p = await made(c, { Mounts: [{ Type: 'volume', Source: 'subs', Target: '/s', VolumeOptions: { Subpath: 'x/y' } }] });
    const [m] = await v2.acquire(c, p.mounts);
    assert.equal(m!.Source, join(root(), 'subs', '_data', 'x', 'y'));
    assert.equal(p.mounts[0]!.CopyData, false, 'no copy into a subpath');
    const missing = await v2.prepare({}, { Mounts: [{ Type: 'volume', Source: 'subs', Target: '/s', VolumeOptions: { Subpath: 'nope' } }] });
    await assert.rejects(v2.acquire(c, missing.mounts), { kind: 'invalid', message: /cannot access path/ });
    const src = join(dir2, 'shared-src');
    mkdirSync(src);
    const shared = await v2.prepare({}, { Binds: [`${src}:/m:rshared`] });
    await assert.rejects(v2.acquire(c, shared.mounts), { kind: 'invalid', message: /is not a shared mount/ });
    sys.shared.add(src);
    await v2.acquire(c, shared.mounts);
    db2.transaction(() => db2.db.prepare('DELETE FROM containers').run());
  });

  test('--volumes-from: the donor\'s binds and volumes, read-only with :ro, replaced by the container\'s own', async () => {
    const donor = 'd'.repeat(64);
    const src = join(dir2, 'donor-bind');
    const pd = await made(donor, { Binds: ['shared1:/v', `${src}:/b:ro`, '/anon'], Mounts: [{ Type: 'tmpfs', Target: '/t' }] });
    const from = [{ mounts: v2.mountsOf(donor), mode: 'ro' }];
    const p = await v2.prepare({ Volumes: { '/v': {} } }, { Binds: [`${src}:/own`] }, from);
    const byDest = new Map(p.mounts.map((m) => [m.Destination, m]));
    assert.deepEqual([...byDest.keys()].sort(), ['/anon', '/b', '/own', '/v'], 'no tmpfs, no new anonymous volume at /v');
    assert.equal(byDest.get('/v')!.Name, 'shared1');
    assert.equal(byDest.get('/v')!.RW, false);
    assert.equal(byDest.get('/anon')!.Name, pd.mounts.find((m) => m.Destination === '/anon')!.Name);
    const rw = await v2.prepare({}, {}, [{ mounts: v2.mountsOf(donor), mode: 'rw' }]);
    assert.equal(rw.mounts.find((m) => m.Destination === '/b')!.RW, false, ':rw does not make a read-only mount writable');
    assert.equal(rw.mounts.find((m) => m.Destination === '/v')!.RW, true);
    db2.transaction(() => db2.db.prepare('DELETE FROM containers').run());
  });

  test('an upgrade: volumes for the new image\'s paths without a mount, recorded with the old ones; a rollback takes them away', async () => {
    const id = 'f'.repeat(64);
    const bind = join(dir2, 'upgrade-bind');
    const p = await made(id, { Binds: ['data1:/data', `${bind}:/conf`, '/old-anon'] });
    const before = v2.mountsOf(id);
    const up = await v2.prepareAdded({ '/data': {}, '/conf': {}, '/cache/': {}, '/logs': {} }, before);
    assert.deepEqual(up.mounts.slice(0, before.length), before, 'the mounts it had, as they were');
    const added = up.mounts.slice(before.length);
    assert.deepEqual(added.map((m) => [m.Type, m.Destination, m.Anonymous, m.CopyData]), [['volume', '/cache', true, true], ['volume', '/logs', true, true]]);
    assert.deepEqual(up.created.map((v) => v.name), added.map((m) => m.Name));
    assert.ok(up.created.every((v) => v.anonymous && ANONYMOUS_LABEL in v.labels && existsSync(v.mountpoint)));
    assert.deepEqual((await v2.prepareAdded({ '/data': {} }, before)).created, [], 'nothing to make: nothing made');

    // A swap that failed before it was recorded leaves no directory.
    const failed = await v2.prepareAdded({ '/tmp-x': {} }, before);
    await v2.discard(failed);
    assert.ok(!existsSync(join(root(), failed.created[0]!.name)));

    db2.transaction(() => v2.record(id, up));
    assert.deepEqual(v2.mountsOf(id).map((m) => m.Destination), ['/data', '/conf', '/old-anon', '/cache', '/logs']);
    const names = up.created.map((v) => v.name);
    db2.transaction(() => v2.dropMounts(id, names));
    assert.deepEqual(v2.mountsOf(id), before);
    await v2.removeUnusedAnonymous([...names, 'data1', 'never-was']);
    const left = (await v2.list()).Volumes.map((v) => v.Name);
    assert.ok(names.every((n) => !left.includes(n)) && !names.some((n) => existsSync(join(root(), n))), 'the made ones are gone');
    assert.ok(left.includes('data1') && left.includes(p.mounts.find((m) => m.Destination === '/old-anon')!.Name!), 'a named volume, and one in use, stay');
    await v2.removeUnusedAnonymous(names); // again: nothing left to do
    db2.transaction(() => db2.db.prepare('DELETE FROM containers').run());
  });

  test('prune: anonymous only unless all; labels; not what is in use; events', async () => {
    for (const v of (await v2.list()).Volumes) await v2.remove(v.Name);
    await v2.create({ Name: 'keep1' });
    await v2.create({ Name: 'lab1', Labels: { x: 'y' } });
    const user = 'e'.repeat(64);
    const p = await made(user, { Binds: ['used1:/u', '/anon'] });
    const anon = p.mounts.find((m) => m.Destination === '/anon')!.Name!;
    assert.deepEqual(await v2.prune(), { VolumesDeleted: [], SpaceReclaimed: 0 }, 'the anonymous one is in use');
    db2.transaction(() => db2.db.prepare('DELETE FROM containers').run());
    writeFileSync(join(root(), anon, '_data', 'f'), '12345');
    assert.deepEqual(await v2.prune(), { VolumesDeleted: [anon], SpaceReclaimed: 5 });
    assert.deepEqual((await v2.prune({ filters: { all: ['true'], label: ['x=y'] } })).VolumesDeleted, ['lab1']);
    assert.deepEqual((await v2.prune({ filters: { 'label!': ['nothing'] }, all: true })).VolumesDeleted.sort(), ['keep1', 'used1']);
    await assert.rejects(v2.prune({ filters: { dangling: ['true'] } }), { kind: 'invalid', message: /invalid filter 'dangling'/ });
    assert.ok(events.some((e) => e.Type === 'volume' && e.Action === 'prune'));
  });

  test('reconcile removes directories without a record, never through a mount', async () => {
    mkdirSync(join(root(), 'stray', '_data'), { recursive: true });
    mkdirSync(join(root(), 'stray-mounted', '_data'), { recursive: true });
    sys.mounted.add(join(root(), 'stray-mounted', '_data'));
    await v2.create({ Name: 'real1' });
    await v2.reconcile();
    assert.ok(!existsSync(join(root(), 'stray')));
    assert.ok(!existsSync(join(root(), 'stray-mounted')), 'unmounted, then removed');
    assert.ok(!sys.mounted.has(join(root(), 'stray-mounted', '_data')));
    assert.ok(existsSync(join(root(), 'real1', '_data')));
  });
});
