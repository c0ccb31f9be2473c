// Migrations on PostgreSQL when several instances start at once.
import { expect } from 'chai';
import type { Pool } from 'pg';
import { requirePeer } from '../testing/peers.ts';
import { createTestDatabase, postgresqlPeer } from '../testing/postgres.ts';
import { rejection } from '../testing/storeEngines.ts';
import { openPgPool } from './pgDatabase.ts';
import { pgConsumerMigrations } from './pgConsumerStore.ts';
import { pgEventLogMigrations } from './pgEventLog.ts';
import { pgFeedMigrations } from './pgFeedMigrations.ts';
import { pgIdempotencyMigrations } from './pgIdempotency.ts';
import { migratePg, pendingPgMigrations } from './pgMigrate.ts';

const ALL = [...pgEventLogMigrations, ...pgFeedMigrations, ...pgIdempotencyMigrations, ...pgConsumerMigrations];

describe('PostgreSQL migrations', () => {
  const pools: Pool[] = [];
  const pool = (url: string): Pool => { const p = openPgPool(url, { max: 2 }); pools.push(p); return p; };
  before(async function () { this.timeout(60_000); await requirePeer(this, postgresqlPeer); });
  after(async () => { await Promise.all(pools.map((p) => p.end())); });

  it('apply each step once when eight instances start together', async () => {
    const url = await createTestDatabase();
    const instances = Array.from({ length: 8 }, () => pool(url));
    expect(await pendingPgMigrations(instances[0]!, ALL)).to.deep.equal(ALL.map((m) => m.id));
    await Promise.all(instances.map((p) => migratePg(p, ALL)));
    const applied = await instances[0]!.query<{ id: string }>('SELECT id FROM schema_migrations ORDER BY applied_at, id');
    expect(applied.rows.map((r) => r.id).sort()).to.deep.equal(ALL.map((m) => m.id).sort());
    for (const p of instances) expect(await pendingPgMigrations(p, ALL)).to.deep.equal([]);
    const head = await instances[3]!.query<{ last_position: string }>('SELECT last_position FROM feed_head');
    expect(head.rows).to.deep.equal([{ last_position: '0' }]);
  });

  it('apply a later step to a database migrated before, and keep none of a step that fails', async () => {
    const url = await createTestDatabase();
    const p = pool(url);
    await migratePg(p, pgEventLogMigrations);
    const broken = { id: 'broken-001', sql: 'CREATE TABLE half_done (x INT); SELECT no_such_function();' };
    const error = await rejection(migratePg(p, [...pgEventLogMigrations, ...pgIdempotencyMigrations, broken]));
    expect(String(error)).to.match(/migration broken-001 failed/);
    expect(await pendingPgMigrations(p, [...pgEventLogMigrations, ...pgIdempotencyMigrations, broken])).to.deep.equal(['broken-001']);
    expect((await p.query("SELECT to_regclass('half_done')::text AS t")).rows[0]).to.deep.equal({ t: null });
  });
});
