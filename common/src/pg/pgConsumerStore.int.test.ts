// Two instances applying the same subscription at once (leadership lost to a partition, say):
// the read position's compare-and-set lets one apply each entry, the other rolls back.
import { expect } from 'chai';
import type { Pool } from 'pg';
import { requirePeer } from '../testing/peers.ts';
import { createTestDatabase, postgresqlPeer } from '../testing/postgres.ts';
import { PgConsumerStore, pgConsumerMigrations } from './pgConsumerStore.ts';
import { inPgTransaction, openPgPool } from './pgDatabase.ts';
import { migratePg } from './pgMigrate.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('PgConsumerStore with two instances applying one subscription', () => {
  let a: Pool;
  let b: Pool;
  const store = new PgConsumerStore('orders');
  before(async function () {
    this.timeout(60_000);
    await requirePeer(this, postgresqlPeer);
    const url = await createTestDatabase();
    [a, b] = [openPgPool(url, { max: 2 }), openPgPool(url, { max: 2 })];
    await migratePg(a, pgConsumerMigrations);
    await store.ensure(a, 'http://orders/feed');
  });
  after(async () => { await Promise.all([a, b].map((p) => p?.end())); });

  it('lets exactly one apply an entry: the second waits for the first\'s commit, then finds the position moved', async () => {
    const applied: string[] = [];
    const apply = (pool: Pool, who: string, holdMs: number) => inPgTransaction(pool, async (tx) => {
      if (!(await store.advance(tx, 0, { position: 1, atomId: 'urn:1' }))) return false;
      await sleep(holdMs);
      applied.push(who);
      return true;
    });
    const first = apply(a, 'a', 200);
    await sleep(50);
    const second = apply(b, 'b', 0);
    expect(await Promise.all([first, second])).to.deep.equal([true, false]);
    expect(applied).to.deep.equal(['a']);
    expect(await store.get(b)).to.include({ position: 1, lastAtomId: 'urn:1' });
  });
});
