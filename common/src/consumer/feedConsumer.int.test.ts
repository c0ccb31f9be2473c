import { expect } from 'chai';
import { type Db, migrate, openDatabase } from '../db/database.ts';
import { startTestFeedServer, type TestFeedServer } from '../testing/feedServer.ts';
import type { ConsumedEntry } from './atomReader.ts';
import { consumerMigrations } from './consumerStore.ts';
import { FeedConsumer, type FeedConsumerOptions, type PollResult } from './feedConsumer.ts';

function consumerDb(): Db {
  const db = openDatabase(':memory:');
  migrate(db, consumerMigrations);
  db.exec('CREATE TABLE applied (seq INTEGER PRIMARY KEY AUTOINCREMENT, atom_id TEXT NOT NULL, position INTEGER NOT NULL)');
  return db;
}

/** A consumer whose handler records each entry in the consumer's own database. */
function consumer(db: Db, feedUrl: string, over: Partial<FeedConsumerOptions> = {}): FeedConsumer {
  const insert = db.prepare('INSERT INTO applied (atom_id, position) VALUES (?, ?)');
  return new FeedConsumer(db, {
    name: 'test', feedUrl, backoff: { baseMs: 0, maxMs: 0 },
    handler: (e: ConsumedEntry) => { insert.run(e.atomId, e.position); }, ...over,
  });
}

const applied = (db: Db) => db.prepare<[], { position: number }>('SELECT position FROM applied ORDER BY seq').all().map((r) => r.position);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('FeedConsumer against a real feed', () => {
  let feed: TestFeedServer;
  let db: Db;
  let c: FeedConsumer;
  afterEach(async () => { await c?.close(); await feed?.close(); db?.close(); });

  it('reads a feed it never read from the oldest archive, every entry once, in feed order', async () => {
    feed = await startTestFeedServer({ pageSize: 3 });
    for (let i = 0; i < 10; i++) feed.append();
    db = consumerDb();
    c = consumer(db, feed.feedUrl);
    const r = await c.pollOnce();
    expect(r).to.include({ kind: 'read', processed: 10, position: 10, newest: 10 });
    expect(applied(db)).to.deep.equal(range(1, 10));
    // Back to the oldest page reading only links and positions, then forward one page at a time
    // (bounded memory); the subscription document fetched first ends the walk, not fetched again.
    expect(feed.requests.map((q) => q.path)).to.deep.equal(['/feed', '/feed/archive/3', '/feed/archive/2', '/feed/archive/1', '/feed/archive/2', '/feed/archive/3']);
    expect(c.status()).to.include({ position: 10, behind: 0, lastError: null });
  });

  it('answers an idle poll with one conditional request and a bodiless 304, and never refetches a processed archive', async () => {
    feed = await startTestFeedServer({ pageSize: 3 });
    for (let i = 0; i < 4; i++) feed.append();
    db = consumerDb();
    c = consumer(db, feed.feedUrl);
    await c.pollOnce();
    feed.requests.length = 0;
    const idle = await c.pollOnce();
    expect(idle).to.deep.equal({ kind: 'not-modified', requests: 1, bytes: 0 });
    expect(feed.requests).to.have.length(1);
    expect(feed.requests[0]).to.include({ path: '/feed', status: 304, bytes: 0 });
    expect(feed.requests[0]!.ifNoneMatch).to.be.a('string');

    // The working page (entry 4) rolls into archive 2 and entries 5..8 arrive.
    for (let i = 0; i < 4; i++) feed.append();
    feed.requests.length = 0;
    const r = await c.pollOnce();
    expect(r).to.include({ kind: 'read', processed: 4, position: 8 });
    expect(applied(db)).to.deep.equal(range(1, 8));
    expect(feed.requests.map((q) => q.path)).to.deep.equal(['/feed', '/feed/archive/2']);
  });

  it('long-polls with Prefer: wait once caught up and gets the entry committed while it waits', async () => {
    feed = await startTestFeedServer({ pageSize: 3 });
    feed.append();
    db = consumerDb();
    c = consumer(db, feed.feedUrl, { longPollSeconds: 20 });
    await c.pollOnce();
    const waiting = c.pollOnce();
    // The server answers the long poll as soon as this commit happens (the test does not wait 20 s).
    setTimeout(() => feed.append(), 50);
    const r = await waiting;
    expect(r).to.include({ kind: 'read', processed: 1, position: 2 });
    expect(applied(db)).to.deep.equal([1, 2]);
  });

  it('starts at the newest entry when configured to start "now"', async () => {
    feed = await startTestFeedServer({ pageSize: 3 });
    for (let i = 0; i < 7; i++) feed.append();
    db = consumerDb();
    c = consumer(db, feed.feedUrl, { startAt: 'now' });
    expect(await c.pollOnce()).to.include({ kind: 'started-at-now', position: 7 });
    feed.append();
    expect(await c.pollOnce()).to.include({ kind: 'read', processed: 1, position: 8 });
    expect(applied(db)).to.deep.equal([8]);
  });

  it('joins a poll in flight instead of running two at once', async () => {
    feed = await startTestFeedServer({ pageSize: 3 });
    for (let i = 0; i < 5; i++) feed.append();
    db = consumerDb();
    c = consumer(db, feed.feedUrl);
    const [a, b] = await Promise.all([c.pollOnce(), c.pollOnce()]);
    expect(a).to.equal(b);
    expect(applied(db)).to.deep.equal(range(1, 5));
  });

  it('refuses, with a clear error, a different feed at the same URL and does not move', async () => {
    feed = await startTestFeedServer({ pageSize: 3 });
    for (let i = 0; i < 4; i++) feed.append();
    db = consumerDb();
    c = consumer(db, feed.feedUrl);
    await c.pollOnce();
    const port = new URL(feed.url).port;
    await feed.close();
    feed = await startTestFeedServer({ pageSize: 3, port: Number(port) });
    for (let i = 0; i < 6; i++) feed.append();
    const r = await c.pollOnce() as Extract<PollResult, { kind: 'failed' }>;
    expect(r.kind).to.equal('failed');
    expect(r.error).to.match(/atom:id changed/);
    expect(c.status()).to.include({ position: 4 });
    expect(c.status().lastError).to.match(/atom:id changed/);
    expect(applied(db)).to.deep.equal(range(1, 4));
  });

  it('reads again from the start after resetPosition', async () => {
    feed = await startTestFeedServer({ pageSize: 3 });
    for (let i = 0; i < 4; i++) feed.append();
    db = consumerDb();
    c = consumer(db, feed.feedUrl, { startAt: 'now' });
    await c.pollOnce();
    c.resetPosition();
    expect(await c.pollOnce()).to.include({ kind: 'read', processed: 4 });
    expect(applied(db)).to.deep.equal(range(1, 4));
  });
});

