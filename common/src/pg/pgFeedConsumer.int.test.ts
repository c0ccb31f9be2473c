// The feed consumer on PostgreSQL against a real feed: the read loop of FeedConsumer, the handler
// in the transaction that moves the read position, faults, parking, crashes, and two instances
// of which only the leader applies.
import { expect } from 'chai';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { Pool } from 'pg';
import type { ConsumedEntry } from '../consumer/atomReader.ts';
import { startTestFeedServer, type TestFeedServer } from '../testing/feedServer.ts';
import { requirePeer } from '../testing/peers.ts';
import { createTestDatabase, postgresqlPeer } from '../testing/postgres.ts';
import { pgConsumerMigrations } from './pgConsumerStore.ts';
import { openPgPool, type PgTx } from './pgDatabase.ts';
import { PgFeedConsumer, type PgFeedConsumerOptions } from './pgFeedConsumer.ts';
import { migratePg } from './pgMigrate.ts';

const CHILD = fileURLToPath(new URL('./testing/pgConsumerProcess.ts', import.meta.url));
const APPLIED = { id: 'test-applied', sql: 'CREATE TABLE IF NOT EXISTS applied (seq BIGSERIAL PRIMARY KEY, instance TEXT NOT NULL, atom_id TEXT NOT NULL, position BIGINT NOT NULL)' };
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freshPool(): Promise<{ url: string; pool: Pool }> {
  const url = await createTestDatabase();
  const pool = openPgPool(url, { max: 4 });
  await migratePg(pool, [...pgConsumerMigrations, APPLIED]);
  return { url, pool };
}

const record = async (e: ConsumedEntry, tx: PgTx): Promise<void> => {
  await tx.query('INSERT INTO applied (instance, atom_id, position) VALUES ($1, $2, $3)', ['here', e.atomId, e.position]);
};

async function applied(pool: Pool): Promise<number[]> {
  return (await pool.query<{ position: string }>('SELECT position FROM applied ORDER BY seq')).rows.map((r) => Number(r.position));
}

