import { type ConsumedEntry, SqliteCommandEngine } from '@shop/common';
import { exampleWorld, later, readExamples } from '@shop/common/contract';
import { DEFAULT_SHOP_TIME_ZONE } from '@shop/common/time';
import { expect } from 'chai';
import { migrations } from '../db/migrations.ts';
import { ShippingStore } from '../db/shippingStore.ts';
import { DownloadLinks } from '../downloads/downloadLinks.ts';
import { createBillingFeedHandler, createOrderFeedHandler } from './feedHandlers.ts';

/**
 * The delivery promise is made from the payment's time (billing's `paidAt`), so reading the
 * billing feed late (after an outage, or again after a reset) promises the same dates as reading
 * it at once. The entries are the order and billing services' contract examples.
 */
const orders = readExamples('order-service');
const payments = readExamples('billing-service').filter((e) => e.type === 'PaymentReceived');

interface Scheduled { readonly orderId: string; readonly payload: Readonly<Record<string, unknown>>; readonly summary: string; readonly content: string }

/** Shipping reads every order at once, then each payment `delayMs` after billing published it. */
function scheduleAll(delayMs: number): Scheduled[] {
  const world = exampleWorld(migrations, { idDigit: 3, start: '2025-06-06T09:00:00.000Z' });
  const links = new DownloadLinks('http://shipping.test', 'a-test-download-link-secret', DEFAULT_SHOP_TIME_ZONE);
  const shipping = new ShippingStore(world.db, new SqliteCommandEngine(world.db, world.feed, { newEventId: world.newId }), { newId: world.newId, links, shopTimeZone: DEFAULT_SHOP_TIME_ZONE });
  const onOrder = createOrderFeedHandler(shipping, world.clock.now);
  const onPayment = createBillingFeedHandler(shipping, world.clock.now);
  const read = (entries: readonly ConsumedEntry[], handle: (e: ConsumedEntry) => void, ms: number): void => {
    for (const e of entries) {
      const at = later(e.updated, ms);
      if (at > world.clock.now().toISOString()) world.clock.set(at);
      world.db.transaction(() => handle(e)).immediate();
    }
  };
  read(orders.filter((e) => e.type === 'OrderPlaced'), onOrder, 1_000);
  read(payments, onPayment, delayMs);
  const head = world.feed.head();
  const out = world.feed.entriesOf(world.feed.page(head.openPage.page)!)
    .filter((e) => e.type === 'ShipmentScheduled')
    .map((e) => ({ orderId: e.orderId, payload: e.payload, summary: e.summary, content: e.contentXhtml }));
  world.db.close();
  return out.sort((a, b) => a.orderId.localeCompare(b.orderId));
}

describe('Shipping reading payments late', () => {
  it('promises what it would have promised reading them at once: the promise counts from the payment', () => {
    const atOnce = scheduleAll(1_000);
    // Three days later, on Monday afternoon (after Monday's cut-off in London).
    const afterAnOutage = scheduleAll(3 * 86_400_000 + 5 * 3_600_000);
    expect(atOnce.length, 'the examples schedule parcels').to.be.greaterThan(0);
    expect(atOnce.map((s) => s.payload['dispatchDate'])).to.satisfy((ds: string[]) => ds.every((d) => d === '2025-06-06'));
    expect(afterAnOutage.map((s) => [s.orderId, s.payload['shipmentId'], s.payload['dispatchDate'], s.payload['estimatedDelivery'], s.summary, s.content]))
      .to.deep.equal(atOnce.map((s) => [s.orderId, s.payload['shipmentId'], s.payload['dispatchDate'], s.payload['estimatedDelivery'], s.summary, s.content]));
    // Only the record of when shipping scheduled it says it was late.
    expect(afterAnOutage.map((s) => s.payload['scheduledAt'])).not.to.deep.equal(atOnce.map((s) => s.payload['scheduledAt']));
  });
});
