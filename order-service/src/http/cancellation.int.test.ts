import { expect } from 'chai';
import { call, exampleEntryFor, examplesOf, expectProblem, startTestFeedServer, tempDir, type TestFeedServer } from '@shop/common/testing';
import { adaOrder } from '../testing/adaOrder.ts';
import { type RunningOrderService, startOrderService } from '../testing/startOrderService.ts';

/**
 * The cancel rule against a real shipping feed carrying what shipping publishes (its contract
 * examples, re-addressed to each test's order): the order service learns of a dispatch or a
 * digital delivery only by reading that feed, as any other consumer would.
 */
describe('POST /orders/:id/cancel, with the shipping feed read', function () {
  this.timeout(20_000);
  const dir = tempDir();
  let shipping: TestFeedServer;
  let svc: RunningOrderService;

  const DISPATCHED_AT = '2025-06-06T23:30:00.000Z'; // 00:30 on Saturday 7 June in London (BST)
  const READY_AT = '2025-06-06T10:00:46.000Z';
  const publish = (type: string, orderId: string, payload: Record<string, unknown> = {}) =>
    shipping.append(exampleEntryFor(examplesOf('shipping-service', type)[0]!, orderId, payload));
  const place = async (body: unknown = adaOrder): Promise<string> => (await call('POST', `${svc.url}/orders`, body)).json()['id'] as string;
  const cancel = (id: string) => call('POST', `${svc.url}/orders/${id}/cancel`, { reason: 'changed my mind' });
  const readShipping = async () => expect((await svc.shippingFeed.pollOnce()).kind).to.equal('read');
  const feedTypes = () => svc.db.prepare('SELECT type FROM feed_entries ORDER BY position').pluck().all();

  beforeEach(async () => {
    shipping = await startTestFeedServer({ pageSize: 3 });
    svc = await startOrderService(`${dir.path}/${Math.random()}`, { SHIPPING_FEED_URL: shipping.feedUrl });
  });
  afterEach(async () => { await svc.close(); await shipping.close(); });
  after(() => dir.remove());

  it('cancels an order whose parcel is scheduled but still in the warehouse', async () => {
    const id = await place({ ...adaOrder, lines: [adaOrder.lines[0]] });
    publish('ShipmentScheduled', id);
    await readShipping();
    const r = await cancel(id);
    expect(r.status).to.equal(200);
    expect(r.json()).to.include({ status: 'cancelled', cancellable: false, dispatchedAt: null });
  });

  it('answers 409 once it has read ShipmentDispatched, saying when the parcel left (in UK time)', async () => {
    const id = await place();
    expect((await call('GET', `${svc.url}/orders/${id}`)).json()).to.include({ cancellable: true, dispatchedAt: null });
    publish('ShipmentDispatched', id, { dispatchedAt: DISPATCHED_AT });
    await readShipping();
    const r = await cancel(id);
    expectProblem(r, 409, new RegExp(`^Order ${id} was dispatched on Saturday, 7 June 2025; it can no longer be cancelled$`));
    expect(r.json()).to.include({ title: 'Conflict', orderId: id, dispatchedAt: DISPATCHED_AT });
    expect((await call('GET', `${svc.url}/orders/${id}`)).json()).to.include({ status: 'placed', cancellable: false, dispatchedAt: DISPATCHED_AT });
    // Noted privately: the order feed publishes nothing new.
    expect(feedTypes()).to.deep.equal(['OrderPlaced']);
    expect(svc.db.prepare('SELECT type FROM events ORDER BY seq').pluck().all()).to.deep.equal(['OrderPlaced', 'OrderFulfilmentNoted']);
  });

  it('answers 409 once it has read DigitalDeliveryReady: the download links were given', async () => {
    const id = await place({ ...adaOrder, lines: [adaOrder.lines[1]], shippingAddress: null });
    publish('DigitalDeliveryReady', id, { readyAt: READY_AT });
    await readShipping();
    const r = await cancel(id);
    expectProblem(r, 409, new RegExp(`^Order ${id} can no longer be cancelled: its downloads were delivered on Friday, 6 June 2025$`));
    expect(r.json()).to.include({ orderId: id, downloadsDeliveredAt: READY_AT });
  });

  it('lets the cancellation accepted before the dispatch was read stand (the race), and notes the dispatch after', async () => {
    const id = await place();
    publish('ShipmentDispatched', id, { dispatchedAt: DISPATCHED_AT });
    const r = await cancel(id);
    expect(r.status).to.equal(200);
    expect(feedTypes()).to.deep.equal(['OrderPlaced', 'OrderCancelled']);
    await readShipping();
    expect((await call('GET', `${svc.url}/orders/${id}`)).json()).to.include({ status: 'cancelled', dispatchedAt: DISPATCHED_AT });
    expectProblem(await cancel(id), 409, /already cancelled/);
  });

  it('ignores the rest of the shipping feed and orders it never took, and shows its read position on /status', async () => {
    const id = await place();
    publish('ShipmentScheduled', id);
    publish('ShipmentDispatched', 'ORD-OTHER-SHOP1');
    publish('ShipmentCancelled', id);
    await readShipping();
    expect((await cancel(id)).status).to.equal(200);
    const status = (await call('GET', `${svc.url}/status`)).json() as { subscriptions: { name: string; position: number; feedUrl: string; parked: unknown[] }[] };
    expect(status.subscriptions).to.have.length(1);
    expect(status.subscriptions[0]).to.deep.include({ name: 'shipping', position: 3, feedUrl: shipping.feedUrl, parked: [] });
  });
});
