// The property the PostgreSQL feed exists for: positions become visible only in commit order.
// Several instances (a pool and a store each) append concurrently, with random delays inside
// their transactions and some rollbacks, while a reader polls `position > last` as a feed
// reader does. A reader that ever saw position p+1 before p would have moved past p for ever.
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { requirePeer } from '../testing/peers.ts';
import { createTestDatabase, postgresqlPeer } from '../testing/postgres.ts';
import { RolledBack } from '../testing/storeEngines.ts';
import { el } from '../xml/xhtml.ts';
import { inPgTransaction, openPgPool } from './pgDatabase.ts';
import { pgFeedMigrations } from './pgFeedMigrations.ts';
import { PgFeedStore } from './pgFeedStore.ts';
import { migratePg } from './pgMigrate.ts';

const WRITERS = 6;
const TRANSACTIONS_EACH = 40;
const PAGE_SIZE = 7;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const entry = () => ({ key: randomUUID(), type: 'T', typeLabel: 'T', title: 't', orderId: 'O', summary: 's', content: el('p', null, 'x'), payload: {} });

interface Committed { readonly xid: string; readonly keys: readonly string[]; readonly positions: readonly number[] }

describe('Feed positions on PostgreSQL, with concurrent writers on several connections', function () {
  this.timeout(120_000);
  let url = '';
  const pools: Pool[] = [];
  const pool = (max = 2): Pool => { const p = openPgPool(url, { max }); pools.push(p); return p; };

  before(async function () {
    this.timeout(60_000);
    await requirePeer(this, postgresqlPeer);
    url = await createTestDatabase();
    await migratePg(pool(), pgFeedMigrations);
  });
  after(async () => { await Promise.all(pools.map((p) => p.end())); });

  it('never shows a reader a gap that fills later: every committed entry once, in commit order, no rolled-back one', async () => {
    const committed: Committed[] = [];
    const rolledBack: string[] = [];
    let writing = true;

    const writer = async (): Promise<void> => {
      const p = pool();
      const store = await PgFeedStore.open(p, { pageSize: PAGE_SIZE });
      for (let i = 0; i < TRANSACTIONS_EACH; i += 1) {
        const entries = Array.from({ length: 1 + Math.floor(Math.random() * 3) }, entry);
        try {
          const done = await inPgTransaction(p, async (tx) => {
            const xid = (await tx.query<{ xid: string }>('SELECT pg_current_xact_id()::text AS xid')).rows[0]!.xid;
            await sleep(Math.random() * 3);
            const stored = await store.appendAll(tx, entries);
            // Holding the head row now: the other writers wait for this commit (or rollback).
            await sleep(Math.random() * 3);
            if (Math.random() < 0.15) throw new RolledBack();
            return { xid, keys: stored.map((s) => s.key), positions: stored.map((s) => s.position) };
          }, { retries: 0 });
          committed.push(done);
        } catch (e) {
          if (!(e instanceof RolledBack)) throw e;
          rolledBack.push(...entries.map((x) => x.key));
        }
      }
    };

    // The reader: SQL straight at the table, and the store's head with the entries it names.
    const readerPool = pool(2);
    const readerStore = await PgFeedStore.open(readerPool, { pageSize: PAGE_SIZE });
    const seen: { position: number; key: string }[] = [];
    const problems: string[] = [];
    let polls = 0;
    const reader = async (): Promise<void> => {
      let last = 0;
      let lastHead = 0;
      for (let more = true; more;) {
        more = writing;
        polls += 1;
        const rows = (await readerPool.query<{ position: string; key: string }>('SELECT position, key FROM feed_entries WHERE position > $1 ORDER BY position', [last])).rows;
        for (const r of rows) {
          const position = Number(r.position);
          if (position !== last + 1) problems.push(`poll ${polls}: saw ${position} after ${last}`);
          last = position;
          seen.push({ position, key: r.key });
        }
        if (polls % 5 === 0) {
          const head = await readerStore.head();
          const page = head.openPage;
          if (head.lastPosition < lastHead) problems.push(`head went back from ${lastHead} to ${head.lastPosition}`);
          if (head.lastPosition > page.firstPosition + page.capacity - 1 || (head.lastPosition < page.firstPosition && head.lastPosition !== 0)) {
            problems.push(`head ${head.lastPosition} outside its open page ${page.page} (${page.firstPosition}+${page.capacity}): a torn read`);
          }
          const entries = await readerStore.entriesOf(page, head.lastPosition);
          const expected = head.lastPosition === 0 ? 0 : head.lastPosition - page.firstPosition + 1;
          if (entries.length !== expected) problems.push(`head ${head.lastPosition} named ${expected} entries on page ${page.page}, ${entries.length} were visible`);
          lastHead = head.lastPosition;
        }
        await new Promise((r) => setImmediate(r));
      }
    };

    const readingDone = reader();
    await Promise.all(Array.from({ length: WRITERS }, writer)).finally(() => { writing = false; });
    await readingDone;

    expect(problems).to.deep.equal([]);
    const expectedCount = committed.reduce((n, c) => n + c.keys.length, 0);
    expect(seen.map((s) => s.position)).to.deep.equal(Array.from({ length: expectedCount }, (_, i) => i + 1));
    const byPosition = new Map(committed.flatMap((c) => c.keys.map((k, i) => [c.positions[i]!, k] as const)));
    expect(seen.every((s) => byPosition.get(s.position) === s.key)).to.equal(true, 'every entry at the position its commit was given');
    const rolled = new Set(rolledBack);
    expect(seen.filter((s) => rolled.has(s.key))).to.deep.equal([]);
    expect(rolledBack.length).to.be.greaterThan(0, 'some transactions rolled back');
    expect(polls).to.be.greaterThan(committed.length, 'the reader polled between commits');

    // Commit order, as the server recorded it: positions rise with commit time.
    const order = [...committed].sort((a, b) => a.positions[0]! - b.positions[0]!);
    const rows = (await readerPool.query<{ xid: string; us: string }>(
      'SELECT x AS xid, (extract(epoch FROM pg_xact_commit_timestamp(x::xid)) * 1000000)::bigint::text AS us FROM unnest($1::text[]) AS x',
      [order.map((c) => c.xid)])).rows;
    const us = new Map(rows.map((r) => [r.xid, BigInt(r.us)]));
    expect(us.size).to.equal(order.length);
    const outOfOrder = order.filter((c, i) => i > 0 && us.get(c.xid)! <= us.get(order[i - 1]!.xid)!);
    expect(outOfOrder.map((c) => c.positions[0])).to.deep.equal([]);
  });
});
