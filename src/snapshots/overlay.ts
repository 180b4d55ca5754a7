// The overlay snapshotter. Records live in the `snapshots` table; each row
// owns the directory <root>/<id>, with `fs` (a committed layer's files, or an
// active snapshot's upperdir) and `work` (overlay's workdir, active only).
// Paths use the numeric id, not the key, so that overlay options stay short
// and a commit (which renames the key) moves nothing on disk.
//
// Crash rules: a row is written before its directory is made and deleted
// before its directory is removed, so a crash leaves at worst a directory with
// no row (cleanup deletes it) or a fresh row with no directory (cleanup drops
// it when nothing references it).
import { chmod, lstat, mkdir, readdir, readFile, realpath, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { alreadyExists, conflict, failedPrecondition, internal, invalid, messageOf, notFound } from '../errdefs/index.ts';
import type { Database } from '../metadata/db.ts';
import { mountsUnder } from '../sys/mount.ts';
import { logger } from '../util/log.ts';
import { UNPACK_LABEL, type Mount, type SnapshotInfo, type SnapshotKind, type Snapshotter } from './types.ts';

export interface CleanupReport {
  /** Keys of half-unpacked active snapshots that were deleted. */
  removedUnpacks: string[];
  /** Directories under the root that had no row and were deleted. */
  removedDirs: string[];
  /** Keys of rows whose directory was missing and that nothing referenced: deleted. */
  droppedRows: string[];
  /** Keys of rows whose directory is missing but that a child snapshot or an
   * image still references: kept, for the image layer to repair (re-pull). */
  brokenRows: string[];
  /** Entries under the root left alone: not ours by name, or with a mount below. */
  skipped: string[];
}

export interface OverlaySnapshotter extends Snapshotter {
  readonly root: string;
  /** `cleanup`, telling what it did (cleanup also logs it). */
  reconcile(): Promise<CleanupReport>;
}

interface Row {
  id: number;
  key: string;
  parent_id: number | null;
  parent_key: string | null;
  kind: SnapshotKind;
  size: number;
  labels: string;
  created_at: number;
}

const log = logger({ component: 'snapshots' });

export async function openOverlaySnapshotter(root: string, db: Database): Promise<OverlaySnapshotter> {
  await mkdir(root, { recursive: true, mode: 0o700 });
  // Some hosts turn the overlay index on by default; it ties an upper to one
  // set of lowers and breaks sharing lowers between containers.
  const indexOn = (await readFile('/sys/module/overlay/parameters/index', 'utf8').catch(() => 'N')).trim() === 'Y';
  return new OverlayFs(root, db, indexOn);
}

function hasCode(err: unknown, code: string): boolean {
  return (err as { code?: unknown } | undefined)?.code === code;
}

function validateKey(key: string, what = 'snapshot key'): void {
  if (typeof key !== 'string' || key === '' || key.includes('\0')) throw invalid(`invalid ${what} ${JSON.stringify(key)}`);
}

function encodeLabels(labels: Record<string, string> | undefined): string {
  if (labels === undefined) return '{}';
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels)) throw invalid('snapshot labels must be an object of strings');
  for (const [k, v] of Object.entries(labels)) {
    if (typeof v !== 'string') throw invalid(`snapshot label ${JSON.stringify(k)} is not a string`);
  }
  return JSON.stringify(labels);
}

function toInfo(r: Row): SnapshotInfo {
  const info: SnapshotInfo = {
    key: r.key,
    kind: r.kind,
    createdAt: new Date(r.created_at),
    size: r.size,
    labels: JSON.parse(r.labels) as Record<string, string>,
  };
  if (r.parent_key !== null) info.parent = r.parent_key;
  return info;
}

const SELECT_ROW = `SELECT s.id, s.key, s.parent_id, p.key AS parent_key, s.kind, s.size, s.labels, s.created_at
  FROM snapshots s LEFT JOIN snapshots p ON p.id = s.parent_id`;

