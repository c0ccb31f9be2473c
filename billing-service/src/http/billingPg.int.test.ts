// Billing with DATABASE_URL: the same HTTP API and order feed subscription, everything stored in
// PostgreSQL, and two instances on one database of which only the leader applies the order feed.
import { expect } from 'chai';
import { createLogger } from '@shop/common';
import { atomProblems, call, createTestDatabase, expectProblem, postgresqlPeer, requirePeer, startTestFeedServer, takePort, type TestFeedServer } from '@shop/common/testing';
import { loadConfig } from '../config.ts';
import { type BillingPg, type PgBillingApp, createPgApp, openBillingPg } from '../pgApp.ts';
import { orderCancelledEntry, orderPlacedEntry } from '../testing/orderExamples.ts';

const CARD = { type: 'card', brand: 'visa', last4: '4242' };

interface Instance { readonly url: string; readonly app: PgBillingApp; readonly pg: BillingPg; close(): Promise<void> }

async function startPgBilling(databaseUrl: string, env: Record<string, string>): Promise<Instance> {
  const port = await takePort();
  const config = loadConfig({ DATA_DIR: '/nonexistent', PUBLIC_URL: port.url, CONSUMER_LONG_POLL: '0', DATABASE_URL: databaseUrl, ...env });
  const logger = createLogger({}, 'silent');
  const pg = await openBillingPg(databaseUrl, { pageSize: config.feedPageSize, logger, poolSize: 4 });
  const app = createPgApp({ config, logger, consumer: { backoff: { baseMs: 1, maxMs: 5 }, maxAttempts: 2 } }, pg);
  await app.orderFeed.startLeading();
  port.serve(app.handler);
  return { url: port.url, app, pg, close: async () => { await app.orderFeed.close(); app.access.close(); await port.close(); await pg.close(); } };
}