describe('FeedConsumer when the handler fails', () => {
  let feed: TestFeedServer;
  let db: Db;
  let c: FeedConsumer;
  afterEach(async () => { await c?.close(); await feed?.close(); db?.close(); });

  async function setUp(onFailure: 'park' | 'block') {
    feed = await startTestFeedServer({ pageSize: 3 });
    for (let i = 0; i < 5; i++) feed.append({ orderId: i === 1 ? 'POISON' : `ORD-${i}` });
    db = consumerDb();
    const insert = db.prepare('INSERT INTO applied (atom_id, position) VALUES (?, ?)');
    let poisonHeals = false;
    c = new FeedConsumer(db, {
      name: 'test', feedUrl: feed.feedUrl, onFailure, maxAttempts: 3, backoff: { baseMs: 0, maxMs: 0 },
      handler: (e) => {
        insert.run(e.atomId, e.position); // rolled back with the failure below
        if (e.orderId === 'POISON' && !poisonHeals) throw new Error('cannot handle this one');
      },
    });
    return { heal: () => { poisonHeals = true; } };
  }

  it('parks the entry after maxAttempts, goes on with the others, and replays it on request', async () => {
    const { heal } = await setUp('park');
    const first = await c.pollOnce();
    expect(first.kind).to.equal('failed');
    expect(applied(db)).to.deep.equal([1]);
    expect((await c.pollOnce()).kind).to.equal('failed');
    expect(await c.pollOnce()).to.include({ kind: 'read', processed: 3, parked: 1, position: 5 });
    expect(applied(db)).to.deep.equal([1, 3, 4, 5]);
    const parked = c.status().parked;
    expect(parked).to.have.length(1);
    expect(parked[0]).to.include({ position: 2, orderId: 'POISON', attempts: 3 });
    expect(c.replayParked(parked[0]!.atomId)).to.deep.equal({ ok: false, reason: 'handler-failed', error: 'cannot handle this one' });
    heal();
    expect(c.replayParked(parked[0]!.atomId)).to.deep.equal({ ok: true, replayed: 1 });
    expect(c.status().parked).to.have.length(0);
    expect(applied(db)).to.deep.equal([1, 3, 4, 5, 2]);
  });

  it('holds the later entries of a parked order behind it, and replays them after it, in order', async () => {
    const { heal } = await setUp('park');
    for (let i = 0; i < 3; i++) await c.pollOnce();
    feed.append({ orderId: 'POISON' }); // position 6: the same order, later
    feed.append({ orderId: 'ORD-7' });
    expect(await c.pollOnce()).to.include({ kind: 'read', processed: 1, parked: 1, position: 7 });
    expect(applied(db), 'position 6 was not handled before position 2').to.deep.equal([1, 3, 4, 5, 7]);
    const parked = c.status().parked;
    expect(parked.map((p) => [p.position, p.orderId])).to.deep.equal([[2, 'POISON'], [6, 'POISON']]);
    expect(c.replayParked(parked[1]!.atomId)).to.include({ ok: false, reason: 'earlier-entry-parked' });
    heal();
    expect(c.replayParked(parked[0]!.atomId)).to.deep.equal({ ok: true, replayed: 2 });
    expect(applied(db)).to.deep.equal([1, 3, 4, 5, 7, 2, 6]);
    expect(c.status().parked).to.have.length(0);
  });

  it('reads a parked entry again after a reset as itself, not as held behind itself', async () => {
    await setUp('park');
    for (let i = 0; i < 3; i++) await c.pollOnce();
    expect(c.status().parked.map((p) => p.position)).to.deep.equal([2]);
    c.resetPosition();
    for (let i = 0; i < 3; i++) await c.pollOnce();
    const parked = c.status().parked;
    expect(parked.map((p) => [p.position, p.error])).to.deep.equal([[2, 'cannot handle this one']]);
    expect(c.status()).to.include({ position: 5 });
  });

  it('shows on status only the oldest 100 parked entries, without the entries themselves, and how many are parked in all', async () => {
    feed = await startTestFeedServer({ pageSize: 50 });
    feed.db.transaction(() => { for (let i = 1; i <= 250; i++) feed.append({ orderId: `ORD-${i}` }); })();
    db = consumerDb();
    let healed = false;
    c = consumer(db, feed.feedUrl, { maxAttempts: 1, handler: () => { if (!healed) throw new Error('the disk is full'); } });
    expect(await c.pollOnce()).to.include({ kind: 'read', processed: 0, parked: 250, position: 250 });
    const s = c.status();
    expect(s.parkedTotal).to.equal(250);
    expect(s.parked.map((p) => p.position)).to.deep.equal(range(1, 100));
    expect(s.parked[0]).to.deep.include({ subscription: 'test', type: 'TestHappened', orderId: 'ORD-1', error: 'the disk is full', attempts: 1 });
    expect(s.parked.every((p) => !('entry' in p))).to.equal(true);
    expect(c.progress().parked).to.equal(250);
    // All of them, or a page at a time after a position; a replay still finds an entry by its id.
    expect(c.parked()).to.have.length(250);
    const page = c.parked({ after: 100, limit: 20 });
    expect(page.map((p) => p.position)).to.deep.equal(range(101, 120));
    healed = true;
    expect(c.replayParked(c.parked({ after: 249 })[0]!.atomId)).to.deep.equal({ ok: true, replayed: 1 });
    expect(c.status()).to.deep.include({ parkedTotal: 249 });
  });

  it('blocks the feed at the failing entry when configured to block', async () => {
    const { heal } = await setUp('block');
    for (let i = 0; i < 5; i++) expect((await c.pollOnce()).kind).to.equal('failed');
    expect(applied(db)).to.deep.equal([1]);
    expect(c.status()).to.include({ position: 1 });
    expect(c.status().lastError).to.match(/cannot handle this one/);
    heal();
    expect(await c.pollOnce()).to.include({ kind: 'read', processed: 4, position: 5 });
    expect(applied(db)).to.deep.equal(range(1, 5));
  });
});