describe('PgFeedConsumer against a real feed', function () {
  this.timeout(30_000);
  let feed: TestFeedServer | undefined;
  let pool: Pool | undefined;
  let c: PgFeedConsumer | undefined;
  const consumer = (p: Pool, url: string, over: Partial<PgFeedConsumerOptions> = {}): PgFeedConsumer =>
    new PgFeedConsumer(p, { name: 'orders', feedUrl: url, backoff: { baseMs: 0, maxMs: 0 }, handler: record, ...over });

  before(async function () {
    this.timeout(60_000);
    await requirePeer(this, postgresqlPeer);
  });
  afterEach(async () => { await c?.close(); await feed?.close(); await pool?.end(); [c, feed, pool] = [undefined, undefined, undefined]; });

  it('catches up from the oldest archive, every entry once, its writes and the position committed together', async () => {
    feed = await startTestFeedServer({ pageSize: 3 });
    for (let i = 0; i < 10; i++) feed.append();
    ({ pool } = await freshPool());
    c = consumer(pool, feed.feedUrl);
    expect(await c.pollOnce()).to.include({ kind: 'read', processed: 10, position: 10, newest: 10 });
    expect(await applied(pool)).to.deep.equal(range(1, 10));
    // The same walk as on SQLite: back by links and positions only, then forward a page at a time.
    expect(feed.requests.map((q) => q.path)).to.deep.equal(['/feed', '/feed/archive/3', '/feed/archive/2', '/feed/archive/1', '/feed/archive/2', '/feed/archive/3']);
    expect(await c.status()).to.include({ position: 10, behind: 0, lastError: null, leader: true });
    expect(c.progress()).to.include({ position: 10, newestSeen: 10, parked: 0 });
    feed.requests.length = 0;
    expect(await c.pollOnce()).to.include({ kind: 'not-modified' });
    for (let i = 0; i < 4; i++) feed.append();
    expect(await c.pollOnce()).to.include({ kind: 'read', processed: 4, position: 14 });
    expect(await applied(pool)).to.deep.equal(range(1, 14));
  });

  it('applies a page at once with a page handler: one call a page, its writes and the position committed together', async () => {
    feed = await startTestFeedServer({ pageSize: 4 });
    for (let i = 0; i < 10; i++) feed.append();
    ({ pool } = await freshPool());
    const calls: number[][] = [];
    let failNext = true;
    c = consumer(pool, feed.feedUrl, {
      pageHandler: async (entries, tx) => {
        calls.push(entries.map((e) => e.position));
        for (const e of entries) await record(e, tx);
        // A failure undoes the whole page, position included; the poll tries it again.
        if (failNext && entries.some((e) => e.position === 6)) { failNext = false; throw new Error('database gone'); }
      },
    });
    expect(await c.pollOnce()).to.include({ kind: 'failed' });
    expect(await applied(pool)).to.deep.equal([1, 2, 3, 4]);
    expect(await c.pollOnce()).to.include({ kind: 'read', processed: 6, position: 10 });
    expect(await applied(pool)).to.deep.equal(range(1, 10));
    expect(calls).to.deep.equal([[1, 2, 3, 4], [5, 6, 7, 8], [5, 6, 7, 8], [9, 10]]);
  });

  it('charges an entry no attempt for a failure of the database (a statement timeout), so a good entry is never parked for it', async () => {
    feed = await startTestFeedServer({ pageSize: 5 });
    for (let i = 0; i < 3; i++) feed.append({ orderId: `ORD-${i + 1}` });
    ({ pool } = await freshPool());
    let timeouts = 3;
    c = consumer(pool, feed.feedUrl, {
      maxAttempts: 1,
      handler: async (e, tx) => {
        await record(e, tx);
        if (e.position === 2 && timeouts-- > 0) {
          await tx.query('SET LOCAL statement_timeout = 10');
          await tx.query('SELECT pg_sleep(1)');
        }
      },
    });
    for (let i = 0; i < 3; i++) expect(await c.pollOnce()).to.include({ kind: 'failed' });
    expect(await applied(pool)).to.deep.equal([1]);
    expect(await c.parked()).to.deep.equal([]);
    expect(await c.pollOnce()).to.include({ kind: 'read', processed: 2, parked: 0 });
    expect(await applied(pool)).to.deep.equal([1, 2, 3]);
  });

  it('undoes a failing entry\'s writes only, keeps the page before it, resumes there, and parks it after maxAttempts', async () => {
    feed = await startTestFeedServer({ pageSize: 5 });
    for (let i = 0; i < 8; i++) feed.append({ orderId: `ORD-${i + 1}` });
    ({ pool } = await freshPool());
    let failOn = 4;
    c = consumer(pool, feed.feedUrl, {
      maxAttempts: 2,
      handler: async (e, tx) => { await record(e, tx); if (e.position === failOn) throw new Error('not yet'); },
    });
    expect(await c.pollOnce()).to.include({ kind: 'failed' });
    expect(await applied(pool)).to.deep.equal([1, 2, 3]);
    expect(await c.status()).to.include({ position: 3 });
    failOn = 6;
    expect(await c.pollOnce()).to.include({ kind: 'failed' });
    expect(await applied(pool)).to.deep.equal([1, 2, 3, 4, 5]);
    const r = await c.pollOnce(); // entry 6 fails once more (attempt 2 of 2): parked, 7 and 8 go on
    expect(r).to.include({ kind: 'read', parked: 1, processed: 2, position: 8 });
    expect(await applied(pool)).to.deep.equal([1, 2, 3, 4, 5, 7, 8]);
    const parked = await c.parked();
    expect(parked.map((p) => p.position)).to.deep.equal([6]);
    expect(c.progress()).to.include({ parked: 1 });
    failOn = 0;
    expect(await c.replayParked(parked[0]!.atomId)).to.deep.equal({ ok: true, replayed: 1 });
    expect(await applied(pool)).to.deep.equal([1, 2, 3, 4, 5, 7, 8, 6]);
    expect((await c.status()).parkedTotal).to.equal(0);
    await c.resetPosition();
    expect(await c.pollOnce()).to.include({ kind: 'read', position: 8, processed: 8 });
  });

  it('holds the later entries of a parked order behind it, and replays them after it, in order', async () => {
    feed = await startTestFeedServer({ pageSize: 5 });
    feed.append({ orderId: 'ORD-A' });
    feed.append({ orderId: 'ORD-B' });
    feed.append({ orderId: 'ORD-A' });
    feed.append({ orderId: 'ORD-C' });
    ({ pool } = await freshPool());
    let failing = true;
    c = consumer(pool, feed.feedUrl, {
      maxAttempts: 1,
      handler: async (e, tx) => { if (failing && e.position === 1) throw new Error('not yet'); await record(e, tx); },
    });
    expect(await c.pollOnce()).to.include({ kind: 'read', processed: 2, parked: 2, position: 4 });
    expect(await applied(pool)).to.deep.equal([2, 4]);
    const parked = await c.parked();
    expect(parked.map((p) => [p.position, p.orderId])).to.deep.equal([[1, 'ORD-A'], [3, 'ORD-A']]);
    expect((await c.replayParked(parked[1]!.atomId))).to.include({ ok: false, reason: 'earlier-entry-parked' });
    failing = false;
    expect(await c.replayParked(parked[0]!.atomId)).to.deep.equal({ ok: true, replayed: 2 });
    expect(await applied(pool)).to.deep.equal([2, 4, 1, 3]);
    expect(c.progress()).to.include({ parked: 0 });
  });

  it('starts at the newest entry when told to start "now"', async () => {
    feed = await startTestFeedServer({ pageSize: 3 });
    for (let i = 0; i < 5; i++) feed.append();
    ({ pool } = await freshPool());
    c = consumer(pool, feed.feedUrl, { startAt: 'now' });
    expect(await c.pollOnce()).to.include({ kind: 'started-at-now', position: 5 });
    feed.append();
    expect(await c.pollOnce()).to.include({ kind: 'read', processed: 1, position: 6 });
    expect(await applied(pool)).to.deep.equal([6]);
  });

  it('loses nothing and applies nothing twice across SIGKILLs in the handler, before and after its write', async () => {
    feed = await startTestFeedServer({ pageSize: 5 });
    for (let i = 0; i < 12; i++) feed.append();
    let url: string;
    ({ pool, url } = await freshPool());
    const run = async (at: number, where: string): Promise<string> => {
      const child = spawn(process.execPath, ['--import', 'tsx', CHILD, url, feed!.feedUrl, 'child', 'nolead', String(at), where], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
      const [code, signal] = await once(child, 'exit') as [number | null, NodeJS.Signals | null];
      if (code !== 0 && signal === null) throw new Error(`child failed: ${stderr}`);
      return signal ?? `exit ${code}`;
    };
    expect(await run(1, 'start')).to.equal('SIGKILL');
    expect(await run(3, 'written')).to.equal('SIGKILL');
    expect(await run(6, 'start')).to.equal('SIGKILL');
    expect(await run(11, 'written')).to.equal('SIGKILL');
    expect(await run(0, 'never')).to.equal('exit 0');
    for (let i = 0; i < 3; i++) feed.append();
    expect(await run(14, 'start')).to.equal('SIGKILL');
    expect(await run(0, 'never')).to.equal('exit 0');
    expect(await applied(pool)).to.deep.equal(range(1, 15));
  });
});

describe('PgFeedConsumer with two instances on one database', function () {
  this.timeout(60_000);
  let feed: TestFeedServer | undefined;
  let pool: Pool | undefined;
  let url = '';
  const children: ChildProcess[] = [];

  before(async function () {
    this.timeout(60_000);
    await requirePeer(this, postgresqlPeer);
    ({ pool, url } = await freshPool());
    feed = await startTestFeedServer({ pageSize: 5 });
  });
  after(async () => {
    for (const ch of children) if (ch.exitCode === null && ch.signalCode === null) ch.kill('SIGKILL');
    await Promise.all(children.map((ch) => ch.exitCode === null && ch.signalCode === null ? once(ch, 'exit') : undefined));
    await feed?.close();
    await pool?.end();
  });

  /** Starts an instance; resolves `lead` when it says it leads. */
  const start = (instance: string): { child: ChildProcess; leads: Promise<number> } => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, url, feed!.feedUrl, instance, 'lead', '0', 'never'], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    let out = '';
    const leads = new Promise<number>((resolve) => {
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('"leading the subscription"')) resolve(Date.now());
      });
    });
    return { child, leads };
  };

  const byInstance = async (): Promise<{ instance: string; position: number }[]> =>
    (await pool!.query<{ instance: string; position: string }>('SELECT instance, position FROM applied ORDER BY seq')).rows.map((r) => ({ instance: r.instance, position: Number(r.position) }));

  async function until(what: string, ms: number, check: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`${what} did not happen within ${ms} ms`);
      await sleep(25);
    }
  }

  it('applies each entry once, by the leader only, and a SIGKILLed leader\'s subscription is taken over within seconds', async () => {
    for (let i = 0; i < 7; i++) feed!.append();
    const a = start('a');
    await a.leads;
    const b = start('b');
    await until('instance a applying entries 1 to 7', 20_000, async () => (await byInstance()).length === 7);
    await sleep(1500); // b has tried for the lead at least once by now, and must not have polled
    for (let i = 0; i < 3; i++) feed!.append();
    await until('instance a applying entries 8 to 10', 10_000, async () => (await byInstance()).length === 10);
    expect((await byInstance()).every((r) => r.instance === 'a')).to.equal(true);
    const pollsBefore = feed!.requests.length;

    const killedAt = Date.now();
    a.child.kill('SIGKILL');
    await once(a.child, 'exit');
    const bLeadsAt = await b.leads;
    feed!.append();
    await until('instance b applying entry 11', 10_000, async () => (await byInstance()).length === 11);
    const appliedAt = Date.now();
    const takeover = { leadMs: bLeadsAt - killedAt, appliedMs: appliedAt - killedAt };
    console.log(`      takeover after SIGKILL: b leads ${takeover.leadMs} ms after the kill, applies the next entry ${takeover.appliedMs} ms after it`);
    expect(takeover.leadMs).to.be.below(5000);
    expect(await byInstance()).to.deep.equal([...range(1, 10).map((position) => ({ instance: 'a', position })), { instance: 'b', position: 11 }]);
    expect(feed!.requests.length).to.be.greaterThan(pollsBefore);
  });
});
