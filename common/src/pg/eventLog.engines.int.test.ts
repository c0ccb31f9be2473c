// The event log's behaviour, once, on both engines; then what only PostgreSQL's has to do:
// writers of one stream on two connections conflict instead of interleaving.
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { requirePeer } from '../testing/peers.ts';
import { createTestDatabase, postgresqlPeer } from '../testing/postgres.ts';
import { type EngineDatabase, RolledBack, type TestEvent, rejection, storeEngines } from '../testing/storeEngines.ts';
import { StreamVersionConflictError, inPgTransaction, openPgPool } from './pgDatabase.ts';
import { PgEventLog, pgEventLogMigrations } from './pgEventLog.ts';
import { migratePg } from './pgMigrate.ts';

const at = '2026-03-01T10:00:00.000Z';
const ev = (type: string, fields: Record<string, unknown> = {}) => ({ eventId: randomUUID(), event: { type, ...fields } as TestEvent, recordedAt: at });

for (const engine of storeEngines()) {
  describe(`The event log on ${engine.name}`, () => {
    let db: EngineDatabase;
    before(async function () { await engine.setup(this); });
    beforeEach(async () => { db = await engine.database(); });
    afterEach(async () => { await db?.close(); });
    after(() => engine.teardown());

    it('reads a stream back in the order appended, each event exactly as written', async () => {
      const log = await db.openEventLog();
      const placed = ev('OrderPlaced', { z: 1, a: { y: [1, 'two'], b: null } });
      await log.append('order-1', [placed]);
      await log.append('order-1', [ev('PaymentReceived'), ev('OrderDispatched')]);
      const read = await log.read('order-1');
      expect(read.map((r) => r.event.type)).to.deep.equal(['OrderPlaced', 'PaymentReceived', 'OrderDispatched']);
      expect(read[0]).to.deep.include({ eventId: placed.eventId, streamId: 'order-1', recordedAt: at });
      expect(JSON.stringify(read[0]!.event)).to.equal(JSON.stringify(placed.event));
      expect(read.map((r) => r.seq)).to.satisfy((s: number[]) => s.every((x, i) => i === 0 || x > s[i - 1]!));
    });

    it('keeps streams apart, and an unknown stream is empty', async () => {
      const log = await db.openEventLog();
      await log.append('a', [ev('A1')]);
      await log.append('b', [ev('B1')]);
      await log.append('a', [ev('A2')]);
      expect((await log.read('a')).map((r) => r.event.type)).to.deep.equal(['A1', 'A2']);
      expect((await log.read('b')).map((r) => r.event.type)).to.deep.equal(['B1']);
      expect(await log.read('c')).to.deep.equal([]);
    });

    it('keeps nothing of a transaction that rolls back', async () => {
      const log = await db.openEventLog();
      await log.append('a', [ev('A1')]);
      expect(await rejection(log.append('a', [ev('A2'), ev('A3')], { rollback: true }))).to.be.instanceOf(RolledBack);
      await log.append('a', [ev('A4')]);
      expect((await log.read('a')).map((r) => r.event.type)).to.deep.equal(['A1', 'A4']);
    });

    it('refuses an event id used before, and keeps nothing of its transaction', async () => {
      const log = await db.openEventLog();
      const first = ev('A1');
      await log.append('a', [first]);
      expect(await rejection(log.append('b', [ev('B1'), { ...ev('B2'), eventId: first.eventId }]))).to.be.instanceOf(Error);
      expect(await log.read('b')).to.deep.equal([]);
    });
  });
}

describe('The event log on PostgreSQL, with two writers of one stream', () => {
  let pools: Pool[] = [];
  const log = new PgEventLog<TestEvent>();
  before(async function () {
    this.timeout(60_000);
    await requirePeer(this, postgresqlPeer);
    const url = await createTestDatabase();
    pools = [openPgPool(url, { max: 2 }), openPgPool(url, { max: 2 })];
    await migratePg(pools[0]!, pgEventLogMigrations);
  });
  after(async () => { await Promise.all(pools.map((p) => p.end())); });

  it('numbers each stream\'s events 1, 2, 3...', async () => {
    await inPgTransaction(pools[0]!, (tx) => log.append(tx, 'v', 0, [ev('V1'), ev('V2')]));
    await inPgTransaction(pools[0]!, (tx) => log.append(tx, 'v', 2, [ev('V3')]));
    expect((await log.readStream(pools[0]!, 'v')).version).to.equal(3);
    expect((await log.read(pools[0]!, 'v')).map((r) => [r.version, r.event.type])).to.deep.equal([[1, 'V1'], [2, 'V2'], [3, 'V3']]);
  });

  it('makes the second of two writers that decided on the same version conflict, not interleave', async () => {
    await inPgTransaction(pools[0]!, (tx) => log.append(tx, 's', 0, [ev('Placed')]));
    let release!: () => void;
    const held = new Promise<void>((r) => { release = r; });
    let firstAppended!: () => void;
    const appended = new Promise<void>((r) => { firstAppended = r; });
    // The first writer appends at version 1 and holds its transaction open...
    const first = inPgTransaction(pools[0]!, async (tx) => {
      const { version } = await log.readStream(tx, 's');
      await log.append(tx, 's', version, [ev('Paid')]);
      firstAppended();
      await held;
    }, { retries: 0 });
    await appended;
    // ...while the second, having read version 1 too, tries the same next version: it waits, then conflicts.
    const second = inPgTransaction(pools[1]!, async (tx) => log.append(tx, 's', 1, [ev('Cancelled')]), { retries: 0 });
    setTimeout(release, 100);
    await first;
    const error = await rejection(second);
    expect(error).to.be.instanceOf(StreamVersionConflictError).and.include({ streamId: 's', expectedVersion: 1 });
    expect((await log.read(pools[0]!, 's')).map((r) => r.event.type)).to.deep.equal(['Placed', 'Paid']);
  });

  it('runs the loser again on a fresh read when inPgTransaction retries, so both land in order', async () => {
    const decide = (pool: Pool, type: string, delayMs: number) => inPgTransaction(pool, async (tx) => {
      const { version } = await log.readStream(tx, 'r');
      await new Promise((r) => setTimeout(r, delayMs));
      return log.append(tx, 'r', version, [ev(type, { after: version })]);
    });
    const [a, b] = await Promise.all([decide(pools[0]!, 'A', 50), decide(pools[1]!, 'B', 0)]);
    const read = await log.read(pools[0]!, 'r');
    expect(read.map((r) => r.version)).to.deep.equal([1, 2]);
    // Each event was decided on the version before it: no write was based on a stale read.
    expect(read.map((r) => r.event['after'])).to.deep.equal([0, 1]);
    expect([a[0]!.version, b[0]!.version].sort()).to.deep.equal([1, 2]);
  });
});
