import { expect } from 'chai';
import { createLogger } from '@shop/common';
import { atomProblems, exampleEntryFor, examplesOf, startTestFeedServer, tempDir, type TestFeedServer, call, expectProblem } from '@shop/common/testing';
import { dispatchDue } from '../autoDispatch.ts';
import { type RunningShippingService, startShippingService } from '../testing/startShippingService.ts';

const FRIDAY_MORNING = new Date('2025-06-06T09:00:00.000Z');

describe('The shipping service', function () {
  this.timeout(20_000);
  const dir = tempDir();
  let orders: TestFeedServer;
  let billing: TestFeedServer;
  let svc: RunningShippingService;
  let n = 0;
  let clock = FRIDAY_MORNING;

  async function start(env: Record<string, string> = {}): Promise<void> {
    clock = FRIDAY_MORNING;
    orders = await startTestFeedServer({ pageSize: 3 });
    billing = await startTestFeedServer({ pageSize: 3 });
    svc = await startShippingService(`${dir.path}/${n++}`, { ORDER_FEED_URL: orders.feedUrl, BILLING_FEED_URL: billing.feedUrl, ...env }, () => clock);
  }
  // The entries the order and billing services really publish (their contract examples), for these order ids.
  const place = (orderId: string, over: Record<string, unknown> = {}) => orders.append(exampleEntryFor(examplesOf('order-service', 'OrderPlaced')[0]!, orderId, over));
  const cancel = (orderId: string) => orders.append(exampleEntryFor(examplesOf('order-service', 'OrderCancelled')[0]!, orderId, { cancelledAt: clock.toISOString() }));
  const paid = (orderId: string) => billing.append(exampleEntryFor(examplesOf('billing-service', 'PaymentReceived')[0]!, orderId, { paidAt: clock.toISOString() }));
  async function poll(which: 'orders' | 'billing'): Promise<void> {
    const r = await (which === 'orders' ? svc.orderFeed : svc.billingFeed).pollOnce();
    expect(r.kind, JSON.stringify(r)).to.be.oneOf(['read', 'not-modified']);
  }
  const feedTypes = (): string[] => {
    const types: string[] = [];
    for (let p = 1; p <= svc.feed.head().openPage.page; p++) types.push(...svc.feed.entriesOf(svc.feed.page(p)!).map((e) => e.type).reverse());
    return types;
  };

  afterEach(async () => { await svc?.close(); await orders?.close(); await billing?.close(); });
  after(() => dir.remove());

  describe('reading the order and billing feeds', () => {
    it('schedules a paid order: shipment, download links, feed entries and both read positions', async () => {
      await start();
      place('ORD-AAAAA-00001');
      await poll('orders');
      expect(feedTypes()).to.deep.equal([]);
      paid('ORD-AAAAA-00001');
      await poll('billing');
      expect(feedTypes()).to.deep.equal(['ShipmentScheduled', 'DigitalDeliveryReady']);
      const positions = svc.db.prepare('SELECT name, position FROM consumer_subscriptions ORDER BY name').all();
      expect(positions).to.deep.equal([{ name: 'billing', position: 1 }, { name: 'orders', position: 1 }]);
      const view = (await call('GET', `${svc.url}/shipments/ORD-AAAAA-00001`)).json();
      expect(view['shipment']).to.deep.include({ status: 'scheduled', dispatchDate: '2025-06-06', estimatedDelivery: '2025-06-10' });
      const feed = await call('GET', `${svc.url}/feed`);
      expect(feed.body).to.include('term="ShipmentScheduled"').and.include('LONDON');
      expect(await atomProblems(feed.body)).to.deep.equal([]);
      const link = /href="([^"]+\/downloads\/[^"]+)"/.exec(feed.body)?.[1]?.replaceAll('&amp;', '&');
      expect(link).to.match(/\/downloads\/ORD-AAAAA-00001\/EBOOK-7\?expires=2025-07-06&sig=/);
      const download = await call('GET', link!);
      expect(download.status).to.equal(200);
      expect(download.body).to.include('Sketch of the Engine (eBook)');
      expectProblem(await call('GET', `${svc.url}/downloads/nope`), 403, /not valid/);
    });

    it('schedules just the same when the payment is read before the order', async () => {
      await start();
      paid('ORD-AAAAA-00002');
      place('ORD-AAAAA-00002');
      await poll('billing');
      expect(feedTypes()).to.deep.equal([]);
      await poll('orders');
      expect(feedTypes()).to.deep.equal(['ShipmentScheduled', 'DigitalDeliveryReady']);
    });

    it('cancels a scheduled shipment and its downloads when the order is cancelled', async () => {
      await start();
      place('ORD-AAAAA-00003');
      paid('ORD-AAAAA-00003');
      await poll('orders');
      await poll('billing');
      cancel('ORD-AAAAA-00003');
      await poll('orders');
      // The parcel is stopped; the download links had been given, so that is told too.
      expect(feedTypes()).to.deep.equal(['ShipmentScheduled', 'DigitalDeliveryReady', 'ShipmentCancelled', 'DispatchedBeforeCancellation']);
      const link = /href="([^"]+\/downloads\/[^"]+)"/.exec(await (await call('GET', `${svc.url}/feed`)).body)![1]!.replaceAll('&amp;', '&');
      expectProblem(await call('GET', link), 410, /cancelled/);
      expectProblem(await call('POST', `${svc.url}/shipments/ORD-AAAAA-00003/dispatch`), 409, /cancelled/);
    });

    it('parks an entry it cannot read and goes on', async () => {
      await start();
      orders.append({ type: 'OrderPlaced', orderId: 'ORD-BROKEN', payload: { orderId: 'ORD-BROKEN', lines: [] } });
      place('ORD-AAAAA-00004');
      for (let i = 0; i < 50 && svc.orderFeed.status().position < 2; i++) {
        if ((await svc.orderFeed.pollOnce()).kind === 'backing-off') await new Promise((r) => setTimeout(r, 5));
      }
      expect(svc.orderFeed.status().parked.map((p) => p.orderId)).to.deep.equal(['ORD-BROKEN']);
      expect((await call('GET', `${svc.url}/shipments/ORD-AAAAA-00004`)).json()['orderKnown']).to.equal(true);
    });
  });

  describe('POST /shipments/:orderId/dispatch', () => {
    it('dispatches once with carrier and tracking number, publishing ShipmentDispatched', async () => {
      await start();
      place('ORD-AAAAA-00005');
      paid('ORD-AAAAA-00005');
      await poll('orders');
      await poll('billing');
      const r = await call('POST', `${svc.url}/shipments/ORD-AAAAA-00005/dispatch`, { carrier: 'DPD', trackingNumber: '15501234567890' });
      expect(r.status).to.equal(200);
      expect(r.json()['shipment']).to.deep.include({ status: 'dispatched', carrier: 'DPD', trackingNumber: '15501234567890' });
      expect(feedTypes()).to.deep.equal(['ShipmentScheduled', 'DigitalDeliveryReady', 'ShipmentDispatched']);
      const feed = await call('GET', `${svc.url}/feed`);
      expect(feed.body).to.include('tracking number 15501234567890');
      expect(await atomProblems(feed.body)).to.deep.equal([]);
      expectProblem(await call('POST', `${svc.url}/shipments/ORD-AAAAA-00005/dispatch`), 409, /already dispatched/);
    });

    it('answers bad requests with problem+json', async () => {
      await start();
      place('ORD-AAAAA-00006');
      await poll('orders');
      expectProblem(await call('POST', `${svc.url}/shipments/ORD-NOPE/dispatch`), 404, /knows no order/);
      expectProblem(await call('POST', `${svc.url}/shipments/ORD-AAAAA-00006/dispatch`), 409, /not paid yet/);
      const invalid = await call('POST', `${svc.url}/shipments/ORD-AAAAA-00006/dispatch`, { trackingNumber: '<b>' });
      expectProblem(invalid, 422, /not valid/);
      expect(invalid.json()['errors']).to.deep.equal([{ pointer: '/trackingNumber', detail: 'must be 4 to 40 letters, digits or dashes' }]);
      expectProblem(await call('POST', `${svc.url}/shipments/ORD-AAAAA-00006/dispatch`, '{"carrier":'), 400, /not valid JSON/);
      expectProblem(await call('GET', `${svc.url}/shipments/ORD-NOPE`), 404, /knows nothing/);
    });

    it('needs the API token when one is set', async () => {
      await start({ API_TOKEN: 'shipping-secret-0123456789' });
      expectProblem(await call('POST', `${svc.url}/shipments/X/dispatch`), 401, /Bearer/);
      expect((await call('POST', `${svc.url}/shipments/X/dispatch`, undefined, { authorization: 'Bearer shipping-secret-0123456789' })).status).to.equal(404);
    });
  });

  describe('automatic dispatch', () => {
    it('dispatches shipments scheduled longer ago than the delay, and only those', async () => {
      await start({ FEED_PAGE_SIZE: '2' });
      for (const id of ['ORD-AUTO0-00001', 'ORD-AUTO0-00002']) { place(id); paid(id); }
      await poll('orders');
      await poll('billing');
      const quiet = createLogger({}, 'silent');
      expect(dispatchDue(svc.shipping, new Date(clock.getTime() + 5_000), 10, quiet)).to.equal(0);
      expect(dispatchDue(svc.shipping, new Date(clock.getTime() + 10_000), 10, quiet, () => 'RM000000001GB')).to.equal(2);
      expect(dispatchDue(svc.shipping, new Date(clock.getTime() + 20_000), 10, quiet)).to.equal(0);
      expect(feedTypes().filter((t) => t === 'ShipmentDispatched')).to.have.length(2);
      // Six entries on pages of two: every document, archives included, is valid Atom.
      for (const path of ['/feed', '/feed/archive/1', '/feed/archive/2']) {
        const doc = await call('GET', `${svc.url}${path}`);
        expect(doc.status).to.equal(200);
        expect(await atomProblems(doc.body), path).to.deep.equal([]);
      }
      const entry = await call('GET', `${svc.url}/feed/entries/${svc.feed.entriesOf(svc.feed.page(1)!)[0]!.key}`);
      expect(await atomProblems(entry.body)).to.deep.equal([]);
    });
  });
});
