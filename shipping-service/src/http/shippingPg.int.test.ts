// Shipping with DATABASE_URL: both subscriptions, the shipments, downloads, link secret and feed
// in PostgreSQL; a second instance on the same database follows, serves the same links and feed.
import { expect } from 'chai';
import { createLogger } from '@shop/common';
import { atomProblems, call, createTestDatabase, exampleEntryFor, examplesOf, postgresqlPeer, requirePeer, startTestFeedServer, takePort, type TestFeedServer } from '@shop/common/testing';
import { dispatchDuePg } from '../autoDispatch.ts';
import { loadConfig } from '../config.ts';
import { type PgShippingApp, type ShippingPg, createPgApp, openShippingPg } from '../pgApp.ts';

const FRIDAY_MORNING = new Date('2025-06-06T09:00:00.000Z');

interface Instance { readonly url: string; readonly app: PgShippingApp; readonly pg: ShippingPg; close(): Promise<void> }

describe('The shipping service on PostgreSQL', function () {
  this.timeout(30_000);
  let orders: TestFeedServer;
  let billing: TestFeedServer;
  const running: Instance[] = [];
  const clock = FRIDAY_MORNING;
  before(async function () {
    this.timeout(60_000);
    await requirePeer(this, postgresqlPeer);
    orders = await startTestFeedServer({ pageSize: 3 });
    billing = await startTestFeedServer({ pageSize: 3 });
  });
  after(async () => { await Promise.all(running.map((i) => i.close())); await orders?.close(); await billing?.close(); });

  async function start(databaseUrl: string): Promise<Instance> {
    const port = await takePort();
    const config = loadConfig({ DATA_DIR: '/nonexistent', PUBLIC_URL: 'http://shipping.shop.example', CONSUMER_LONG_POLL: '0', DATABASE_URL: databaseUrl, ORDER_FEED_URL: orders.feedUrl, BILLING_FEED_URL: billing.feedUrl });
    const logger = createLogger({}, 'silent');
    const pg = await openShippingPg(databaseUrl, { pageSize: config.feedPageSize, logger, linkSecret: undefined, poolSize: 4, now: () => clock });
    const app = createPgApp({ config, logger, now: () => clock, consumer: { backoff: { baseMs: 1, maxMs: 5 }, maxAttempts: 2 } }, pg);
    await Promise.all([app.orderFeed.startLeading(), app.billingFeed.startLeading()]);
    port.serve(app.handler);
    const i = { url: port.url, app, pg, close: async () => { await Promise.all([app.orderFeed.close(), app.billingFeed.close()]); app.access.close(); await port.close(); await pg.close(); } };
    running.push(i);
    return i;
  }

  it('schedules a paid order, gives its download links, dispatches it, and a second instance follows and serves the same', async () => {
    const url = await createTestDatabase();
    const a = await start(url);
    const b = await start(url);
    expect([a.app.orderFeed.isLeader, a.app.billingFeed.isLeader, b.app.orderFeed.isLeader, b.app.billingFeed.isLeader]).to.deep.equal([true, true, false, false]);
    orders.append(exampleEntryFor(examplesOf('order-service', 'OrderPlaced')[0]!, 'ORD-AAAAA-00001', {}));
    billing.append(exampleEntryFor(examplesOf('billing-service', 'PaymentReceived')[0]!, 'ORD-AAAAA-00001', { paidAt: clock.toISOString() }));
    expect(await b.app.orderFeed.pollOnce()).to.include({ kind: 'following' });
    expect(await a.app.orderFeed.pollOnce()).to.include({ kind: 'read', processed: 1 });
    expect(await a.app.billingFeed.pollOnce()).to.include({ kind: 'read', processed: 1 });
    const view = (await call('GET', `${b.url}/shipments/ORD-AAAAA-00001`)).json();
    expect(view['shipment']).to.deep.include({ status: 'scheduled', dispatchDate: '2025-06-06', estimatedDelivery: '2025-06-10' });
    const feed = await call('GET', `${b.url}/feed`);
    expect(feed.body).to.include('term="ShipmentScheduled"').and.include('term="DigitalDeliveryReady"');
    expect(await atomProblems(feed.body)).to.deep.equal([]);
    // Signed with the one secret kept in the database: either instance serves the link.
    const link = /href="http:\/\/shipping\.shop\.example(\/downloads\/[^"]+)"/.exec(feed.body)?.[1]?.replaceAll('&amp;', '&');
    expect(link).to.match(/^\/downloads\/ORD-AAAAA-00001\/EBOOK-7\?expires=2025-07-06&sig=/);
    expect((await call('GET', `${a.url}${link!}`)).status).to.equal(200);
    expect((await call('GET', `${b.url}${link!}`)).status).to.equal(200);
    expect(a.pg.linkSecret).to.equal(b.pg.linkSecret);
    expect(await dispatchDuePg(a.app.shipping, new Date(clock.getTime() + 10_000), 10, createLogger({}, 'silent'), () => 'RM000000001GB')).to.equal(1);
    expect((await call('GET', `${b.url}/shipments/ORD-AAAAA-00001`)).json()['shipment']).to.deep.include({ status: 'dispatched' });
    const dispatchAgain = await call('POST', `${b.url}/shipments/ORD-AAAAA-00001/dispatch`, {});
    expect(dispatchAgain.status).to.equal(409);
    const status = (await call('GET', `${b.url}/status`)).json() as { subscriptions: { name: string; position: number; leader: boolean }[] };
    expect(status.subscriptions.map((s) => [s.name, s.position, s.leader])).to.deep.equal([['orders', 1, false], ['billing', 1, false]]);
    const positions = (await a.pg.pool.query("SELECT name, position::int AS position FROM consumer_subscriptions ORDER BY name")).rows;
    expect(positions).to.deep.equal([{ name: 'billing', position: 1 }, { name: 'orders', position: 1 }]);
  });
});
