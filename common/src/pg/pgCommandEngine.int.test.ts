import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { createCommandHandler } from '../command/commandHandler.ts';
import type { Decider, Projection } from '../command/decider.ts';
import { requirePostgres } from '../testing/postgres.ts';
import { el } from '../xml/xhtml.ts';
import { PgCommandEngine } from './pgCommandEngine.ts';
import { StreamVersionConflictError, inPgTransaction, openPgPool } from './pgDatabase.ts';
import { pgEventLogMigrations } from './pgEventLog.ts';
import { pgFeedMigrations } from './pgFeedMigrations.ts';
import { PgFeedStore } from './pgFeedStore.ts';
import { migratePg } from './pgMigrate.ts';

// The tab of commandHandler.int.test.ts: amounts up to a limit, a private `Opened` the first time.
type TabEvent = { readonly type: 'Opened'; readonly tab: string } | { readonly type: 'Added'; readonly tab: string; readonly amount: number };
type TabCommand = { readonly type: 'Add'; readonly tab: string; readonly amount: number };
type TabDecision = { readonly ok: true; readonly events: readonly TabEvent[] } | { readonly ok: false; readonly reason: 'over-limit'; readonly total: number };
interface Tab { readonly open: boolean; readonly total: number }

const LIMIT = 100;
const tabDecider: Decider<Tab, TabCommand, TabEvent, TabDecision> = {
  initialState: { open: false, total: 0 },
  evolve: (s, e) => (e.type === 'Opened' ? { ...s, open: true } : { ...s, total: s.total + e.amount }),
  decide: (c, s) => {
    if (s.total + c.amount > LIMIT) return { ok: false, reason: 'over-limit', total: s.total };
    return { ok: true, events: [...(s.open ? [] : [{ type: 'Opened', tab: c.tab } as const]), { type: 'Added', tab: c.tab, amount: c.amount }] };
  },
};
const tabProjection: Projection<Tab, TabEvent> = (e, { eventId, state }) => (e.type === 'Opened' ? null : {
  key: eventId, type: 'Added', typeLabel: 'Added', title: `${e.amount} added`, orderId: e.tab,
  summary: `total ${state.total}`, content: el('p', null, `total ${state.total}`), payload: { amount: e.amount, total: state.total },
});
const AT = '2025-06-06T10:00:00.000Z';
const add = (amount: number, tab = 'T-1'): TabCommand => ({ type: 'Add', tab, amount });

describe('CommandHandler on the PostgreSQL engine', () => {
  const pools: Pool[] = [];
  let url = '';

  before(async function () { this.timeout(60_000); url = await requirePostgres(this); });
  after(async () => { await Promise.all(pools.map((p) => p.end())); });

  /** One instance of a service: its own pool, feed store and engine, on the shared database. */
  async function instance() {
    const pool = openPgPool(url, { max: 4 });
    pools.push(pool);
    await migratePg(pool, [...pgEventLogMigrations, ...pgFeedMigrations, { id: 'tab-1', sql: 'CREATE TABLE extras (tab TEXT NOT NULL, note TEXT NOT NULL)' }]);
    const feed = await PgFeedStore.open(pool, { pageSize: 5 });
    const engine = new PgCommandEngine(pool, feed, { newEventId: randomUUID });
    const count = async (table: string): Promise<number> => Number((await pool.query<{ c: string }>(`SELECT count(*) AS c FROM ${table}`)).rows[0]!.c);
    return { pool, feed, handler: createCommandHandler(engine, tabDecider, tabProjection), count };
  }

  it('appends the events, the service\'s own writes and the feed entries in one transaction; a refusal writes nothing', async () => {
    url = await createFreshDatabase();
    const { handler, count } = await instance();
    const done = await handler.handle('T-1', add(40), {
      recordedAt: AT,
      afterAppend: async (recorded, tx, state) => { await tx.query('INSERT INTO extras VALUES ($1, $2)', ['T-1', `${recorded.length} events, total ${state.total}`]); },
    });
    expect(done.decision.ok).to.equal(true);
    expect(done.recorded.map((r) => r.event.type)).to.deep.equal(['Opened', 'Added']);
    expect([await count('events'), await count('feed_entries'), await count('extras')]).to.deep.equal([2, 1, 1]);
    const refused = await handler.handle('T-1', add(61), { recordedAt: AT, afterAppend: () => { throw new Error('not for a refusal'); } });
    expect(refused.decision).to.deep.equal({ ok: false, reason: 'over-limit', total: 40 });
    expect([await count('events'), await count('feed_entries')]).to.deep.equal([2, 1]);
    expect(await handler.load('T-1')).to.deep.equal({ open: true, total: 40 });
  });

  it('rolls back the events and entries when afterAppend throws', async () => {
    url = await createFreshDatabase();
    const { handler, count } = await instance();
    let error: unknown;
    await handler.handle('T-1', add(1), { recordedAt: AT, afterAppend: () => Promise.reject(new Error('boom')) }).catch((e: unknown) => { error = e; });
    expect((error as Error).message).to.equal('boom');
    expect([await count('events'), await count('feed_entries')]).to.deep.equal([0, 0]);
  });

  it('decides again when another instance moved the stream: concurrent commands on two instances never break the rule', async () => {
    url = await createFreshDatabase();
    const [a, b] = [await instance(), await instance()];
    // 30 commands of 5 on one tab, split over two instances: exactly 20 fit under the limit.
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).handler.handle('T-1', add(5), { recordedAt: AT })));
    expect(results.filter((r) => r.decision.ok)).to.have.length(20);
    expect(await a.handler.load('T-1')).to.deep.equal({ open: true, total: 100 });
    const positions = (await a.pool.query<{ position: string }>('SELECT position FROM feed_entries ORDER BY position')).rows.map((r) => Number(r.position));
    expect(positions).to.deep.equal(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it('runs inside a caller\'s transaction, where a conflict is the caller\'s to retry', async () => {
    url = await createFreshDatabase();
    const { handler, count, pool } = await instance();
    await handler.transaction(async (tx) => {
      await tx.query("INSERT INTO extras VALUES ('T-2', 'before')");
      await handler.handle('T-2', add(1, 'T-2'), { recordedAt: AT, tx });
    });
    expect([await count('events'), await count('extras')]).to.deep.equal([2, 1]);
    // Another writer holds version 3 uncommitted while the caller's command reads version 2 and
    // appends at 3: it waits, then conflicts when the other commits, and the caller sees it.
    const other = await pool.connect();
    let error: unknown;
    try {
      await other.query('BEGIN');
      await other.query("INSERT INTO events (event_id, stream_id, version, type, data, recorded_at) VALUES ('x', 'T-2', 3, 'Added', '{\"type\":\"Added\",\"tab\":\"T-2\",\"amount\":1}', 'now')");
      const caller = inPgTransaction(pool, (tx) => handler.handle('T-2', add(1, 'T-2'), { recordedAt: AT, tx }), { retries: 0 }).catch((e: unknown) => { error = e; });
      await new Promise((r) => setTimeout(r, 200));
      await other.query('COMMIT');
      await caller;
    } finally { other.release(); }
    expect(error).to.be.instanceOf(StreamVersionConflictError);
    // Run again (as the caller's owner would), it decides on version 3.
    await handler.handle('T-2', add(1, 'T-2'), { recordedAt: AT });
    expect(await handler.load('T-2')).to.deep.equal({ open: true, total: 3 });
  });

  async function createFreshDatabase(): Promise<string> {
    const { createTestDatabase } = await import('../testing/postgres.ts');
    return createTestDatabase();
  }
});
