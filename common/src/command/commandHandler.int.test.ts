import { expect } from 'chai';
import { join } from 'node:path';
import { type Db, inWriteTransaction, migrate, openDatabase } from '../db/database.ts';
import { eventLogMigrations } from '../db/eventLog.ts';
import { FeedStore, feedMigrations } from '../feed/feedStore.ts';
import { deciderSpecification, projectionSpecification } from '../testing/deciderSpecification.ts';
import { tempDir } from '../testing/tempDir.ts';
import { el } from '../xml/xhtml.ts';
import { createCommandHandler } from './commandHandler.ts';
import type { Decider, Projection } from './decider.ts';
import { SqliteCommandEngine } from './sqliteCommandEngine.ts';

// A small domain: a tab that takes amounts up to a limit. `Add` records the amount and, the first
// time, a private `Opened`; over the limit it is refused.
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
    if (c.amount === 0) return { ok: true, events: [] };
    return { ok: true, events: [...(s.open ? [] : [{ type: 'Opened', tab: c.tab } as const]), { type: 'Added', tab: c.tab, amount: c.amount }] };
  },
};
const tabProjection: Projection<Tab, TabEvent> = (e, { eventId, state }) => (e.type === 'Opened' ? null : {
  key: eventId, type: 'Added', typeLabel: 'Added', title: `${e.amount} added`, orderId: e.tab,
  summary: `total ${state.total}`, content: el('p', null, `total ${state.total}`), payload: { amount: e.amount, total: state.total },
});
const AT = '2025-06-06T10:00:00.000Z';
const add = (amount: number, tab = 'T-1'): TabCommand => ({ type: 'Add', tab, amount });

describe('CommandHandler on the SQLite engine', () => {
  const dir = tempDir();
  after(() => dir.remove());
  let n = 0;

  /** A service's database on a file, and a second connection that sees only what is committed. */
  function setup(projection: Projection<Tab, TabEvent> = tabProjection) {
    const file = join(dir.path, `tabs-${++n}.db`);
    const db = openDatabase(file);
    migrate(db, [...eventLogMigrations, ...feedMigrations, { id: 'tab-1', sql: 'CREATE TABLE extras (tab TEXT NOT NULL, note TEXT NOT NULL)' }]);
    let ids = 0;
    const feed = new FeedStore(db, { pageSize: 10 });
    const engine = new SqliteCommandEngine(db, feed, { newEventId: () => `00000000-0000-4000-8000-${String(++ids).padStart(12, '0')}` });
    const other = openDatabase(file);
    const count = (table: string): number => (other.prepare(`SELECT count(*) AS c FROM ${table}`).get() as { c: number }).c;
    const committed = () => ({ events: count('events'), entries: count('feed_entries'), extras: count('extras') });
    const extra = db.prepare('INSERT INTO extras (tab, note) VALUES (?, ?)');
    const close = () => { other.close(); db.close(); };
    return { db, feed, handler: createCommandHandler(engine, tabDecider, projection), committed, extra, close };
  }

  it('appends the events and their feed entries in one transaction, with the service\'s own writes', () => {
    const { handler, committed, extra, close } = setup();
    const seenInside: unknown[] = [];
    const handled = handler.handle('T-1', add(30), {
      recordedAt: AT,
      afterAppend: (recorded, tx: Db, state) => {
        extra.run('T-1', `after ${recorded.length} events, total ${state.total}`);
        seenInside.push(tx.inTransaction, committed());
      },
    });
    expect(seenInside).to.deep.equal([true, { events: 0, entries: 0, extras: 0 }]);
    expect(committed()).to.deep.equal({ events: 2, entries: 1, extras: 1 });
    expect(handled.decision).to.deep.equal({ ok: true, events: [{ type: 'Opened', tab: 'T-1' }, { type: 'Added', tab: 'T-1', amount: 30 }] });
    expect(handled.state).to.deep.equal({ open: true, total: 30 });
    expect(handled.recorded.map((r) => [r.eventId, r.streamId, r.recordedAt, r.event.type])).to.deep.equal([
      ['00000000-0000-4000-8000-000000000001', 'T-1', AT, 'Opened'],
      ['00000000-0000-4000-8000-000000000002', 'T-1', AT, 'Added'],
    ]);
    expect(handler.load('T-1')).to.deep.equal({ open: true, total: 30 });
    close();
  });

  it('projects each event with the state after it, keyed by the event id', () => {
    const { feed, handler, close } = setup();
    handler.handle('T-1', add(30), { recordedAt: AT });
    handler.handle('T-1', add(12), { recordedAt: AT });
    expect(feed.entriesOf(feed.page(1)!).map((e) => [e.position, e.key, e.payload]).reverse()).to.deep.equal([
      [1, '00000000-0000-4000-8000-000000000002', { amount: 30, total: 30 }],
      [2, '00000000-0000-4000-8000-000000000003', { amount: 12, total: 42 }],
    ]);
    close();
  });

  it('writes nothing for a refused command, and returns the refusal', () => {
    const { handler, committed, close } = setup();
    handler.handle('T-1', add(90), { recordedAt: AT });
    let called = false;
    const handled = handler.handle('T-1', add(20), { recordedAt: AT, afterAppend: () => { called = true; } });
    expect(handled).to.deep.equal({ decision: { ok: false, reason: 'over-limit', total: 90 }, state: { open: true, total: 90 }, recorded: [] });
    expect(called).to.equal(false);
    expect(committed()).to.deep.equal({ events: 2, entries: 1, extras: 0 });
    close();
  });

  it('runs afterAppend with no events when an accepted command changes nothing', () => {
    const { handler, committed, extra, close } = setup();
    const handled = handler.handle('T-1', add(0), { recordedAt: AT, afterAppend: (recorded) => { extra.run('T-1', `${recorded.length}`); } });
    expect(handled.recorded).to.deep.equal([]);
    expect(committed()).to.deep.equal({ events: 0, entries: 0, extras: 1 });
    close();
  });

  it('rolls everything back when the projection throws, and when afterAppend does', () => {
    const { handler, committed, close } = setup(() => { throw new Error('projection failed'); });
    expect(() => handler.handle('T-1', add(30), { recordedAt: AT })).to.throw('projection failed');
    expect(committed()).to.deep.equal({ events: 0, entries: 0, extras: 0 });
    close();
    const second = setup();
    expect(() => second.handler.handle('T-1', add(30), { recordedAt: AT, afterAppend: () => { throw new Error('extra failed'); } })).to.throw('extra failed');
    expect(second.committed()).to.deep.equal({ events: 0, entries: 0, extras: 0 });
    expect(second.db.inTransaction).to.equal(false);
    second.close();
  });

  it('joins the caller\'s open transaction: commits with it, and rolls back with it', () => {
    const { db, handler, committed, extra, close } = setup();
    inWriteTransaction(db, () => {
      handler.handle('T-1', add(30), { recordedAt: AT });
      extra.run('T-1', 'read position, say');
      expect(committed()).to.deep.equal({ events: 0, entries: 0, extras: 0 });
    });
    expect(committed()).to.deep.equal({ events: 2, entries: 1, extras: 1 });
    expect(() => inWriteTransaction(db, () => {
      handler.handle('T-1', add(5), { recordedAt: AT });
      throw new Error('the consumer failed after the command');
    })).to.throw('the consumer failed');
    expect(committed()).to.deep.equal({ events: 2, entries: 1, extras: 1 });
    expect(handler.load('T-1')).to.deep.equal({ open: true, total: 30 });
    close();
  });

  it('shares a transaction the caller opened with transaction(), through tx', () => {
    const { handler, committed, extra, close } = setup();
    const outcome = handler.transaction((tx) => {
      extra.run('T-1', 'idempotency key, say');
      return handler.handle('T-1', add(30), { recordedAt: AT, tx }).decision.ok;
    });
    expect(outcome).to.equal(true);
    expect(committed()).to.deep.equal({ events: 2, entries: 1, extras: 1 });
    expect(() => handler.transaction((tx) => {
      extra.run('T-1', 'rolled back');
      handler.handle('T-1', add(5), { recordedAt: AT, tx });
      throw new Error('later check failed');
    })).to.throw('later check failed');
    expect(committed()).to.deep.equal({ events: 2, entries: 1, extras: 1 });
    close();
  });
});