class OverlayFs implements OverlaySnapshotter {
  /** Ids between their INSERT and their mkdir: cleanup must not take them for rows without a directory. */
  private readonly creating = new Set<number>();
  private readonly q;

  constructor(
    readonly root: string,
    private readonly db: Database,
    private readonly indexOn: boolean,
  ) {
    const d = db.db;
    this.q = {
      byKey: d.prepare<[string], Row>(`${SELECT_ROW} WHERE s.key = ?`),
      all: d.prepare<[], Row>(`${SELECT_ROW} ORDER BY s.id`),
      unpacking: d.prepare<[], Row>(`${SELECT_ROW} WHERE s.kind = 'active' AND json_extract(s.labels, '$."${UNPACK_LABEL}"') IS NOT NULL`),
      // The parents of a snapshot, nearest first.
      chain: d.prepare<[number], { id: number }>(`WITH RECURSIVE chain(id, parent_id, depth) AS (
          SELECT id, parent_id, 0 FROM snapshots WHERE id = ?
          UNION ALL
          SELECT s.id, s.parent_id, c.depth + 1 FROM snapshots s JOIN chain c ON s.id = c.parent_id
        ) SELECT id FROM chain WHERE depth > 0 ORDER BY depth`),
      children: d.prepare<[number], { n: number }>('SELECT count(*) AS n FROM snapshots WHERE parent_id = ?'),
      imageRefs: d.prepare<[string, string], { n: number }>(
        'SELECT (SELECT count(*) FROM images WHERE chain_id = ?) + (SELECT count(*) FROM image_layers WHERE chain_id = ?) AS n',
      ),
      insert: d.prepare<[string, number | null, SnapshotKind, string, number]>(
        'INSERT INTO snapshots (key, parent_id, kind, labels, created_at) VALUES (?, ?, ?, ?, ?)',
      ),
      commit: d.prepare<[string, number | null, number, string, number, number]>(
        "UPDATE snapshots SET key = ?, kind = 'committed', parent_id = ?, size = ?, labels = ?, created_at = ? WHERE id = ?",
      ),
      delete: d.prepare<[number]>('DELETE FROM snapshots WHERE id = ?'),
      rename: d.prepare<[string, number]>('UPDATE snapshots SET key = ? WHERE id = ?'),
    };
  }

  private dir(id: number): string {
    return join(this.root, String(id));
  }
  private fsDir(id: number): string {
    return join(this.root, String(id), 'fs');
  }
  private workDir(id: number): string {
    return join(this.root, String(id), 'work');
  }

  private get(key: string): Row {
    validateKey(key);
    const row = this.q.byKey.get(key);
    if (!row) throw notFound(`snapshot ${key} not found`);
    return row;
  }

  async stat(key: string): Promise<SnapshotInfo> {
    return toInfo(this.get(key));
  }

  prepare(key: string, parent?: string, opts: { labels?: Record<string, string> } = {}): Promise<Mount[]> {
    return this.create('active', key, parent, opts.labels);
  }

  view(key: string, parent: string, opts: { labels?: Record<string, string> } = {}): Promise<Mount[]> {
    return this.create('view', key, parent, opts.labels);
  }

  private async create(kind: 'active' | 'view', key: string, parent: string | undefined, labels?: Record<string, string>): Promise<Mount[]> {
    validateKey(key);
    const labelsJson = encodeLabels(labels);
    const row = this.db.transaction(() => {
      let parentId: number | null = null;
      if (parent !== undefined) {
        validateKey(parent, 'parent snapshot key');
        const p = this.q.byKey.get(parent);
        if (!p) throw notFound(`parent snapshot ${parent} not found`);
        if (p.kind !== 'committed') throw failedPrecondition(`parent snapshot ${parent} is not committed (it is ${p.kind})`);
        parentId = p.id;
      }
      let id: number;
      try {
        id = Number(this.q.insert.run(key, parentId, kind, labelsJson, Date.now()).lastInsertRowid);
      } catch (err) {
        if (hasCode(err, 'SQLITE_CONSTRAINT_UNIQUE')) throw alreadyExists(`snapshot ${key} already exists`);
        throw err;
      }
      this.creating.add(id);
      return this.q.byKey.get(key)!;
    });
    try {
      await this.makeDirs(row.id, kind);
    } catch (err) {
      try {
        this.q.delete.run(row.id);
      } catch {
        // cleanup drops the row later
      }
      throw internal(`creating directories for snapshot ${key}: ${messageOf(err)}`, err);
    } finally {
      this.creating.delete(row.id);
    }
    return this.mountsOf(row);
  }

