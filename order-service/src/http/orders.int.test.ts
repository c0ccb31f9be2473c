import { expect } from 'chai';
import { atomProblems, tempDir, call, expectProblem } from '@shop/common/testing';
import { adaOrder } from '../testing/adaOrder.ts';
import { type RunningOrderService, startOrderService } from '../testing/startOrderService.ts';

describe('The order API', function () {
  this.timeout(20_000);
  const dir = tempDir();
  let svc: RunningOrderService;
  beforeEach(async () => { svc = await startOrderService(`${dir.path}/${Math.random()}`, { FEED_PAGE_SIZE: '3' }); });
  afterEach(async () => svc.close());
  after(() => dir.remove());

  describe('POST /orders', () => {
    it('answers 201 with Location and the order id, and GET returns the order', async () => {
      const r = await call('POST', `${svc.url}/orders`, adaOrder);
      expect(r.status).to.equal(201);
      const id = r.json()['id'] as string;
      expect(id).to.match(/^ORD-[0-9A-Z]{5}-[0-9A-Z]{5}$/);
      expect(r.headers['location']).to.equal(`/orders/${id}`);
      const got = await call('GET', `${svc.url}${r.headers['location']}`);
      expect(got.status).to.equal(200);
      expect(got.json()).to.deep.include({ id, status: 'placed', currency: 'GBP', subtotal: '29.99' });
    });

    it('publishes the order in the feed, with the event and the entry written together', async () => {
      const id = (await call('POST', `${svc.url}/orders`, adaOrder)).json()['id'];
      const feed = await call('GET', `${svc.url}/feed`);
      expect(feed.body).to.include(`<shop:orderId>${id}</shop:orderId>`).and.include('term="OrderPlaced"');
      expect(await atomProblems(feed.body)).to.deep.equal([]);
      const counts = svc.db.prepare('SELECT (SELECT count(*) FROM events) AS events, (SELECT count(*) FROM feed_entries) AS entries').get();
      expect(counts).to.deep.equal({ events: 1, entries: 1 });
    });

    it('returns the same order for a retried POST with the same Idempotency-Key', async () => {
      const headers = { 'idempotency-key': 'retry-me-123' };
      const first = await call('POST', `${svc.url}/orders`, adaOrder, headers);
      const second = await call('POST', `${svc.url}/orders`, adaOrder, headers);
      expect(second.status).to.equal(201);
      expect(second.json()['id']).to.equal(first.json()['id']);
      expect(second.headers['idempotent-replayed']).to.equal('true');
      expect(svc.feed.head().lastPosition).to.equal(1);
    });

    it('refuses the same Idempotency-Key with a different order', async () => {
      await call('POST', `${svc.url}/orders`, adaOrder, { 'idempotency-key': 'k-1' });
      const r = await call('POST', `${svc.url}/orders`, { ...adaOrder, currency: 'EUR' }, { 'idempotency-key': 'k-1' });
      expectProblem(r, 422, /already used for a different order/);
    });

    it('explains an invalid body field by field', async () => {
      const r = await call('POST', `${svc.url}/orders`, { ...adaOrder, currency: 'pounds' });
      expectProblem(r, 422, /not valid/);
      expect(r.json()['errors']).to.deep.equal([{ pointer: '/currency', detail: 'must be an ISO 4217 currency code such as "GBP"' }]);
      expect(svc.feed.head().lastPosition).to.equal(0);
    });

    it('answers 400 for malformed JSON, 415 for another media type, 413 for an oversized body', async () => {
      expectProblem(await call('POST', `${svc.url}/orders`, '{"customer":'), 400, /not valid JSON/);
      expectProblem(await call('POST', `${svc.url}/orders`, 'x=1', { 'content-type': 'application/x-www-form-urlencoded' }), 415, /application\/json/);
      const huge = { ...adaOrder, customer: { name: 'x'.repeat(100_000), email: 'a@b.c' } };
      expectProblem(await call('POST', `${svc.url}/orders`, huge), 413, /at most/);
    });
  });

  describe('POST /orders/:id/cancel', () => {
    it('cancels as a new fact in the feed, and refuses a second cancel with 409', async () => {
      const id = (await call('POST', `${svc.url}/orders`, adaOrder)).json()['id'];
      const r = await call('POST', `${svc.url}/orders/${id}/cancel`, { reason: 'ordered twice' });
      expect(r.status).to.equal(200);
      expect(r.json()).to.include({ status: 'cancelled', cancelReason: 'ordered twice' });
      const feed = await call('GET', `${svc.url}/feed`);
      expect(feed.body).to.include('term="OrderCancelled"').and.include('term="OrderPlaced"');
      expectProblem(await call('POST', `${svc.url}/orders/${id}/cancel`), 409, /already cancelled/);
    });

    it('answers 404 for an unknown order', async () => {
      expectProblem(await call('POST', `${svc.url}/orders/ORD-NOPE/cancel`), 404, /no order ORD-NOPE/);
      expectProblem(await call('GET', `${svc.url}/orders/ORD-NOPE`), 404, /no order ORD-NOPE/);
    });
  });

  describe('a hostile customer name', () => {
    it('keeps the Atom valid and shows the name as text in the HTML', async () => {
      const hostile = '<script>alert(1)</script> & "Bob"';
      await call('POST', `${svc.url}/orders`, { ...adaOrder, customer: { name: hostile, email: 'bob@example.com' } });
      const atom = await call('GET', `${svc.url}/feed`, undefined, { accept: 'application/atom+xml' });
      expect(await atomProblems(atom.body)).to.deep.equal([]);
      expect(atom.body).to.include('&lt;script&gt;alert(1)&lt;/script&gt; &amp; "Bob"');
      const html = await call('GET', `${svc.url}/feed`, undefined, { accept: 'text/html' });
      expect(html.body).to.include('placed by &lt;script&gt;alert(1)&lt;/script&gt; &amp; "Bob"').and.not.include('<script>');
    });
  });
});

describe('The order service with tokens', function () {
  this.timeout(20_000);
  const dir = tempDir();
  const API_TOKEN = 'write-token-0123456789';
  const FEED_TOKEN = 'feed-token-0123456789';
  let svc: RunningOrderService;
  before(async () => { svc = await startOrderService(dir.path, { API_TOKEN, FEED_TOKEN }); });
  after(async () => { await svc.close(); dir.remove(); });

  it('needs the API token to write, and the feed token to read the feed', async () => {
    expectProblem(await call('POST', `${svc.url}/orders`, adaOrder), 401, /Bearer/);
    expect((await call('POST', `${svc.url}/orders`, adaOrder, { authorization: `Bearer ${API_TOKEN}` })).status).to.equal(201);
    expectProblem(await call('GET', `${svc.url}/feed`), 401, /Bearer/);
    const feed = await call('GET', `${svc.url}/feed`, undefined, { authorization: `Bearer ${FEED_TOKEN}` });
    expect(feed.status).to.equal(200);
    expect(feed.headers['cache-control']).to.match(/^private/);
  });
});