describe('deciderSpecification and projectionSpecification', () => {
  const given = deciderSpecification(tabDecider);
  const projected = projectionSpecification(tabDecider, tabProjection, { eventIds: ['e-1', 'e-2', 'e-3'] });

  it('asserts events, an accepted no-op and refusals', () => {
    given().when(add(5)).then({ type: 'Opened', tab: 'T-1' }, { type: 'Added', tab: 'T-1', amount: 5 });
    given({ type: 'Opened', tab: 'T-1' }).when(add(0)).then();
    given({ type: 'Added', tab: 'T-1', amount: 99 }).when(add(2)).thenRefused({ reason: 'over-limit', total: 99 });
    expect(() => given().when(add(5)).then()).to.throw();
    expect(() => given().when(add(500)).thenRefused({ reason: 'over-limit', total: 1 })).to.throw();
  });

  it('projects a history with the state after each event, private events publishing nothing', () => {
    const history = projected({ type: 'Opened', tab: 'T-1' }, { type: 'Added', tab: 'T-1', amount: 5 }, { type: 'Added', tab: 'T-1', amount: 7 });
    expect(history.entries.map((e) => e?.payload ?? null)).to.deep.equal([null, { amount: 5, total: 5 }, { amount: 7, total: 12 }]);
    history.then(tabProjection({ type: 'Added', tab: 'T-1', amount: 5 }, { eventId: 'e-2', streamId: 'stream-1', state: { open: true, total: 5 }, recordedAt: AT })!,
      tabProjection({ type: 'Added', tab: 'T-1', amount: 7 }, { eventId: 'e-3', streamId: 'stream-1', state: { open: true, total: 12 }, recordedAt: AT })!);
  });
});
