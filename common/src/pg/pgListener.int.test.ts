// LISTEN/NOTIFY between instances: a commit on one connection wakes the others.
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { requirePeer } from '../testing/peers.ts';
import { createTestDatabase, postgresqlPeer } from '../testing/postgres.ts';
import { RolledBack, rejection } from '../testing/storeEngines.ts';
import { el } from '../xml/xhtml.ts';
import { inPgTransaction, openPgPool } from './pgDatabase.ts';
import { pgFeedMigrations } from './pgFeedMigrations.ts';
import { PgFeedStore } from './pgFeedStore.ts';
import { PgListener } from './pgListener.ts';
import { migratePg } from './pgMigrate.ts';

const entry = () => ({ key: randomUUID(), type: 'T', typeLabel: 'T', title: 't', orderId: 'O', summary: 's', content: el('p', null, 'x'), payload: {} });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function eventually(check: () => boolean | Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(10);
  }
}

describe('Feed notifications on PostgreSQL', () => {
  let url = '';
  const pools: Pool[] = [];
  const listeners: PgListener[] = [];
  const instance = async (withListener: boolean): Promise<{ pool: Pool; store: PgFeedStore; listener?: PgListener }> => {
    const pool = openPgPool(url, { max: 3 });
    pools.push(pool);
    const listener = withListener ? new PgListener({ connectionString: url, reconnectMs: 100 }) : undefined;
    if (listener) listeners.push(listener);
    return { pool, listener, store: await PgFeedStore.open(pool, { pageSize: 10, listener }) };
  };

  before(async function () {
    this.timeout(60_000);
    await requirePeer(this, postgresqlPeer);
    url = await createTestDatabase();
    const p = openPgPool(url, { max: 1 });
    await migratePg(p, pgFeedMigrations);
    await p.end();
  });
  after(async () => {
    await Promise.all(listeners.map((l) => l.close()));
    await Promise.all(pools.map((p) => p.end()));
  });

  it('tells another connection of an append when it commits, never before, and never of a rollback', async () => {
    const a = await instance(false);
    const heard: { payload: string; at: number }[] = [];
    const listener = new PgListener({ connectionString: url });
    listeners.push(listener);
    await listener.listen(a.store.channel, (payload) => heard.push({ payload, at: Date.now() }));
    expect(listener.listening).to.equal(true);

    let committedAt = 0;
    await inPgTransaction(a.pool, async (tx) => {
      await a.store.appendAll(tx, [entry(), entry()]);
      await sleep(300);
      expect(heard, 'nothing heard while the transaction is open').to.deep.equal([]);
      tx.afterCommit(() => { committedAt = Date.now(); });
    });
    await eventually(() => heard.length > 0, 'the notification arrives');
    expect(heard.map((h) => h.payload)).to.deep.equal(['2']);
    expect(heard[0]!.at).to.be.at.least(committedAt - 50);

    expect(await rejection(inPgTransaction(a.pool, async (tx) => { await a.store.append(tx, entry()); throw new RolledBack(); }))).to.be.instanceOf(RolledBack);
    await inPgTransaction(a.pool, (tx) => a.store.append(tx, entry()));
    await eventually(() => heard.length > 1, 'the second notification arrives');
    expect(heard.map((h) => h.payload)).to.deep.equal(['2', '3']);
  });

  it('wakes another instance\'s waiters and refreshes the head it keeps in memory', async () => {
    const a = await instance(true);
    const b = await instance(true);
    const before = await b.store.head();
    expect(b.store.cachedHead()).to.deep.equal(before);

    const woken: number[] = [];
    b.store.onAppend((p) => woken.push(p));
    await inPgTransaction(a.pool, (tx) => a.store.append(tx, entry()));
    await eventually(() => woken.includes(before.lastPosition + 1), 'b hears of a\'s commit');
    expect(b.store.cachedHead()).to.equal(undefined);
    expect((await b.store.head()).lastPosition).to.equal(before.lastPosition + 1);
    expect(b.store.cachedHead()?.lastPosition).to.equal(before.lastPosition + 1);
  });

  it('wakes this instance\'s waiters by the time its own commit returns, once per position', async () => {
    const a = await instance(true);
    const start = (await a.store.head()).lastPosition;
    const woken: number[] = [];
    a.store.onAppend((p) => woken.push(p));
    await inPgTransaction(a.pool, (tx) => a.store.append(tx, entry()));
    expect(woken).to.deep.equal([start + 1]);
    expect((await a.store.head()).lastPosition).to.equal(start + 1);
    await inPgTransaction(a.pool, (tx) => a.store.appendAll(tx, [entry(), entry()]));
    await sleep(200);
    expect(woken, 'its own NOTIFY, arriving too, wakes nobody twice').to.deep.equal([start + 1, start + 3]);
  });

  it('reconnects after its connection is cut, stops trusting its cached head meanwhile, and hears commits again', async () => {
    const a = await instance(false);
    const b = await instance(true);
    await b.store.head();
    const resyncs: boolean[] = [];
    b.listener!.onResync(() => resyncs.push(b.listener!.listening));
    const killed = await a.pool.query<{ n: boolean }>("SELECT pg_terminate_backend(pid) AS n FROM pg_stat_activity WHERE application_name = 'atom-shop listener' AND pid <> pg_backend_pid()");
    expect(killed.rows.length).to.be.greaterThan(0);
    await eventually(() => resyncs.includes(false), 'the loss is noticed');
    expect(b.store.cachedHead()).to.equal(undefined);
    await eventually(() => b.listener!.listening, 'the listener is back');
    expect(resyncs).to.include(true);

    const woken: number[] = [];
    b.store.onAppend((p) => woken.push(p));
    const [stored] = await inPgTransaction(a.pool, (tx) => a.store.appendAll(tx, [entry()]));
    await eventually(() => woken.includes(stored!.position), 'b hears of a commit after reconnecting');
  });
});
