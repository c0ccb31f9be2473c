// Idempotency keys shared by the instances of a service.
import { expect } from 'chai';
import type { Pool } from 'pg';
import { requirePeer } from '../testing/peers.ts';
import { createTestDatabase, postgresqlPeer } from '../testing/postgres.ts';
import { RolledBack, rejection } from '../testing/storeEngines.ts';
import { inPgTransaction, openPgPool } from './pgDatabase.ts';
import { PgIdempotencyKeys, pgIdempotencyMigrations } from './pgIdempotency.ts';
import { migratePg } from './pgMigrate.ts';

const at = '2026-03-01T10:00:00.000Z';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Idempotency keys on PostgreSQL', () => {
  const keys = new PgIdempotencyKeys();
  let a: Pool;
  let b: Pool;
  before(async function () {
    this.timeout(60_000);
    await requirePeer(this, postgresqlPeer);
    const url = await createTestDatabase();
    [a, b] = [openPgPool(url, { max: 2 }), openPgPool(url, { max: 2 })];
    await migratePg(a, pgIdempotencyMigrations);
  });
  after(async () => { await Promise.all([a, b].map((p) => p?.end())); });

  it('claims a new key, then answers a retry with what the first made, and refuses the key for another request', async () => {
    expect(await inPgTransaction(a, (tx) => keys.claim(tx, { key: 'k1', requestHash: 'h1', resourceId: 'order-1', at }))).to.deep.equal({ kind: 'claimed' });
    expect(await inPgTransaction(b, (tx) => keys.claim(tx, { key: 'k1', requestHash: 'h1', resourceId: 'order-2', at }))).to.deep.equal({ kind: 'replayed', resourceId: 'order-1' });
    expect(await inPgTransaction(b, (tx) => keys.claim(tx, { key: 'k1', requestHash: 'h2', resourceId: 'order-3', at }))).to.deep.equal({ kind: 'key-reused', resourceId: 'order-1' });
    expect(await keys.find(b, 'k1')).to.deep.equal({ requestHash: 'h1', resourceId: 'order-1' });
  });

  it('makes two instances claiming one key at once agree: the second waits for the first to commit', async () => {
    const first = inPgTransaction(a, async (tx) => {
      const c = await keys.claim(tx, { key: 'k2', requestHash: 'h', resourceId: 'order-a', at });
      await sleep(200);
      return c;
    });
    await sleep(50);
    const second = inPgTransaction(b, (tx) => keys.claim(tx, { key: 'k2', requestHash: 'h', resourceId: 'order-b', at }));
    expect(await Promise.all([first, second])).to.deep.equal([{ kind: 'claimed' }, { kind: 'replayed', resourceId: 'order-a' }]);
  });

  it('hands the key to the second instance when the first one\'s transaction rolls back', async () => {
    const first = inPgTransaction(a, async (tx) => {
      await keys.claim(tx, { key: 'k3', requestHash: 'h', resourceId: 'order-a', at });
      await sleep(200);
      throw new RolledBack();
    });
    await sleep(50);
    const second = inPgTransaction(b, (tx) => keys.claim(tx, { key: 'k3', requestHash: 'h', resourceId: 'order-b', at }));
    expect(await rejection(first)).to.be.instanceOf(RolledBack);
    expect(await second).to.deep.equal({ kind: 'claimed' });
    expect(await keys.find(a, 'k3')).to.deep.equal({ requestHash: 'h', resourceId: 'order-b' });
  });
});