  private async makeDirs(id: number, kind: 'active' | 'view'): Promise<void> {
    const dir = this.dir(id);
    try {
      await mkdir(dir, { mode: 0o700 });
    } catch (err) {
      if (!hasCode(err, 'EEXIST')) throw err;
      // Ids are never reused, unless a power loss rolled back the row that
      // once owned this directory: whatever is here is an orphan.
      await removeTree(dir);
      await mkdir(dir, { mode: 0o700 });
    }
    await mkdir(this.fsDir(id), { mode: 0o755 });
    if (kind === 'active') await mkdir(this.workDir(id), { mode: 0o711 });
  }

  async mounts(key: string): Promise<Mount[]> {
    return this.mountsOf(this.get(key));
  }

  // The lowerdir option lists absolute paths, ~40 bytes each under the default
  // root; past about a hundred layers the options outgrow the one page that
  // mount(2) accepts. sys/mount.ts then mounts from the common directory with
  // relative paths (containerd's short-path trick), which fits ~500 layers,
  // overlayfs's own limit.
  private mountsOf(row: Row): Mount[] {
    const parents = this.q.chain.all(row.id).map((r) => this.fsDir(r.id));
    const extra = this.indexOn ? ['index=off'] : [];
    if (row.kind === 'active') {
      if (parents.length === 0) return [{ type: 'bind', source: this.fsDir(row.id), options: ['rbind', 'rw'] }];
      return [
        {
          type: 'overlay',
          source: 'overlay',
          options: [...extra, `workdir=${this.workDir(row.id)}`, `upperdir=${this.fsDir(row.id)}`, `lowerdir=${parents.join(':')}`],
        },
      ];
    }
    // A view shows its parent's chain; a committed snapshot shows itself on its chain.
    const lowers = row.kind === 'committed' ? [this.fsDir(row.id), ...parents] : parents;
    if (lowers.length === 1) return [{ type: 'bind', source: lowers[0]!, options: ['rbind', 'ro'] }];
    return [{ type: 'overlay', source: 'overlay', options: [...extra, `lowerdir=${lowers.join(':')}`] }];
  }

  async upperDir(key: string): Promise<string> {
    const row = this.get(key);
    if (row.kind !== 'active') throw failedPrecondition(`snapshot ${key} is not active (it is ${row.kind})`);
    return this.fsDir(row.id);
  }