describe('The billing service on PostgreSQL', function () {
  this.timeout(30_000);
  let orders: TestFeedServer | undefined;
  const running: Instance[] = [];
  before(async function () { this.timeout(60_000); await requirePeer(this, postgresqlPeer); });
  afterEach(async () => { await Promise.all(running.splice(0).map((i) => i.close())); await orders?.close(); orders = undefined; });

  async function start(env: Record<string, string> = {}, url?: string): Promise<Instance> {
    orders ??= await startTestFeedServer({ pageSize: 3 });
    const i = await startPgBilling(url ?? await createTestDatabase(), { ORDER_FEED_URL: orders.feedUrl, FEED_PAGE_SIZE: '3', ...env });
    running.push(i);
    return i;
  }

  it('invoices placed orders, voids cancelled ones, takes a payment once per Idempotency-Key, and publishes each', async () => {
    const svc = await start();
    orders!.append(orderPlacedEntry('ORD-AAAAA-00001'));
    orders!.append(orderPlacedEntry('ORD-AAAAA-00002'));
    orders!.append(orderCancelledEntry('ORD-AAAAA-00002'));
    expect(await svc.app.orderFeed.pollOnce()).to.include({ kind: 'read', processed: 3 });
    const inv = await call('GET', `${svc.url}/invoices/ORD-AAAAA-00001`);
    expect(inv.json()).to.deep.include({ invoiceId: 'INV-000001', status: 'issued', total: '39.99', payment: null });
    expectProblem(await call('POST', `${svc.url}/payments`, { orderId: 'ORD-AAAAA-00002', method: CARD }, { 'idempotency-key': 'k-void' }), 409, /cancelled and its invoice INV-000002 voided/);
    const paid = await call('POST', `${svc.url}/payments`, { orderId: 'ORD-AAAAA-00001', method: CARD }, { 'idempotency-key': 'k1' });
    expect(paid.status).to.equal(201);
    const again = await call('POST', `${svc.url}/payments`, { orderId: 'ORD-AAAAA-00001', method: CARD }, { 'idempotency-key': 'k1' });
    expect(again.status).to.equal(201);
    expect(again.headers['idempotent-replayed']).to.equal('true');
    expect(again.headers['location']).to.equal(paid.headers['location']);
    expect((await call('GET', `${svc.url}${paid.headers['location'] as string}`)).status).to.equal(200);
    const counts = (await svc.pg.pool.query("SELECT (SELECT count(*) FROM events)::int AS events, (SELECT count(*) FROM feed_entries)::int AS entries, (SELECT count(*) FROM billing_payments)::int AS payments, (SELECT position FROM consumer_subscriptions WHERE name = 'orders')::int AS position")).rows[0];
    expect(counts).to.deep.equal({ events: 4, entries: 4, payments: 1, position: 3 });
    const feed = await call('GET', `${svc.url}/feed`);
    expect(feed.body).to.include('term="PaymentReceived"');
    expect(await atomProblems(feed.body)).to.deep.equal([]);
    const archive = await call('GET', `${svc.url}/feed/archive/1`);
    expect(archive.status).to.equal(200);
    expect(archive.body).to.include('term="InvoiceIssued"').and.include('term="InvoiceVoided"');
    const status = (await call('GET', `${svc.url}/status`)).json() as { subscriptions: { name: string; position: number; leader: boolean }[] };
    expect(status.subscriptions[0]).to.include({ name: 'orders', position: 3, leader: true });
    expect((await call('GET', `${svc.url}/metrics`)).body).to.match(/consumer_read_position\{subscription="orders"\} 3/);
  });

  it('parks an order it cannot invoice and goes on with the next', async () => {
    const svc = await start();
    orders!.append(orderPlacedEntry('ORD-AAAAA-00003', { shippingAddress: { line1: 'Cair Paravel', city: 'Narnia', postalCode: '1', country: 'Narnia' } }));
    orders!.append(orderPlacedEntry('ORD-AAAAA-00004'));
    for (let i = 0; i < 50 && (await svc.app.orderFeed.status()).position < 2; i++) {
      if ((await svc.app.orderFeed.pollOnce()).kind === 'backing-off') await new Promise((r) => setTimeout(r, 5));
    }
    const status = await svc.app.orderFeed.status();
    expect(status.parked.map((p) => p.orderId)).to.deep.equal(['ORD-AAAAA-00003']);
    expect((await call('GET', `${svc.url}/invoices/ORD-AAAAA-00004`)).json()).to.deep.include({ invoiceId: 'INV-000001' });
  });

  it('runs two instances on one database: only the leader applies the order feed, and both serve its results', async () => {
    const url = await createTestDatabase();
    // Behind one load balancer: one public URL for both.
    const env = { BILLING_AUTO_CAPTURE: '1', PUBLIC_URL: 'http://billing.shop.example' };
    const a = await start(env, url);
    const b = await start(env, url);
    expect([a.app.orderFeed.isLeader, b.app.orderFeed.isLeader]).to.deep.equal([true, false]);
    for (let i = 1; i <= 4; i++) orders!.append(orderPlacedEntry(`ORD-AAAAA-0001${i}`));
    expect(await b.app.orderFeed.pollOnce()).to.include({ kind: 'following' });
    expect(await a.app.orderFeed.pollOnce()).to.include({ kind: 'read', processed: 4 });
    expect((await call('GET', `${b.url}/invoices/ORD-AAAAA-00014`)).json()).to.deep.include({ invoiceId: 'INV-000004', status: 'paid' });
    const viaA = await call('GET', `${a.url}/feed/archive/1`);
    const viaB = await call('GET', `${b.url}/feed/archive/1`);
    expect(viaB.body).to.equal(viaA.body);
    expect(viaB.headers['etag']).to.equal(viaA.headers['etag']);
    const bStatus = (await call('GET', `${b.url}/status`)).json() as { subscriptions: { position: number; leader: boolean }[] };
    expect(bStatus.subscriptions[0]).to.include({ position: 4, leader: false });
  });
});
