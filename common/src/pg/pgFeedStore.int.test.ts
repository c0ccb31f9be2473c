// What PgFeedStore does for several instances beyond FeedStore's behaviour (feedStore.engines.int.test.ts).
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import type { StoredRendition } from '../feed/feedStore.ts';
import { requirePeer } from '../testing/peers.ts';
import { createTestDatabase, postgresqlPeer } from '../testing/postgres.ts';
import { el } from '../xml/xhtml.ts';
import { inPgTransaction, openPgPool } from './pgDatabase.ts';
import { pgFeedMigrations } from './pgFeedMigrations.ts';
import { PgFeedStore } from './pgFeedStore.ts';
import { migratePg } from './pgMigrate.ts';

const entry = (n: number) => ({ key: randomUUID(), type: 'T', typeLabel: 'T', title: `entry ${n}`, orderId: 'O', summary: 's', content: el('p', null, 'x'), payload: {} });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('PgFeedStore with several instances on one database', () => {
  const pools: Pool[] = [];
  let url = '';
  const instances = async (n: number, pageSize = 2): Promise<{ pool: Pool; store: PgFeedStore }[]> => {
    url = await createTestDatabase();
    const ps = Array.from({ length: n }, () => { const p = openPgPool(url, { max: 3 }); pools.push(p); return p; });
    await Promise.all(ps.map((p) => migratePg(p, pgFeedMigrations)));
    return Promise.all(ps.map(async (pool) => ({ pool, store: await PgFeedStore.open(pool, { pageSize }) })));
  };

  before(async function () { this.timeout(60_000); await requirePeer(this, postgresqlPeer); });
  after(async () => { await Promise.all(pools.map((p) => p.end())); });

  it('opens one feed when instances start together: one id, one first page', async () => {
    const all = await instances(4);
    expect(new Set(all.map((i) => i.store.feedId)).size).to.equal(1);
    expect(new Set(all.map((i) => i.store.channel)).size).to.equal(1);
    const pages = await all[0]!.pool.query('SELECT page, first_position, capacity FROM feed_pages');
    expect(pages.rows).to.deep.equal([{ page: 1, first_position: '1', capacity: 2 }]);
  });

  it('renders an archive once for all instances asking at once, and each serves the same bytes and ETag', async () => {
    const all = await instances(3, 1);
    await inPgTransaction(all[0]!.pool, (tx) => all[0]!.store.appendAll(tx, [entry(1), entry(2)]));
    let renders = 0;
    const render = (who: number) => async (): Promise<StoredRendition> => {
      renders += 1;
      await sleep(100);
      return { identity: Buffer.from(`by ${who}`), gzip: Buffer.from('g'), br: Buffer.from('b'), etag: `a1.${who}`, lastModifiedMs: 1 };
    };
    const got = await Promise.all(all.map((i, who) => i.store.renditionOnce(1, 'http://shop', render(who))));
    expect(renders).to.equal(1);
    expect(got.filter((g) => g.rendered)).to.have.length(1);
    const served = got.map((g) => [g.rendition.identity.toString(), g.rendition.etag]);
    expect(new Set(served.map((s) => s.join('|'))).size).to.equal(1);
    expect((await all[2]!.store.renditionOnce(1, 'http://shop', render(9))).rendered).to.equal(false);
    expect(renders).to.equal(1);
  });

  it('without a listener keeps no head in memory: another instance\'s commit shows at once', async () => {
    const [a, b] = await instances(2);
    await b!.store.head();
    expect(b!.store.cachedHead()).to.equal(undefined);
    await inPgTransaction(a!.pool, (tx) => a!.store.append(tx, entry(1)));
    expect((await b!.store.head()).lastPosition).to.equal(1);
  });

  it('shows a transaction its own uncommitted entries, and nobody else', async () => {
    const [a, b] = await instances(2);
    await inPgTransaction(a!.pool, async (tx) => {
      await a!.store.appendAll(tx, [entry(1), entry(2), entry(3)]);
      const inside = await a!.store.head(tx);
      expect(inside.lastPosition).to.equal(3);
      expect(inside.openPage).to.include({ page: 2, firstPosition: 3 });
      expect((await b!.store.head()).lastPosition).to.equal(0);
      expect((await a!.store.entriesOf(inside.openPage, 3, tx)).map((e) => e.title)).to.deep.equal(['entry 3']);
    });
    expect((await b!.store.head()).lastPosition).to.equal(3);
  });
});
