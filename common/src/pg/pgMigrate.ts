import type { Pool } from 'pg';
import type { Migration } from '../db/database.ts';
import type { PgQueryable } from './pgDatabase.ts';

/**
 * The advisory lock every migration takes: 'atomshop' as a bigint. It lies outside the int4
 * range, so it can never equal a subscription's `hashtext(...)` lock (see PgLeadership).
 */
export const MIGRATION_LOCK = '7022329889085894768';

const CREATE_TABLE = 'CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at TEXT NOT NULL)';

/**
 * Applies the migrations not yet applied, in order, each in its own transaction under one
 * advisory lock, so instances starting together apply each step exactly once: the others wait,
 * then find it recorded in schema_migrations and skip it. `Migration.sql` here is PostgreSQL's
 * dialect (the pg*Migrations lists), run as one multi-statement query.
 */
export async function migratePg(pool: Pool, migrations: readonly Migration[]): Promise<void> {
  if ((await pendingPgMigrations(pool, migrations)).length === 0) return;
  for (const m of migrations) {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`);
      await client.query(CREATE_TABLE);
      const seen = await client.query('SELECT 1 FROM schema_migrations WHERE id = $1', [m.id]);
      if (seen.rowCount === 0) {
        await client.query(m.sql);
        await client.query('INSERT INTO schema_migrations (id, applied_at) VALUES ($1, $2)', [m.id, new Date().toISOString()]);
      }
      await client.query('COMMIT');
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {});
      throw new Error(`migration ${m.id} failed: ${(e as Error).message}`, { cause: e });
    } finally {
      client.release();
    }
  }
}

/** The ids of the migrations not applied yet (all of them when none ever was), for readiness. */
export async function pendingPgMigrations(q: PgQueryable, migrations: readonly Migration[]): Promise<string[]> {
  const table = await q.query<{ t: string | null }>("SELECT to_regclass('schema_migrations')::text AS t");
  const applied = new Set(table.rows[0]?.t ? (await q.query<{ id: string }>('SELECT id FROM schema_migrations')).rows.map((r) => r.id) : []);
  return migrations.map((m) => m.id).filter((id) => !applied.has(id));
}