  async commit(name: string, key: string, opts: { parent?: string; size?: number; labels?: Record<string, string> } = {}): Promise<void> {
    validateKey(name, 'snapshot name');
    const before = this.get(key);
    if (before.kind !== 'active') throw failedPrecondition(`snapshot ${key} is not active (it is ${before.kind})`);
    if (opts.parent !== undefined) validateKey(opts.parent, 'parent snapshot key');
    if (opts.size !== undefined && (!Number.isSafeInteger(opts.size) || opts.size < 0)) throw invalid(`invalid size ${opts.size} for snapshot ${key}`);
    const labelsJson = opts.labels === undefined ? undefined : encodeLabels(opts.labels);
    // Outside the transaction: walking a layer can take a while. The unpacker
    // passes the size it counted, so the pull path never walks.
    const size = opts.size ?? (await this.usageOf(before.id)).size;

    this.db.transaction(() => {
      const row = this.get(key); // again: it may have changed while we walked
      if (row.id !== before.id || row.kind !== 'active') throw failedPrecondition(`snapshot ${key} changed during commit`);
      let parentId = row.parent_id;
      if (opts.parent !== undefined) {
        const p = this.q.byKey.get(opts.parent);
        if (!p) throw notFound(`parent snapshot ${opts.parent} not found`);
        if (p.kind !== 'committed') throw failedPrecondition(`parent snapshot ${opts.parent} is not committed (it is ${p.kind})`);
        if (row.parent_id !== null && row.parent_id !== p.id) {
          throw failedPrecondition(`snapshot ${key} was prepared on ${row.parent_key}, not on ${opts.parent}`);
        }
        parentId = p.id;
      }
      let labels = labelsJson;
      if (labels === undefined) {
        const kept = JSON.parse(row.labels) as Record<string, string>;
        delete kept[UNPACK_LABEL];
        labels = JSON.stringify(kept);
      }
      try {
        this.q.commit.run(name, parentId, size, labels, Date.now(), row.id);
      } catch (err) {
        if (hasCode(err, 'SQLITE_CONSTRAINT_UNIQUE')) throw alreadyExists(`snapshot ${name} already exists`);
        throw err;
      }
    });
    // A leftover work dir only wastes a little space; cleanup retries it.
    await removeTree(this.workDir(before.id)).catch((err) => log.warn('removing work dir', { key: name, err }));
  }

  async remove(key: string): Promise<void> {
    const row = this.db.transaction(() => {
      const r = this.get(key);
      const { n } = this.q.children.get(r.id)!;
      if (n > 0) throw conflict(`snapshot ${key} has ${n} child snapshot${n === 1 ? '' : 's'}`);
      this.q.delete.run(r.id);
      return r;
    });
    await removeTree(this.dir(row.id));
  }

  rename(key: string, newKey: string): void {
    validateKey(newKey, 'new snapshot key');
    this.db.transaction(() => {
      const row = this.get(key);
      if (row.kind !== 'active') throw failedPrecondition(`snapshot ${key} is not active (it is ${row.kind})`);
      try {
        this.q.rename.run(newKey, row.id);
      } catch (err) {
        if (hasCode(err, 'SQLITE_CONSTRAINT_UNIQUE')) throw alreadyExists(`snapshot ${newKey} already exists`);
        throw err;
      }
    });
  }

  async *walk(): AsyncIterable<SnapshotInfo> {
    for (const r of this.q.all.all()) yield toInfo(r);
  }

  async usage(key: string): Promise<{ size: number; inodes: number }> {
    return this.usageOf(this.get(key).id);
  }

  /** Apparent bytes and distinct inodes under the snapshot's own fs dir
   * (hard links counted once), as `docker system df` counts a layer: the
   * bytes of files and symlinks, not of directories (a fresh container's
   * upper holds a few mount-point directories and shows 0 B, as in Docker). */
  private async usageOf(id: number): Promise<{ size: number; inodes: number }> {
    const seen = new Set<string>();
    let size = 0;
    let inodes = 0;
    const stack = [this.fsDir(id)];
    while (stack.length > 0) {
      const dir = stack.pop()!;
      const names = await readdir(dir);
      const stats = await Promise.all(names.map((n) => lstat(join(dir, n)).catch(() => undefined)));
      for (let i = 0; i < names.length; i++) {
        const st = stats[i];
        if (!st) continue; // gone while walking
        if (st.isDirectory()) {
          stack.push(join(dir, names[i]!));
          inodes++;
          continue;
        }
        if (st.nlink > 1) {
          const ino = `${st.dev}:${st.ino}`;
          if (seen.has(ino)) continue;
          seen.add(ino);
        }
        size += st.size;
        inodes++;
      }
    }
    return { size, inodes };
  }

  /** Start-up reconciliation; run it before the snapshotter serves anything
   * else, as it deletes every half-unpacked layer it finds. */
  async cleanup(): Promise<void> {
    await this.reconcile();
  }

