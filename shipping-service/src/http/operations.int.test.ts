import { expect } from 'chai';
import { call, exampleEntryFor, examplesOf, expectProblem, scrapeMetrics, startTestFeedServer, tempDir, type TestFeedServer } from '@shop/common/testing';
import { type RunningShippingService, startShippingService } from '../testing/startShippingService.ts';

describe('The shipping service for operators', function () {
  this.timeout(20_000);
  const dir = tempDir();
  let orders: TestFeedServer;
  let billing: TestFeedServer;
  let svc: RunningShippingService;

  beforeEach(async () => {
    orders = await startTestFeedServer({ pageSize: 3 });
    billing = await startTestFeedServer({ pageSize: 3 });
    svc = await startShippingService(`${dir.path}/${Math.random()}`, { ORDER_FEED_URL: orders.feedUrl, BILLING_FEED_URL: billing.feedUrl });
  });
  afterEach(async () => { await svc.close(); await orders.close(); await billing.close(); });
  after(() => dir.remove());

  it('answers /metrics with its feed and both subscriptions, each labelled', async () => {
    orders.append(exampleEntryFor(examplesOf('order-service', 'OrderPlaced')[0]!, 'ORD-AAAAA-00001'));
    billing.append(exampleEntryFor(examplesOf('billing-service', 'PaymentReceived')[0]!, 'ORD-AAAAA-00001'));
    expect((await svc.orderFeed.pollOnce()).kind).to.equal('read');
    expect((await svc.billingFeed.pollOnce()).kind).to.equal('read');
    const m = await scrapeMetrics(svc.url);
    for (const name of ['process_cpu_seconds_total', 'http_requests_total', 'http_request_duration_seconds', 'feed_head_position', 'feed_not_modified_total',
      'consumer_read_position', 'consumer_newest_position_seen', 'consumer_lag_entries', 'consumer_lag_seconds',
      'consumer_last_success_timestamp_seconds', 'consumer_poll_failures_total', 'consumer_parked_entries']) {
      expect(m.types.has(name), name).to.equal(true);
    }
    for (const subscription of ['orders', 'billing']) {
      expect(m.value('consumer_read_position', { subscription }), subscription).to.equal(1);
      expect(m.value('consumer_lag_entries', { subscription }), subscription).to.equal(0);
      expect(m.value('consumer_lag_seconds', { subscription }), subscription).to.equal(0);
      expect(m.value('consumer_last_success_timestamp_seconds', { subscription }), subscription).to.be.greaterThan(0);
    }
    expect(m.value('feed_head_position', { feed: 'shipping' }), 'scheduled and made ready').to.be.greaterThan(0);
  });

  it('answers /healthz 200, and /readyz 200 then 503 once shutdown begins', async () => {
    expect((await call('GET', `${svc.url}/healthz`)).json()).to.deep.equal({ status: 'alive' });
    expect((await call('GET', `${svc.url}/readyz`)).status).to.equal(200);
    await svc.ops.health.shutDown();
    expectProblem(await call('GET', `${svc.url}/readyz`), 503, /shutting down/);
    const m = await scrapeMetrics(svc.url);
    expect(m.value('http_requests_total', { route: '/readyz', method: 'GET', status: '503' })).to.equal(1);
  });
});
