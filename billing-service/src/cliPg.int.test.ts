// The billing command line with DATABASE_URL: the same commands on the order feed subscription
// kept in PostgreSQL, next to a running instance of the service on that database.
import { expect } from 'chai';
import { createLogger } from '@shop/common';
import { call, createTestDatabase, postgresqlPeer, requirePeer, startTestFeedServer, takePort, type TestFeedServer } from '@shop/common/testing';
import { runCli } from './cli.ts';
import { loadConfig } from './config.ts';
import { type BillingPg, type PgBillingApp, createPgApp, openBillingPg } from './pgApp.ts';
import { orderPlacedEntry } from './testing/orderExamples.ts';

describe('The billing command line on PostgreSQL (DATABASE_URL)', function () {
  this.timeout(30_000);
  let orders: TestFeedServer;
  let url: string;
  let env: Record<string, string>;
  let pg: BillingPg;
  let app: PgBillingApp;
  let svcUrl: string;
  let closePort: () => Promise<void>;

  async function cli(...args: string[]): Promise<{ code: number; lines: string[] }> {
    const lines: string[] = [];
    const code = await runCli(args, env, (l) => lines.push(l));
    return { code, lines };
  }
  async function pollTo(position: number): Promise<void> {
    for (let i = 0; i < 50 && (await app.orderFeed.status()).position < position; i++) {
      if ((await app.orderFeed.pollOnce()).kind === 'backing-off') await new Promise((r) => setTimeout(r, 5));
    }
    expect((await app.orderFeed.status()).position).to.equal(position);
  }
  const count = async (sql: string) => ((await pg.pool.query<{ n: number }>(`SELECT (${sql})::int AS n`)).rows[0]!.n);

  before(async function () {
    this.timeout(60_000);
    await requirePeer(this, postgresqlPeer);
    url = await createTestDatabase();
    orders = await startTestFeedServer({ pageSize: 3 });
    env = { DATA_DIR: '/nonexistent', ORDER_FEED_URL: orders.feedUrl, FEED_PAGE_SIZE: '3', DATABASE_URL: url };
    const port = await takePort();
    const config = loadConfig({ ...env, PUBLIC_URL: port.url, CONSUMER_LONG_POLL: '0' });
    const logger = createLogger({}, 'silent');
    pg = await openBillingPg(url, { pageSize: config.feedPageSize, logger, poolSize: 4 });
    app = createPgApp({ config, logger, consumer: { backoff: { baseMs: 1, maxMs: 5 }, maxAttempts: 2 } }, pg);
    await app.orderFeed.startLeading();
    port.serve(app.handler);
    svcUrl = port.url;
    closePort = () => port.close();

    orders.append(orderPlacedEntry('ORD-AAAAA-00001'));
    await pollTo(1);
    // A fault of billing's own database while it invoices the second order: parked, replayable once gone.
    await pg.pool.query("CREATE FUNCTION disk_full() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'could not extend file: No space left on device (simulated)'; END $$");
    await pg.pool.query('CREATE TRIGGER disk_full BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION disk_full()');
    orders.append(orderPlacedEntry('ORD-AAAAA-00002'));
    await pollTo(2);
    await pg.pool.query('DROP TRIGGER disk_full ON events');
    // And one that cannot be invoiced at all: its destination is not a country.
    orders.append(orderPlacedEntry('ORD-AAAAA-00003', { shippingAddress: { line1: 'Cair Paravel', city: 'Narnia', postalCode: '1', country: 'Narnia' } }));
    await pollTo(3);
  });
  after(async () => {
    await app?.orderFeed.close();
    app?.access.close();
    await closePort?.();
    await pg?.close();
    await orders?.close();
  });

  it('prints the position of the order feed subscription', async () => {
    const r = await cli('positions');
    expect(r.code).to.equal(0);
    expect(r.lines).to.have.length(1);
    expect(r.lines[0]).to.match(/^orders position 3 of 3 seen \(0 behind\), parked 2, last success \S+Z/).and.include(orders.feedUrl);
  });

  it('lists the parked entries with their errors', async () => {
    const r = await cli('parked');
    expect(r.code).to.equal(0);
    expect(r.lines).to.have.length(2);
    expect(r.lines[0]).to.match(/^orders \S+ position 2 OrderPlaced order ORD-AAAAA-00002 \(2 attempts, parked \S+\): .*No space left on device/);
    expect(r.lines[1]).to.match(/^orders \S+ position 3 OrderPlaced order ORD-AAAAA-00003 .*not an ISO 3166-1 alpha-2 country code/);
    expect((await cli('parked', 'orders')).lines).to.deep.equal(r.lines);
  });

  it('replays a parked entry: its invoice and its removal from the parked entries commit together, and the service sees it', async () => {
    const atomId = (await app.orderFeed.parked()).find((p) => p.orderId === 'ORD-AAAAA-00002')!.atomId;
    const r = await cli('replay', 'orders', atomId);
    expect(r).to.deep.equal({ code: 0, lines: [`replayed ${atomId}; its invoice (and entry on the billing feed) is committed`] });
    expect((await call('GET', `${svcUrl}/invoices/ORD-AAAAA-00002`)).json()).to.deep.include({ invoiceId: 'INV-000002', status: 'issued' });
    expect((await app.orderFeed.status()).parked.map((p) => p.orderId)).to.deep.equal(['ORD-AAAAA-00003']);
    expect(await cli('replay', 'orders', atomId)).to.deep.equal({ code: 1, lines: ['not replayed: not-parked'] });
  });

  it('a replay that fails again writes nothing and keeps the entry parked (exit 1)', async () => {
    const events = await count('SELECT count(*) FROM events');
    const atomId = (await app.orderFeed.parked()).find((p) => p.orderId === 'ORD-AAAAA-00003')!.atomId;
    const r = await cli('replay', 'orders', atomId);
    expect(r.code).to.equal(1);
    expect(r.lines[0]).to.match(/^not replayed: handler-failed: .*not an ISO 3166-1 alpha-2 country code/);
    expect(await count('SELECT count(*) FROM events')).to.equal(events);
    expect((await app.orderFeed.parked()).map((p) => p.orderId)).to.deep.equal(['ORD-AAAAA-00003']);
    const typo = await cli('replay', 'order', atomId);
    expect(typo.code).to.equal(2);
    expect(typo.lines[0]).to.match(/^unknown subscription "order": one of orders\n\nUsage: npm run cli -w billing-service -- <command>/);
  });

  it('resets the subscription: the service reads the feed again, and invoices no order twice', async () => {
    const invoices = await count("SELECT count(*) FROM events WHERE type = 'InvoiceIssued'");
    const r = await cli('reset', 'orders');
    expect(r).to.deep.equal({ code: 0, lines: ['orders will be read again from its oldest archive; entries already applied change nothing (no order is invoiced twice)'] });
    expect(await count("SELECT position FROM consumer_subscriptions WHERE name = 'orders'")).to.equal(0);
    expect((await cli('positions')).lines[0]).to.match(/^orders position 0 of /);
    await pollTo(3);
    expect(await count("SELECT count(*) FROM events WHERE type = 'InvoiceIssued'")).to.equal(invoices);
    expect(invoices).to.equal(2);
  });

  it('exits 2 on a configuration the service would refuse', async () => {
    const lines: string[] = [];
    expect(await runCli(['positions'], { ...env, ORDER_FEED_URL: 'not a url' }, (l) => lines.push(l))).to.equal(2);
    expect(lines[0]).to.match(/^billing-service: /);
  });
});
