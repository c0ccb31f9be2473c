// FeedPublisher over PgFeedStore: what differs from SQLite (answers with promises, a head in memory only while it is fresh).
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { FeedPublisher } from '../feed/feedPublisher.ts';
import { createTestDatabase, requirePostgres } from '../testing/postgres.ts';
import { el } from '../xml/xhtml.ts';
import { inPgTransaction, openPgPool } from './pgDatabase.ts';
import { pgFeedMigrations } from './pgFeedMigrations.ts';
import { PgFeedStore } from './pgFeedStore.ts';
import { PgListener } from './pgListener.ts';
import { migratePg } from './pgMigrate.ts';

const entry = (n: number) => ({ key: randomUUID(), type: 'T', typeLabel: 'T', title: `entry ${n}`, orderId: 'O', summary: 's', content: el('p', null, 'x'), payload: {} });
const BASE = 'http://feed.example.test';

describe('FeedPublisher over PostgreSQL', () => {
  let url = '';
  const pools: Pool[] = [];
  const listeners: PgListener[] = [];

  before(async function () { this.timeout(60_000); url = await requirePostgres(this); });
  after(async () => { await Promise.all(listeners.map((l) => l.close())); await Promise.all(pools.map((p) => p.end())); });

  async function instance(): Promise<{ pool: Pool; store: PgFeedStore; listener: PgListener; publisher: FeedPublisher<'async'> }> {
    const pool = openPgPool(url, { max: 3 });
    pools.push(pool);
    await migratePg(pool, pgFeedMigrations);
    const listener = new PgListener({ connectionString: url, reconnectMs: 100 });
    listeners.push(listener);
    const store = await PgFeedStore.open(pool, { pageSize: 2, listener });
    const publisher = new FeedPublisher<'async'>({ store, serviceName: 'test', title: 'Test', description: 'd', categories: ['T'], maxAgeSeconds: 1, privateFeed: false });
    return { pool, store, listener, publisher };
  }

  it('answers revalidations from the head in memory only while the listener keeps it fresh', async () => {
    const a = await instance();
    await a.store.head();
    const known = a.publisher.subscriptionNow(BASE, false);
    expect(known, 'a head in memory once read with the listener up').to.not.equal(undefined);
    expect(known!.etag).to.equal((await a.publisher.subscription(BASE, false)).etag);
    await inPgTransaction(a.pool, (tx) => a.store.appendAll(tx, [entry(1)]));
    // This process's commit dropped the head it held: the next revalidation goes to a query first.
    expect(a.publisher.subscriptionNow(BASE, false)).to.equal(undefined);
    const fresh = await a.publisher.subscription(BASE, false);
    expect(fresh.etag).to.not.equal(known!.etag);
    // Once its own NOTIFY has come back too, a read is kept and revalidations need no query.
    for (let i = 0; i < 100 && a.publisher.subscriptionNow(BASE, false) === undefined; i += 1) {
      await new Promise((r) => setTimeout(r, 20));
      await a.publisher.subscription(BASE, false);
    }
    expect(a.publisher.subscriptionNow(BASE, false)?.etag).to.equal(fresh.etag);
    await a.listener.close();
    expect(a.publisher.subscriptionNow(BASE, false), 'no NOTIFY, no trusted head').to.equal(undefined);
    expect((await a.publisher.subscription(BASE, false)).etag, 'still served, by a query').to.equal(fresh.etag);
    const body = await (await a.publisher.subscription(BASE, false)).body();
    expect(body.identity.toString()).to.include('entry 1</title>');
  });

  it('serves an archive rendered once, with the same bytes and ETag from two publishers', async () => {
    url = await createTestDatabase();
    const [a, b] = [await instance(), await instance()];
    await inPgTransaction(a.pool, (tx) => a.store.appendAll(tx, [entry(1), entry(2), entry(3), entry(4), entry(5)]));
    const renders = () => a.publisher.stats.renders + b.publisher.stats.renders;
    const before = renders();
    const found = await Promise.all([a.publisher.archive(1, BASE, false), b.publisher.archive(1, BASE, false), a.publisher.archive(2, BASE, false), b.publisher.archive(2, BASE, false)]);
    expect(renders() - before, 'each archive rendered by one of them').to.equal(2);
    const reps = found.map((f) => { if (f.kind !== 'archive') throw new Error(f.kind); return f.rep; });
    expect(reps[0]!.etag).to.equal(reps[1]!.etag);
    expect((await reps[0]!.body()).identity.equals((await reps[1]!.body()).identity)).to.equal(true);
    expect(await b.publisher.archive(3, BASE, false)).to.deep.equal({ kind: 'working' });
    expect(await b.publisher.archive(9, BASE, false)).to.deep.equal({ kind: 'missing' });
  });
});