  async reconcile(): Promise<CleanupReport> {
    const report: CleanupReport = { removedUnpacks: [], removedDirs: [], droppedRows: [], brokenRows: [], skipped: [] };

    const unpacks = this.db.transaction(() => {
      const rows = this.q.unpacking.all().filter((r) => this.q.children.get(r.id)!.n === 0);
      for (const r of rows) this.q.delete.run(r.id);
      return rows;
    });
    for (const r of unpacks) {
      await removeTree(this.dir(r.id));
      report.removedUnpacks.push(r.key);
    }

    // List directories before reading rows: a row is always written before
    // its directory, so a directory seen here without a row is an orphan.
    const entries = await readdir(this.root, { withFileTypes: true });
    const ids = new Set(this.q.all.all().map((r) => r.id));
    const mounts = await mountsUnder(this.root);
    const realRoot = await realpath(this.root); // mountinfo shows resolved paths
    for (const e of entries) {
      const path = join(this.root, e.name);
      const real = join(realRoot, e.name);
      if (!/^[0-9]+$/.test(e.name) || !e.isDirectory()) {
        report.skipped.push(path);
        continue;
      }
      const id = Number(e.name);
      if (ids.has(id) || this.creating.has(id)) continue;
      if (mounts.some((m) => m.target === real || m.target.startsWith(real + '/'))) {
        report.skipped.push(path); // deleting would reach through the mount
        continue;
      }
      await removeTree(path);
      report.removedDirs.push(path);
    }

    // Rows whose directory is gone: drop them bottom-up (a dropped child may
    // free its parent) until nothing changes.
    const broken = new Set<string>();
    for (let changed = true; changed; ) {
      changed = false;
      for (const r of this.q.all.all()) {
        if (this.creating.has(r.id) || (await exists(this.fsDir(r.id)))) continue;
        const dropped = this.db.transaction(() => {
          const now = this.q.byKey.get(r.key);
          if (!now || now.id !== r.id) return false;
          if (this.q.children.get(r.id)!.n > 0 || this.q.imageRefs.get(r.key, r.key)!.n > 0) return false;
          this.q.delete.run(r.id);
          return true;
        });
        if (dropped) {
          await removeTree(this.dir(r.id)); // a dir without its fs, if any
          report.droppedRows.push(r.key);
          broken.delete(r.key);
          changed = true;
        } else {
          broken.add(r.key);
        }
      }
    }
    report.brokenRows = [...broken];

    for (const r of this.q.all.all()) {
      if (r.kind === 'committed') await removeTree(this.workDir(r.id)).catch(() => {});
    }

    for (const key of report.removedUnpacks) log.info('removed half-unpacked snapshot', { key });
    for (const path of report.removedDirs) log.info('removed snapshot directory with no record', { path });
    for (const key of report.droppedRows) log.warn('dropped snapshot record whose directory was missing', { key });
    for (const key of report.brokenRows) log.error('snapshot directory missing but still referenced', { key });
    return report;
  }

  async close(): Promise<void> {
    // The database belongs to the caller; nothing else is held open.
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Removes a snapshot directory. Layers may hold read-only directories; root
 * deletes through them, but without CAP_DAC_OVERRIDE they need u+wx first.
 * (Files with the immutable attribute still fail: nothing here clears it.) */
export async function removeTree(path: string): Promise<void> {
  try {
    await rm(path, { recursive: true, force: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EACCES' && code !== 'EPERM') throw err;
    await makeDirsWritable(path);
    await rm(path, { recursive: true, force: true });
  }
}

async function makeDirsWritable(dir: string): Promise<void> {
  const st = await lstat(dir).catch(() => undefined);
  if (!st?.isDirectory()) return;
  if ((st.mode & 0o700) !== 0o700) await chmod(dir, (st.mode & 0o7777) | 0o700);
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.isDirectory()) await makeDirsWritable(join(dir, e.name));
  }
}
