import { expect } from 'chai';
import { startTestFeedServer, tempDir, type TestFeedServer } from '@shop/common/testing';
import { orderPlacedEntry } from '../../billing-service/src/testing/orderExamples.ts';
import { type RunningBillingService, startBillingService } from '../../billing-service/src/testing/startBillingService.ts';
import { type RunningShippingService, startShippingService } from './testing/startShippingService.ts';

/**
 * Billing and shipping, both real, choreographed only by feeds: shipping reads the order feed
 * and billing's own published feed, so the billing contract is checked by its actual reader.
 */
describe('Billing and shipping together', function () {
  this.timeout(20_000);
  const dir = tempDir();
  let orders: TestFeedServer;
  let billing: RunningBillingService;
  let shipping: RunningShippingService;

  before(async () => {
    orders = await startTestFeedServer({ pageSize: 2 });
    billing = await startBillingService(`${dir.path}/billing`, { ORDER_FEED_URL: orders.feedUrl, BILLING_AUTO_CAPTURE: '1', FEED_PAGE_SIZE: '2' });
    shipping = await startShippingService(`${dir.path}/shipping`, { ORDER_FEED_URL: orders.feedUrl, BILLING_FEED_URL: `${billing.url}/feed` });
  });
  after(async () => {
    await shipping.close();
    await billing.close();
    await orders.close();
    dir.remove();
  });

  it('ships an order once billing has captured its payment, walking billing\'s archives', async () => {
    const ids = ['ORD-CHORE-00001', 'ORD-CHORE-00002', 'ORD-CHORE-00003'];
    for (const id of ids) orders.append(orderPlacedEntry(id));
    await shipping.orderFeed.pollOnce();
    await shipping.billingFeed.pollOnce();
    expect(shipping.feed.head().lastPosition).to.equal(0);
    expect((await billing.orderFeed.pollOnce()).kind).to.equal('read');
    expect(billing.feed.head().openPage.page).to.equal(3);
    const read = await shipping.billingFeed.pollOnce();
    expect(read).to.deep.include({ kind: 'read', processed: 6, position: 6 });
    for (const id of ids) {
      const s = shipping.shipping.load(id);
      expect(s.paid?.invoiceId, id).to.match(/^INV-00000[1-3]$/);
      expect(s.shipment?.status, id).to.equal('scheduled');
      expect(s.digital?.downloads.map((d) => d.sku), id).to.deep.equal(['EBOOK-7']);
    }
  });
});
