import { expect } from 'chai';
import { call, expectProblem, scrapeMetrics, startTestFeedServer, tempDir, type TestFeedServer } from '@shop/common/testing';
import { orderPlacedEntry } from '../testing/orderExamples.ts';
import { type RunningBillingService, startBillingService } from '../testing/startBillingService.ts';

const NARNIA = { line1: 'Cair Paravel', city: 'Narnia', postalCode: '1', country: 'Narnia' };

describe('The billing service for operators', function () {
  this.timeout(20_000);
  const dir = tempDir();
  const committedAt = Date.parse('2026-03-02T10:00:00.000Z');
  let clock = committedAt + 90_000;
  let orders: TestFeedServer;
  let svc: RunningBillingService;

  beforeEach(async () => {
    clock = committedAt + 90_000;
    orders = await startTestFeedServer({ pageSize: 10, now: () => new Date(committedAt) });
    svc = await startBillingService(`${dir.path}/${Math.random()}`, { ORDER_FEED_URL: orders.feedUrl }, () => new Date(clock));
  });
  afterEach(async () => { await svc.close(); await orders.close(); });
  after(() => dir.remove());

  it('shows its order feed lag on /metrics: N entries and their age behind, then 0 once applied', async () => {
    const sub = { subscription: 'orders' };
    const start = await scrapeMetrics(svc.url);
    expect(start.value('consumer_read_position', sub)).to.equal(0);
    expect(start.value('consumer_lag_entries', sub)).to.equal(0);
    expect(start.value('consumer_last_success_timestamp_seconds', sub), 'never polled').to.equal(0);

    // Three orders, the first to a destination that is not a country: its handler fails.
    orders.append(orderPlacedEntry('ORD-AAAAA-00001', { shippingAddress: NARNIA }));
    orders.append(orderPlacedEntry('ORD-AAAAA-00002'));
    orders.append(orderPlacedEntry('ORD-AAAAA-00003'));
    expect((await svc.orderFeed.pollOnce()).kind).to.equal('failed');
    const behind = await scrapeMetrics(svc.url);
    expect(behind.value('consumer_read_position', sub)).to.equal(0);
    expect(behind.value('consumer_newest_position_seen', sub)).to.equal(3);
    expect(behind.value('consumer_lag_entries', sub)).to.equal(3);
    expect(behind.value('consumer_lag_seconds', sub), 'the oldest unapplied entry was committed 90 s ago').to.equal(90);
    expect(behind.value('consumer_poll_failures_total', sub)).to.equal(1);
    expect(behind.value('consumer_polls_total', sub)).to.equal(1);
    expect(behind.value('consumer_last_success_timestamp_seconds', sub)).to.equal(0);

    clock += 1000;
    expect((await scrapeMetrics(svc.url)).value('consumer_lag_seconds', sub), 'a stuck entry keeps ageing').to.equal(91);

    // The second failure parks it (MAX_ATTEMPTS is 2 in tests) and the poll reads on.
    expect((await svc.orderFeed.pollOnce()).kind).to.equal('read');
    const caughtUp = await scrapeMetrics(svc.url);
    expect(caughtUp.value('consumer_read_position', sub)).to.equal(3);
    expect(caughtUp.value('consumer_lag_entries', sub)).to.equal(0);
    expect(caughtUp.value('consumer_lag_seconds', sub)).to.equal(0);
    expect(caughtUp.value('consumer_parked_entries', sub)).to.equal(1);
    expect(caughtUp.value('consumer_last_success_timestamp_seconds', sub)).to.equal(clock / 1000);
    expect(caughtUp.value('consumer_poll_failures_total', sub)).to.equal(1);
    expect(caughtUp.value('feed_head_position', { feed: 'billing' }), 'two invoices issued').to.equal(2);
    expect(caughtUp.value('feed_entries_appended_total', { feed: 'billing' })).to.equal(2);
  });

  it('counts requests with their route, and answers /healthz, then /readyz 503 once shutdown begins', async () => {
    await call('GET', `${svc.url}/invoices/ORD-NOPE`);
    await call('GET', `${svc.url}/status`);
    const m = await scrapeMetrics(svc.url);
    expect(m.value('http_requests_total', { route: '/invoices/:orderId', method: 'GET', status: '404' })).to.equal(1);
    expect(m.value('http_requests_total', { route: '/status', method: 'GET', status: '200' })).to.equal(1);
    expect(m.types.get('feed_long_polls_waiting')).to.equal('gauge');

    expect((await call('GET', `${svc.url}/healthz`)).status).to.equal(200);
    expect((await call('GET', `${svc.url}/readyz`)).status).to.equal(200);
    await svc.ops.health.shutDown();
    expectProblem(await call('GET', `${svc.url}/readyz`), 503, /shutting down/);
  });
});
