import { expect } from 'chai';
import { atomProblems, call, createTestDatabase, exampleEntryFor, examplesOf, requirePostgres, startTestFeedServer, tempDir } from '@shop/common/testing';
import { adaOrder } from '../testing/adaOrder.ts';
import { type RunningPgOrderService, startPgOrderService } from '../testing/startPgOrderService.ts';

// Two instances of the order service on one PostgreSQL database, as behind a load balancer:
// one PUBLIC_URL for both, each with its own port.
describe('The order service on PostgreSQL, two instances on one database', function () {
  this.timeout(30_000);
  const dir = tempDir();
  const PUBLIC_URL = 'http://orders.example.test';
  let a: RunningPgOrderService;
  let b: RunningPgOrderService;
  let databaseUrl = '';

  before(async function () { this.timeout(90_000); await requirePostgres(this); });
  beforeEach(async () => {
    databaseUrl = await createTestDatabase();
    const env = { FEED_PAGE_SIZE: '3', PUBLIC_URL };
    [a, b] = await Promise.all([startPgOrderService(`${dir.path}/${Math.random()}`, databaseUrl, env), startPgOrderService(`${dir.path}/${Math.random()}`, databaseUrl, env)]);
  });
  afterEach(async () => { await Promise.all([a?.close(), b?.close()]); });
  after(() => dir.remove());

  it('places an order through either and reads it through the other; its entry is in the feed once', async () => {
    const placed = await call('POST', `${a.url}/orders`, adaOrder);
    expect(placed.status).to.equal(201);
    const id = placed.json()['id'] as string;
    const got = await call('GET', `${b.url}/orders/${id}`);
    expect(got.json()).to.deep.include({ id, status: 'placed', subtotal: '29.99' });
    const feed = await call('GET', `${b.url}/feed`);
    expect(feed.body.split(`<shop:orderId>${id}</shop:orderId>`)).to.have.length(2);
    expect(await atomProblems(feed.body)).to.deep.equal([]);
  });

  it('honours an Idempotency-Key across instances, also when both get it at once', async () => {
    const headers = { 'idempotency-key': 'across-instances-1' };
    const first = await call('POST', `${a.url}/orders`, adaOrder, headers);
    const second = await call('POST', `${b.url}/orders`, adaOrder, headers);
    expect(second.status).to.equal(201);
    expect(second.headers['idempotent-replayed']).to.equal('true');
    expect(second.json()['id']).to.equal(first.json()['id']);
    const reused = await call('POST', `${b.url}/orders`, { ...adaOrder, currency: 'EUR' }, headers);
    expect(reused.status).to.equal(422);

    const together = { 'idempotency-key': 'across-instances-2' };
    const both = await Promise.all([a, b, a, b].map((s) => call('POST', `${s.url}/orders`, adaOrder, together)));
    expect(both.map((r) => r.status)).to.deep.equal([201, 201, 201, 201]);
    expect(new Set(both.map((r) => r.json()['id'])).size).to.equal(1);
    const events = await a.pg.pool.query<{ c: string }>("SELECT count(*) AS c FROM events WHERE type = 'OrderPlaced'");
    expect(Number(events.rows[0]!.c), 'one order per key').to.equal(2);
  });

  it('cancels through the other instance, and refuses a second cancel with 409', async () => {
    const id = (await call('POST', `${a.url}/orders`, adaOrder)).json()['id'] as string;
    const r = await call('POST', `${b.url}/orders/${id}/cancel`, { reason: 'ordered twice' });
    expect(r.status).to.equal(200);
    expect(r.json()).to.include({ status: 'cancelled', cancelReason: 'ordered twice' });
    expect((await call('POST', `${a.url}/orders/${id}/cancel`)).status).to.equal(409);
    expect((await call('POST', `${a.url}/orders/ORD-NOPE/cancel`)).status).to.equal(404);
    const feed = await call('GET', `${a.url}/feed`);
    expect(feed.body).to.include('term="OrderCancelled"').and.include('term="OrderPlaced"');
  });

  it('serves one feed from both: the same ETags, archives byte for byte, a 304 for the other\'s ETag', async () => {
    for (let i = 0; i < 7; i += 1) expect((await call('POST', `${(i % 2 ? a : b).url}/orders`, adaOrder)).status).to.equal(201);
    for (const path of ['/feed/archive/1', '/feed/archive/2']) {
      const [fromA, fromB] = await Promise.all([call('GET', `${a.url}${path}`), call('GET', `${b.url}${path}`)]);
      expect(fromA.status).to.equal(200);
      expect(fromA.body).to.equal(fromB.body);
      expect(fromA.headers['etag']).to.equal(fromB.headers['etag']);
      expect(fromA.headers['cache-control']).to.include('immutable');
    }
    const renditions = await a.pg.pool.query<{ c: string }>('SELECT count(*) AS c FROM feed_archive_renditions');
    expect(Number(renditions.rows[0]!.c), 'each archive rendered and stored once').to.equal(2);
    expect((await call('GET', `${a.url}/feed/archive/3`)).status).to.equal(303);
    const feedA = await call('GET', `${a.url}/feed`);
    const feedB = await call('GET', `${b.url}/feed`);
    expect(feedA.body).to.equal(feedB.body);
    expect(feedA.body).to.include('<shop:position>7</shop:position>');
    // The fast path's 304 on the other instance, from the head it keeps in memory.
    const again = await call('GET', `${b.url}/feed`, undefined, { 'if-none-match': feedA.headers['etag']! });
    expect(again.status).to.equal(304);
    const entryKey = /<id>urn:uuid:([0-9a-f-]+)<\/id>/.exec(feedA.body.slice(feedA.body.indexOf('<entry')))![1]!;
    expect((await call('GET', `${b.url}/feed/entries/${entryKey}`)).status).to.equal(200);
  });

  it('answers a long poll held by one instance when the other commits', async () => {
    const first = await call('GET', `${a.url}/feed`);
    const started = Date.now();
    const poll = call('GET', `${a.url}/feed`, undefined, { 'if-none-match': first.headers['etag']!, prefer: 'wait=20' });
    await new Promise((r) => setTimeout(r, 300));
    const id = (await call('POST', `${b.url}/orders`, adaOrder)).json()['id'] as string;
    const answered = await poll;
    expect(answered.status).to.equal(200);
    expect(answered.body).to.include(`<shop:orderId>${id}</shop:orderId>`);
    expect(Date.now() - started).to.be.below(5_000);
    // And the instance that held the poll now revalidates the new document without a query.
    expect((await call('GET', `${a.url}/feed`, undefined, { 'if-none-match': answered.headers['etag']! })).status).to.equal(304);
  });

  it('notes a dispatch read from the shipping feed in PostgreSQL, with the read position: every instance then refuses to cancel', async () => {
    const shipping = await startTestFeedServer({ pageSize: 3 });
    const reader = await startPgOrderService(`${dir.path}/${Math.random()}`, databaseUrl, { PUBLIC_URL, SHIPPING_FEED_URL: shipping.feedUrl });
    try {
      const id = (await call('POST', `${a.url}/orders`, adaOrder)).json()['id'] as string;
      shipping.append(exampleEntryFor(examplesOf('shipping-service', 'ShipmentDispatched')[0]!, id, { dispatchedAt: '2025-06-06T23:30:00.000Z' }));
      await reader.shippingFeed.startLeading();
      expect(await reader.shippingFeed.whenLeader(AbortSignal.timeout(5_000))).to.equal(true);
      expect((await reader.shippingFeed.pollOnce()).kind).to.equal('read');
      const refused = await call('POST', `${b.url}/orders/${id}/cancel`);
      expect(refused.status).to.equal(409);
      expect(refused.json()).to.include({ orderId: id, dispatchedAt: '2025-06-06T23:30:00.000Z' });
      const position = await a.pg.pool.query<{ position: string }>("SELECT position FROM consumer_subscriptions WHERE name = 'shipping'");
      expect(Number(position.rows[0]!.position), 'the read position is in the shared database').to.equal(1);
      expect((await reader.shippingFeed.status()).leader).to.equal(true);
    } finally {
      await reader.close();
      await shipping.close();
    }
  });
});
