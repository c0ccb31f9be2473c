// The consumer store's behaviour, once, on both engines: SQLite's ConsumerStore and PostgreSQL's PgConsumerStore.
import { expect } from 'chai';
import type { ConsumedEntry } from '../consumer/atomReader.ts';
import { type ConsumerUnderTest, type EngineDatabase, RolledBack, rejection, storeEngines } from '../testing/storeEngines.ts';

function consumed(position: number, orderId = `O-${position}`): ConsumedEntry {
  return {
    atomId: `urn:uuid:00000000-0000-4000-8000-${String(position).padStart(12, '0')}`, key: `k${position}`, position, type: 'OrderPlaced', orderId,
    title: `t${position}`, summary: 's', contentXhtml: '<p>x</p>', payload: { position }, updated: '2026-03-01T10:00:00.000Z',
  };
}

for (const engine of storeEngines()) {
  describe(`The consumer store on ${engine.name}`, () => {
    let db: EngineDatabase;
    let sub: ConsumerUnderTest;
    before(async function () { await engine.setup(this); });
    beforeEach(async () => {
      db = await engine.database();
      sub = await db.openConsumer('orders');
      await sub.ensure('http://orders/feed');
    });
    afterEach(async () => { await db?.close(); });
    after(() => engine.teardown());

    it('starts a subscription at position 0, and keeps its position when its feed URL changes', async () => {
      expect(await sub.get()).to.deep.equal({
        name: 'orders', feedUrl: 'http://orders/feed', feedId: null, started: 0, position: 0, lastAtomId: null, etag: null, lastModified: null,
        newestSeen: 0, lastSuccessAt: null, lastError: null, lastErrorAt: null, failures: 0, pageUrl: null, walkUrl: null,
      });
      expect(await sub.advance(0, { position: 3, atomId: 'urn:3' })).to.equal(true);
      await sub.ensure('http://elsewhere/feed');
      expect(await sub.get()).to.include({ feedUrl: 'http://elsewhere/feed', position: 3, lastAtomId: 'urn:3' });
    });

    it('advances the read position only from where it stands', async () => {
      expect(await sub.advance(0, { position: 1, atomId: 'urn:1' })).to.equal(true);
      expect(await sub.advance(0, { position: 2, atomId: 'urn:2' })).to.equal(false);
      expect(await sub.get()).to.include({ position: 1, lastAtomId: 'urn:1' });
      expect(await sub.advance(1, { position: 2, atomId: 'urn:2' })).to.equal(true);
      expect((await sub.get()).position).to.equal(2);
    });

    it('keeps nothing of a transaction that rolls back: not the position, not the parking', async () => {
      const error = await rejection(sub.transaction(async (s) => {
        expect(await s.advance(0, { position: 1, atomId: 'urn:1' })).to.equal(true);
        await s.park(consumed(1), 'boom', 3, '2026-03-01T10:00:00.000Z');
        throw new RolledBack();
      }));
      expect(error).to.be.instanceOf(RolledBack);
      expect((await sub.get()).position).to.equal(0);
      expect(await sub.parkedCount()).to.equal(0);
    });

    it('records the feed, validators, successes and failures an operator sees', async () => {
      await sub.setFeedId('urn:uuid:feed');
      await sub.setValidators({ etag: '"e1"', lastModified: 'Sun, 01 Mar 2026 10:00:00 GMT' });
      await sub.recordFailure('feed down', '2026-03-01T10:00:01.000Z');
      await sub.recordFailure('feed down again', '2026-03-01T10:00:02.000Z');
      expect(await sub.get()).to.include({ feedId: 'urn:uuid:feed', started: 1, etag: '"e1"', lastError: 'feed down again', lastErrorAt: '2026-03-01T10:00:02.000Z', failures: 2 });
      await sub.recordSuccess('2026-03-01T10:00:03.000Z', 7);
      await sub.recordSuccess('2026-03-01T10:00:04.000Z', 5);
      expect(await sub.get()).to.include({ lastSuccessAt: '2026-03-01T10:00:04.000Z', newestSeen: 7, failures: 0 });
      await sub.setNewestSeen(4);
      await sub.setValidators(undefined);
      expect(await sub.get()).to.include({ newestSeen: 4, etag: null, lastModified: null });
    });

    it('remembers the page it reads and a walk back under way, and ends the walk when the page is set', async () => {
      await sub.setWalk('http://orders/feed/archive/3');
      expect(await sub.get()).to.include({ walkUrl: 'http://orders/feed/archive/3', pageUrl: null });
      await sub.setPage('http://orders/feed/archive/2');
      expect(await sub.get()).to.include({ pageUrl: 'http://orders/feed/archive/2', walkUrl: null });
    });

    it('counts a failing entry\'s attempts across polls until they are cleared', async () => {
      expect(await sub.attempts('urn:1')).to.equal(0);
      expect(await sub.bumpAttempt('urn:1', 'e1')).to.equal(1);
      expect(await sub.bumpAttempt('urn:1', 'e2')).to.equal(2);
      expect(await sub.bumpAttempt('urn:2', 'e')).to.equal(1);
      await sub.clearAttempts();
      expect(await sub.attempts('urn:1')).to.equal(0);
    });

    it('resets to read the feed again from the start', async () => {
      await sub.advance(0, { position: 5, atomId: 'urn:5' });
      await sub.setFeedId('urn:uuid:feed');
      await sub.setValidators({ etag: '"e"', lastModified: undefined });
      await sub.setPage('http://orders/feed/archive/1');
      await sub.recordFailure('x', '2026-03-01T10:00:00.000Z');
      await sub.bumpAttempt('urn:6', 'x');
      await sub.reset();
      expect(await sub.get()).to.include({ started: 1, position: 0, lastAtomId: null, etag: null, feedId: null, failures: 0, pageUrl: null, walkUrl: null });
      expect(await sub.attempts('urn:6')).to.equal(0);
    });

    it('parks entries whole, lists them by position and by order, and replays or forgets them', async () => {
      await sub.park(consumed(5, 'O-a'), 'boom', 3, '2026-03-01T10:00:00.000Z');
      await sub.park(consumed(2, 'O-a'), 'bang', 3, '2026-03-01T10:00:01.000Z');
      await sub.park(consumed(3, 'O-b'), 'held', 0, '2026-03-01T10:00:02.000Z');
      expect((await sub.parked()).map((p) => p.position)).to.deep.equal([2, 3, 5]);
      expect(await sub.parkedCount()).to.equal(3);
      expect((await sub.parkedOfOrder('O-a')).map((p) => p.position)).to.deep.equal([2, 5]);
      const one = await sub.parkedOne(consumed(5).atomId);
      expect(one).to.deep.equal({ subscription: 'orders', atomId: consumed(5).atomId, position: 5, type: 'OrderPlaced', orderId: 'O-a', error: 'boom', attempts: 3, parkedAt: '2026-03-01T10:00:00.000Z', entry: consumed(5, 'O-a') });
      await sub.parkFailedAgain(consumed(5).atomId, 'boom again');
      expect(await sub.parkedOne(consumed(5).atomId)).to.include({ error: 'boom again', attempts: 4 });
      await sub.park(consumed(5, 'O-a'), 'parked anew', 1, '2026-03-01T11:00:00.000Z');
      expect(await sub.parkedOne(consumed(5).atomId)).to.include({ error: 'parked anew', attempts: 1, parkedAt: '2026-03-01T11:00:00.000Z' });
      await sub.unpark(consumed(2).atomId);
      expect((await sub.parked()).map((p) => p.position)).to.deep.equal([3, 5]);
      expect(await sub.parkedOne(consumed(2).atomId)).to.equal(undefined);
    });

    it('lists a page of parked entries after a position, oldest first, without the entries', async () => {
      for (const p of [7, 3, 5, 9]) await sub.park(consumed(p), `e${p}`, 1, '2026-03-01T10:00:00.000Z');
      expect(await sub.parkedSummaries(3, 2)).to.deep.equal([5, 7].map((p) => ({
        subscription: 'orders', atomId: consumed(p).atomId, position: p, type: 'OrderPlaced', orderId: `O-${p}`, error: `e${p}`, attempts: 1, parkedAt: '2026-03-01T10:00:00.000Z',
      })));
      expect((await sub.parkedSummaries(0, 10)).map((s) => s.position)).to.deep.equal([3, 5, 7, 9]);
    });

    it('keeps each subscription\'s state apart and lists them all by name', async () => {
      const billing = await db.openConsumer('billing');
      await billing.ensure('http://billing/feed');
      await billing.advance(0, { position: 9, atomId: 'urn:9' });
      await billing.park(consumed(9), 'x', 1, '2026-03-01T10:00:00.000Z');
      expect((await sub.get()).position).to.equal(0);
      expect(await sub.parkedCount()).to.equal(0);
      expect((await sub.list()).map((s) => [s.name, s.position])).to.deep.equal([['billing', 9], ['orders', 0]]);
    });
  });
}

