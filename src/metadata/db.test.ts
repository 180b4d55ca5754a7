import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, schemaVersion } from './db.ts';
import { MIGRATIONS } from './schema.ts';
import { is } from '../errdefs/index.ts';

function tempDb(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'joey-db-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'metadata.db');
}

function tables(db: ReturnType<typeof openDatabase>): string[] {
  return (db.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[]).map(
    (r) => r.name,
  );
}

test('migrations apply once and re-opening is idempotent', (t) => {
  const path = tempDb(t);
  const db = openDatabase(path);
  assert.deepEqual(tables(db), ['build_cache', 'container_mounts', 'container_upgrades', 'containers', 'daemon_settings', 'endpoints', 'image_digests', 'image_layers', 'image_tags', 'images', 'networks', 'schema_migrations', 'snapshots', 'volumes']);
  assert.equal(schemaVersion(db.db), MIGRATIONS.length);
  assert.equal(db.db.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(db.db.pragma('foreign_keys', { simple: true }), 1);
  db.db.prepare("INSERT INTO snapshots (key, kind, created_at) VALUES ('a', 'committed', 1)").run();
  db.close();

  const again = openDatabase(path);
  const rows = again.db.prepare('SELECT version FROM schema_migrations').all();
  assert.equal(rows.length, MIGRATIONS.length);
  assert.equal((again.db.prepare('SELECT count(*) AS n FROM snapshots').get() as { n: number }).n, 1);
  again.close();
});

test('a database written by a newer joey is refused', (t) => {
  const path = tempDb(t);
  const db = openDatabase(path);
  db.db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(MIGRATIONS.length + 1, Date.now());
  db.close();
  assert.throws(
    () => openDatabase(path),
    (err) => is(err, 'failed-precondition') && /newer/.test((err as Error).message),
  );
});

test('a failing migration leaves the previous version in place', (t) => {
  const path = tempDb(t);
  const broken = [...MIGRATIONS, { version: MIGRATIONS.length + 1, description: 'broken', sql: 'CREATE TABLE x (a); SELECT * FROM nope;' }];
  assert.throws(() => openDatabase(path, { migrations: broken }), (err) => is(err, 'internal') && /broken/.test((err as Error).message));
  const db = openDatabase(path);
  assert.equal(schemaVersion(db.db), MIGRATIONS.length);
  assert.ok(!tables(db).includes('x'), 'the half-applied migration was rolled back');
  db.close();
});

test('deleting an image cascades to its layers, tags and digests', (t) => {
  const db = openDatabase(tempDb(t));
  t.after(() => db.close());
  const now = Date.now();
  const id = 'sha256:' + 'a'.repeat(64);
  db.transaction(() => {
    db.db
      .prepare('INSERT INTO images (id, manifest_digest, manifest_media_type, manifest_size, chain_id, size, added_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(id, 'sha256:' + 'b'.repeat(64), 'application/vnd.oci.image.manifest.v1+json', 400, 'sha256:' + 'c'.repeat(64), 1000, now);
    db.db
      .prepare('INSERT INTO image_layers VALUES (?, 0, ?, 10, ?, ?, ?)')
      .run(id, 'sha256:' + 'd'.repeat(64), 'application/vnd.oci.image.layer.v1.tar+gzip', 'sha256:' + 'c'.repeat(64), 'sha256:' + 'c'.repeat(64));
    db.db.prepare('INSERT INTO image_tags VALUES (?, ?, ?)').run('docker.io/library/busybox:latest', id, now);
    db.db.prepare('INSERT INTO image_digests VALUES (?, ?, ?)').run('docker.io/library/busybox@sha256:' + 'b'.repeat(64), id, now);
  });
  db.db.prepare('DELETE FROM images WHERE id = ?').run(id);
  for (const table of ['image_layers', 'image_tags', 'image_digests']) {
    assert.equal((db.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n, 0, table);
  }
});

test('a tag cannot point at a missing image, and a parent snapshot cannot go before its child', (t) => {
  const db = openDatabase(tempDb(t));
  t.after(() => db.close());
  assert.throws(() => db.db.prepare("INSERT INTO image_tags VALUES ('x:latest', 'sha256:nope', 1)").run(), /FOREIGN KEY/);
  const parent = db.db.prepare("INSERT INTO snapshots (key, kind, created_at) VALUES ('p', 'committed', 1)").run().lastInsertRowid;
  db.db.prepare("INSERT INTO snapshots (key, parent_id, kind, created_at) VALUES ('c', ?, 'active', 1)").run(parent);
  assert.throws(() => db.db.prepare("DELETE FROM snapshots WHERE key = 'p'").run(), /FOREIGN KEY/);
  assert.throws(() => db.db.prepare("INSERT INTO snapshots (key, kind, created_at) VALUES ('z', 'bogus', 1)").run(), /CHECK/);
});

test('transaction rolls back when fn throws', (t) => {
  const db = openDatabase(tempDb(t));
  t.after(() => db.close());
  assert.throws(() =>
    db.transaction(() => {
      db.db.prepare("INSERT INTO snapshots (key, kind, created_at) VALUES ('a', 'active', 1)").run();
      throw new Error('boom');
    }),
  );
  assert.equal((db.db.prepare('SELECT count(*) AS n FROM snapshots').get() as { n: number }).n, 0);
});

test('one upgrade in progress per container; its history goes with the container', (t) => {
  const db = openDatabase(tempDb(t));
  t.after(() => db.close());
  db.db.prepare(`INSERT INTO containers (id, name, image_id, image_ref, created_at, config, host_config, state, runtime) VALUES (?, 'c', 'sha256:a', 'a', '', '{}', '{}', '{}', 'runc')`).run('a'.repeat(64));
  const begin = db.db.prepare(`INSERT INTO container_upgrades (container_id, phase, started_at, old_image_id, old_image_ref, new_image_id, new_image_ref, old_config, was_running, keep_rootfs) VALUES (?, 'prepared', '', 'o', 'o', 'n', 'n', '{}', 1, 0)`);
  begin.run('a'.repeat(64));
  assert.throws(() => begin.run('a'.repeat(64)), /UNIQUE/);
  db.db.prepare("UPDATE container_upgrades SET outcome = 'success'").run();
  begin.run('a'.repeat(64));
  db.db.prepare('DELETE FROM containers').run();
  assert.equal((db.db.prepare('SELECT count(*) AS n FROM container_upgrades').get() as { n: number }).n, 0);
});

test('build_cache: a removed image takes its cache entries', () => {
  const dir = mkdtempSync(join(tmpdir(), 'joey-db-'));
  try {
    const db = openDatabase(join(dir, 'joey.db'));
    db.db.prepare("INSERT INTO images (id, manifest_digest, manifest_media_type, manifest_size, size, added_at) VALUES ('sha256:a', 'sha256:m', 'x', 1, 1, 0)").run();
    db.db.prepare("INSERT INTO build_cache (key, parent_id, image_id) VALUES ('k', '', 'sha256:a')").run();
    assert.throws(() => db.db.prepare("INSERT INTO build_cache (key, parent_id, image_id) VALUES ('k2', '', 'sha256:none')").run(), /FOREIGN KEY/);
    db.db.prepare("DELETE FROM images WHERE id = 'sha256:a'").run();
    assert.equal((db.db.prepare('SELECT COUNT(*) AS n FROM build_cache').get() as { n: number }).n, 0);
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
