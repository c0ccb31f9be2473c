import { expect } from 'chai';
import { atomProblems, startTestFeedServer, tempDir, type TestFeedServer, call, expectProblem } from '@shop/common/testing';
import { orderCancelledEntry, orderPlacedEntry } from '../testing/orderExamples.ts';
import { type RunningBillingService, startBillingService } from '../testing/startBillingService.ts';

const CARD = { type: 'card', brand: 'visa', last4: '4242' };

describe('The billing service', function () {
  this.timeout(20_000);
  const dir = tempDir();
  let orders: TestFeedServer;
  let svc: RunningBillingService;
  let n = 0;

  async function start(env: Record<string, string> = {}): Promise<void> {
    orders = await startTestFeedServer({ pageSize: 3 });
    svc = await startBillingService(`${dir.path}/${n++}`, { ORDER_FEED_URL: orders.feedUrl, ...env });
  }
  function place(orderId: string, over: Record<string, unknown> = {}): void {
    orders.append(orderPlacedEntry(orderId, over));
  }
  function cancel(orderId: string): void {
    orders.append(orderCancelledEntry(orderId));
  }
  async function poll(): Promise<void> {
    const r = await svc.orderFeed.pollOnce();
    expect(r.kind, JSON.stringify(r)).to.be.oneOf(['read', 'not-modified']);
  }
  const pay = (orderId: string, key: string, method: unknown = CARD) => call('POST', `${svc.url}/payments`, { orderId, method }, { 'idempotency-key': key });
  const feedTypes = (): string[] => {
    const types: string[] = [];
    for (let p = 1; p <= svc.feed.head().openPage.page; p++) types.push(...svc.feed.entriesOf(svc.feed.page(p)!).map((e) => e.type).reverse());
    return types;
  };

  afterEach(async () => { await svc?.close(); await orders?.close(); });
  after(() => dir.remove());

  describe('reading the order feed', () => {
    it('issues an invoice per placed order, its feed entry and the read position in one commit', async () => {
      await start();
      place('ORD-AAAAA-00001');
      await poll();
      const inv = await call('GET', `${svc.url}/invoices/ORD-AAAAA-00001`);
      expect(inv.status).to.equal(200);
      expect(inv.json()).to.deep.include({ invoiceId: 'INV-000001', status: 'issued', subtotal: '38.32', vatTotal: '1.67', total: '39.99', payment: null });
      const counts = svc.db.prepare("SELECT (SELECT count(*) FROM events) AS events, (SELECT count(*) FROM feed_entries) AS entries, (SELECT position FROM consumer_subscriptions WHERE name = 'orders') AS position").get();
      expect(counts).to.deep.equal({ events: 1, entries: 1, position: 1 });
      const feed = await call('GET', `${svc.url}/feed`);
      expect(feed.body).to.include('term="InvoiceIssued"').and.include('<shop:orderId>ORD-AAAAA-00001</shop:orderId>');
      expect(await atomProblems(feed.body)).to.deep.equal([]);
    });

    it('voids the invoice of a cancelled order and refuses to take payment for it', async () => {
      await start();
      place('ORD-AAAAA-00002');
      cancel('ORD-AAAAA-00002');
      await poll();
      expect(feedTypes()).to.deep.equal(['InvoiceIssued', 'InvoiceVoided']);
      expectProblem(await pay('ORD-AAAAA-00002', 'k-void'), 409, /cancelled and its invoice INV-000001 voided/);
    });

    it('parks an order it cannot invoice and goes on with the next', async () => {
      await start();
      place('ORD-AAAAA-00003', { shippingAddress: { line1: 'Cair Paravel', city: 'Narnia', postalCode: '1', country: 'Narnia' } });
      place('ORD-AAAAA-00004');
      for (let i = 0; i < 50 && svc.orderFeed.status().position < 2; i++) {
        if ((await svc.orderFeed.pollOnce()).kind === 'backing-off') await new Promise((r) => setTimeout(r, 5));
      }
      const status = svc.orderFeed.status();
      expect(status.parked.map((p) => p.orderId)).to.deep.equal(['ORD-AAAAA-00003']);
      expect(status.parked[0]!.error).to.match(/"NARNIA" is not an ISO 3166-1 alpha-2 country code/);
      const onStatus = (await call('GET', `${svc.url}/status`)).json() as { subscriptions: { parked: object[]; parkedTotal: number }[] };
      expect(onStatus.subscriptions[0]!.parkedTotal).to.equal(1);
      expect(onStatus.subscriptions[0]!.parked[0]).to.not.have.property('entry');
      expect(feedTypes()).to.deep.equal(['InvoiceIssued']);
      expect((await call('GET', `${svc.url}/invoices/ORD-AAAAA-00003`)).status).to.equal(404);
    });

    it('captures payment by itself with BILLING_AUTO_CAPTURE=1, across archived pages that all validate', async () => {
      await start({ BILLING_AUTO_CAPTURE: '1', FEED_PAGE_SIZE: '2' });
      for (const i of [1, 2, 3]) place(`ORD-AUTO0-0000${i}`);
      await poll();
      expect(feedTypes()).to.deep.equal(['InvoiceIssued', 'PaymentReceived', 'InvoiceIssued', 'PaymentReceived', 'InvoiceIssued', 'PaymentReceived']);
      expect(svc.feed.head().openPage.page).to.equal(3);
      const sub = await call('GET', `${svc.url}/feed`);
      const archive1 = await call('GET', `${svc.url}/feed/archive/1`);
      const archive2 = await call('GET', `${svc.url}/feed/archive/2`);
      expect(archive1.body).to.include('<fh:archive/>').and.include('term="PaymentReceived"');
      const key = svc.feed.entry(svc.feed.entriesOf(svc.feed.page(1)!)[0]!.key)!.key;
      const entry = await call('GET', `${svc.url}/feed/entries/${key}`);
      for (const doc of [sub, archive1, archive2, entry]) expect(await atomProblems(doc.body)).to.deep.equal([]);
      const inv = (await call('GET', `${svc.url}/invoices/ORD-AUTO0-00003`)).json();
      expect(inv['status']).to.equal('paid');
      expect(inv['payment']).to.deep.include({ amount: '39.99', method: CARD });
    });
  });

  describe('POST /payments', () => {
    it('takes the payment once: 201 with Location, a PaymentReceived entry, and the same answer for a retry', async () => {
      await start();
      place('ORD-AAAAA-00005');
      await poll();
      const first = await pay('ORD-AAAAA-00005', 'pay-once-1');
      expect(first.status).to.equal(201);
      expect(first.json()).to.deep.include({ orderId: 'ORD-AAAAA-00005', invoiceId: 'INV-000001', amount: '39.99', currency: 'GBP', method: CARD });
      expect(first.headers['location']).to.equal(`/payments/${first.json()['paymentId']}`);
      const retry = await pay('ORD-AAAAA-00005', 'pay-once-1');
      expect(retry.status).to.equal(201);
      expect(retry.headers['idempotent-replayed']).to.equal('true');
      expect(retry.json()).to.deep.equal(first.json());
      expect(feedTypes()).to.deep.equal(['InvoiceIssued', 'PaymentReceived']);
      const got = await call('GET', `${svc.url}${first.headers['location']}`);
      expect(got.json()).to.deep.equal(first.json());
      const feed = await call('GET', `${svc.url}/feed`);
      expect(feed.body).to.include('Visa ending 4242').and.include('Total paid');
      expect(await atomProblems(feed.body)).to.deep.equal([]);
    });

    it('refuses a second payment, a reused key with another body, and a wrong amount', async () => {
      await start();
      place('ORD-AAAAA-00006');
      await poll();
      expectProblem(await call('POST', `${svc.url}/payments`, { orderId: 'ORD-AAAAA-00006', method: CARD, amount: '38.32' }, { 'idempotency-key': 'k-amount' }), 422, /invoice total of 39.99 GBP/);
      expect((await pay('ORD-AAAAA-00006', 'k-a')).status).to.equal(201);
      expectProblem(await pay('ORD-AAAAA-00006', 'k-a', { ...CARD, last4: '1111' }), 422, /already used for a different payment/);
      expectProblem(await pay('ORD-AAAAA-00006', 'k-b'), 409, /already paid/);
      expect(feedTypes()).to.deep.equal(['InvoiceIssued', 'PaymentReceived']);
    });

    it('refuses a payment for an order it has not read yet as retryable, then takes it under the same key', async () => {
      await start();
      const early = await pay('ORD-AAAAA-00007', 'early-bird');
      expectProblem(early, 409, /has not read order ORD-AAAAA-00007/);
      expect(early.headers['retry-after']).to.equal('2');
      expect(early.json()['retryable']).to.equal(true);
      place('ORD-AAAAA-00007');
      await poll();
      expect((await pay('ORD-AAAAA-00007', 'early-bird')).status).to.equal(201);
    });

    it('answers bad requests with problem+json', async () => {
      await start();
      expectProblem(await call('POST', `${svc.url}/payments`, { orderId: 'X', method: CARD }), 400, /Idempotency-Key/);
      const invalid = await call('POST', `${svc.url}/payments`, { orderId: 'X', method: { type: 'card', brand: 'visa', last4: '42', number: '4242424242424242' } }, { 'idempotency-key': 'k' });
      expectProblem(invalid, 422, /not valid/);
      expect((invalid.json()['errors'] as { pointer: string }[]).map((e) => e.pointer)).to.deep.equal(['/method/last4', '/method']);
      expectProblem(await call('POST', `${svc.url}/payments`, '{"orderId":', { 'idempotency-key': 'k' }), 400, /not valid JSON/);
      expectProblem(await call('POST', `${svc.url}/payments`, 'a=1', { 'idempotency-key': 'k', 'content-type': 'text/plain' }), 415, /application\/json/);
      expectProblem(await call('GET', `${svc.url}/invoices/ORD-NOPE`), 404, /no invoice/);
      expectProblem(await call('GET', `${svc.url}/payments/PAY-nope`), 404, /no payment/);
    });

    it('needs the API token when one is set', async () => {
      await start({ API_TOKEN: 'billing-secret-0123456789' });
      expectProblem(await pay('ORD-X', 'k'), 401, /Bearer/);
      const ok = await call('POST', `${svc.url}/payments`, { orderId: 'ORD-X', method: CARD }, { 'idempotency-key': 'k', authorization: 'Bearer billing-secret-0123456789' });
      expect(ok.status).to.equal(409);
    });
  });
});
