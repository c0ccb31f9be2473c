import { expect } from 'chai';
import { call, expectProblem, scrapeMetrics, tempDir } from '@shop/common/testing';
import { adaOrder } from '../testing/adaOrder.ts';
import { type RunningOrderService, startOrderService } from '../testing/startOrderService.ts';

describe('The order service for operators', function () {
  this.timeout(20_000);
  const dir = tempDir();
  let svc: RunningOrderService;
  beforeEach(async () => { svc = await startOrderService(`${dir.path}/${Math.random()}`); });
  afterEach(async () => svc.close());
  after(() => dir.remove());

  describe('GET /metrics', () => {
    it('answers the Prometheus text format with process, HTTP and feed metrics', async () => {
      const m = await scrapeMetrics(svc.url);
      for (const [name, type] of [
        ['process_cpu_seconds_total', 'counter'], ['process_resident_memory_bytes', 'gauge'], ['nodejs_eventloop_lag_seconds', 'gauge'],
        ['http_requests_total', 'counter'], ['http_request_duration_seconds', 'histogram'],
        ['feed_head_position', 'gauge'], ['feed_head_timestamp_seconds', 'gauge'], ['feed_entries_appended_total', 'counter'],
        ['feed_documents_rendered_total', 'counter'], ['feed_not_modified_total', 'counter'], ['feed_long_polls_waiting', 'gauge'],
      ]) expect(m.types.get(name!), name).to.equal(type);
      expect(m.value('feed_head_position', { feed: 'orders' })).to.equal(0);
      // It reads one feed, shipping's (to know what can no longer be cancelled), never polled here.
      expect(m.value('consumer_read_position', { subscription: 'shipping' })).to.equal(0);
      expect(m.value('consumer_last_success_timestamp_seconds', { subscription: 'shipping' }), 'never polled').to.equal(0);
    });

    it('counts requests by route pattern, method and status', async () => {
      const id = (await call('POST', `${svc.url}/orders`, adaOrder)).json()['id'] as string;
      await call('GET', `${svc.url}/orders/${id}`);
      await call('GET', `${svc.url}/orders/${id}`);
      await call('GET', `${svc.url}/nowhere`);
      const m = await scrapeMetrics(svc.url);
      expect(m.value('http_requests_total', { route: '/orders', method: 'POST', status: '201' })).to.equal(1);
      expect(m.value('http_requests_total', { route: '/orders/:id', method: 'GET', status: '200' })).to.equal(2);
      expect(m.value('http_requests_total', { route: 'unmatched', method: 'GET', status: '404' })).to.equal(1);
      expect(m.value('http_request_duration_seconds_count', { route: '/orders/:id', method: 'GET', status: '200' })).to.equal(2);
      expect(m.value('http_request_duration_seconds_bucket', { route: '/orders/:id', method: 'GET', status: '200', le: '+Inf' })).to.equal(2);
      expect(m.value('feed_head_position', { feed: 'orders' })).to.equal(1);
      expect(m.value('feed_entries_appended_total', { feed: 'orders' })).to.equal(1);
    });

    it('counts the 304s of the fast path in front of Koa, as route /feed', async () => {
      await call('POST', `${svc.url}/orders`, adaOrder);
      const first = await call('GET', `${svc.url}/feed`);
      const before = await scrapeMetrics(svc.url);
      expect(before.value('feed_documents_rendered_total', { feed: 'orders' })).to.equal(1);
      for (let i = 0; i < 3; i++) {
        expect((await call('GET', `${svc.url}/feed`, undefined, { 'if-none-match': first.headers['etag']! })).status).to.equal(304);
      }
      const m = await scrapeMetrics(svc.url);
      expect(m.value('http_requests_total', { route: '/feed', method: 'GET', status: '304' })).to.equal(3);
      expect(m.value('http_requests_total', { route: '/feed', method: 'GET', status: '200' })).to.equal(1);
      expect(m.value('feed_not_modified_total', { feed: 'orders' })).to.equal(3);
      expect(m.value('feed_documents_rendered_total', { feed: 'orders' }), 'a 304 renders nothing').to.equal(1);
    });

    it('shows the long polls waiting, and wakes them on shutdown', async () => {
      const etag = (await call('GET', `${svc.url}/feed`)).headers['etag']!;
      const held = call('GET', `${svc.url}/feed`, undefined, { 'if-none-match': etag, prefer: 'wait=60' });
      await until(async () => (await scrapeMetrics(svc.url)).value('feed_long_polls_waiting', { feed: 'orders' }) === 1);
      await svc.ops.health.shutDown();
      const r = await held;
      expect(r.status).to.equal(304);
      expect(r.headers['preference-applied']).to.equal('wait=60');
      expect((await scrapeMetrics(svc.url)).value('feed_long_polls_waiting', { feed: 'orders' })).to.equal(0);
    });
  });

  describe('GET /healthz and /readyz', () => {
    it('answers 200 while serving, and /readyz 503 problem+json as soon as shutdown begins', async () => {
      const alive = await call('GET', `${svc.url}/healthz`);
      expect(alive.status).to.equal(200);
      expect(alive.headers['content-type']).to.match(/^application\/json/);
      expect(alive.json()).to.deep.equal({ status: 'alive' });
      const ready = await call('GET', `${svc.url}/readyz`);
      expect(ready.status).to.equal(200);
      expect(ready.json()).to.deep.equal({ status: 'ready' });

      await svc.ops.health.shutDown();
      const notReady = await call('GET', `${svc.url}/readyz`);
      expectProblem(notReady, 503, /shutting down/);
      expect(notReady.headers['cache-control']).to.equal('no-store');
      expect((await call('GET', `${svc.url}/healthz`)).status, 'still alive').to.equal(200);
      expect((await call('POST', `${svc.url}/orders`, adaOrder)).status, 'still serving until the server closes').to.equal(201);
    });

    it('answers /readyz 503 when the database is not migrated or closed', async () => {
      svc.db.prepare("DELETE FROM schema_migrations WHERE id = 'orders-001-idempotency'").run();
      expectProblem(await call('GET', `${svc.url}/readyz`), 503, /not migrated: 1 migration\(s\) pending \(orders-001-idempotency\)/);
      svc.db.close();
      expectProblem(await call('GET', `${svc.url}/readyz`), 503, /database is closed/);
      expect((await call('GET', `${svc.url}/healthz`)).status).to.equal(200);
    });
  });
});

async function until(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, 20));
}
