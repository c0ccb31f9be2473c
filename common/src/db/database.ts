import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export type Db = Database.Database;

/** One named, append-only schema step. Ids are never reused or edited once shipped. */
export interface Migration {
  readonly id: string;
  readonly sql: string;
}

/**
 * Opens (creating if needed) a SQLite database in WAL mode. WAL with `synchronous=NORMAL`
 * survives a killed process with every committed transaction intact; an OS crash can lose the
 * last few commits, always whole transactions, never half of one.
 */
export function openDatabase(file: string): Db {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 10000');
  // Checkpoint the WAL every ~40 MB instead of every ~4 MB: a checkpoint's cost is mostly its
  // fsyncs and rewriting pages that changed again since, so fewer, larger ones cost ~20% less
  // per write here; the price is a larger WAL file and a longer (rarer) pause.
  db.pragma('wal_autocheckpoint = 10000');
  return db;
}

/** Applies the migrations not yet applied, each in its own transaction, in the order given. */
export function migrate(db: Db, migrations: readonly Migration[]): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at TEXT NOT NULL)');
  const applied = db.prepare('SELECT 1 FROM schema_migrations WHERE id = ?');
  const record = db.prepare('INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)');
  for (const m of migrations) {
    db.transaction(() => {
      if (applied.get(m.id)) return;
      db.exec(m.sql);
      record.run(m.id, new Date().toISOString());
    }).immediate();
  }
}

/** The ids of the migrations not applied to `db` yet (all of them when it never was migrated). */
export function pendingMigrations(db: Db, migrations: readonly Migration[]): string[] {
  const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get();
  const applied = new Set(table ? db.prepare<[], string>('SELECT id FROM schema_migrations').pluck().all() : []);
  return migrations.map((m) => m.id).filter((id) => !applied.has(id));
}

/** Runs `fn` in a write transaction that takes the write lock up front (no upgrade deadlocks). */
export function inWriteTransaction<T>(db: Db, fn: () => T): T {
  return db.transaction(fn).immediate();
}
