// Opening the metadata database: pragmas, then the numbered migrations of
// schema.ts, each in its own transaction.
import BetterSqlite3 from 'better-sqlite3';
import { failedPrecondition, internal, messageOf } from '../errdefs/index.ts';
import { MIGRATIONS, type Migration } from './schema.ts';

export type Sqlite = BetterSqlite3.Database;

/** A thin handle: `db` is the better-sqlite3 connection for prepared
 * statements; `transaction` runs `fn` in BEGIN IMMEDIATE … COMMIT (nested calls
 * become savepoints). `fn` must be synchronous: better-sqlite3 commits as soon
 * as it returns, so an `await` inside would escape the transaction. */
export interface Database {
  readonly db: Sqlite;
  readonly path: string;
  transaction<T>(fn: () => T): T;
  close(): void;
}

export interface OpenOptions {
  /** Tests pass their own list; the daemon uses schema.ts's. */
  migrations?: Migration[];
}

export function openDatabase(path: string, opts: OpenOptions = {}): Database {
  const migrations = opts.migrations ?? MIGRATIONS;
  let db: Sqlite;
  try {
    db = new BetterSqlite3(path);
  } catch (err) {
    throw internal(`opening metadata database ${path}: ${messageOf(err)}`, err);
  }
  try {
    db.pragma('journal_mode = WAL');
    // NORMAL, not FULL: in WAL mode NORMAL loses nothing when the process dies
    // (kill -9), which is the crash the failure rules name. On power loss it
    // may roll back the last transactions, but the database stays consistent,
    // and FULL would not buy more: snapshot directories are not fsynced file
    // by file either, so start-up reconciliation (snapshot cleanup, blob GC)
    // must cope with a row and its files disagreeing in any case.
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    migrate(db, path, migrations);
  } catch (err) {
    db.close();
    throw err;
  }
  return {
    db,
    path,
    transaction<T>(fn: () => T): T {
      return db.transaction(fn).immediate();
    },
    close() {
      if (db.open) db.close();
    },
  };
}

/** The highest migration version recorded in the database (0 when new). */
export function schemaVersion(db: Sqlite): number {
  const row = db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: number | null };
  return row.v ?? 0;
}

function migrate(db: Sqlite, path: string, migrations: Migration[]): void {
  for (let i = 0; i < migrations.length; i++) {
    if (migrations[i]!.version !== i + 1) throw internal(`migration list is not numbered 1..n at index ${i}`);
  }
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    applied_at INTEGER NOT NULL
  )`);
  const current = schemaVersion(db);
  if (current > migrations.length) {
    throw failedPrecondition(
      `metadata database ${path} is at schema version ${current}, newer than this joey knows (${migrations.length}); ` +
        'a newer joey wrote it',
    );
  }
  const record = db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)');
  for (const m of migrations.slice(current)) {
    const apply = db.transaction(() => {
      // Another process may have migrated since we looked; the IMMEDIATE
      // transaction holds the write lock, so this second look is the truth.
      if (schemaVersion(db) >= m.version) return;
      db.exec(m.sql);
      record.run(m.version, Date.now());
    });
    try {
      apply.immediate();
    } catch (err) {
      throw internal(`metadata migration ${m.version} (${m.description}) failed: ${messageOf(err)}`, err);
    }
  }
}
