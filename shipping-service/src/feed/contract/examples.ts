import { type ConsumedEntry, SqliteCommandEngine, createLogger } from '@shop/common';
import { exampleWorld, later, readExamples, renderExamples } from '@shop/common/contract';
import { DEFAULT_SHOP_TIME_ZONE } from '@shop/common/time';
import { dispatchDue } from '../../autoDispatch.ts';
import { createBillingFeedHandler, createOrderFeedHandler } from '../../consumer/feedHandlers.ts';
import { migrations } from '../../db/migrations.ts';
import { ShippingStore } from '../../db/shippingStore.ts';
import { DownloadLinks } from '../../downloads/downloadLinks.ts';

/**
 * The shipping feed's contract examples, made by the service's real code from the order and
 * billing services' checked-in examples: its two feed handlers read every entry of both, in
 * commit-time order (so making them is also a test of shipping's readers); what is still in the
 * warehouse in the afternoon is dispatched as auto-dispatch would. Fixed clock and ids; `npm run
 * contracts` writes the result to examples.atom.xml.
 */

const BASE_URL = 'http://127.0.0.1:3003';
const DISPATCH_AT = '2025-06-06T13:00:00.000Z';
const TRACKING_NUMBER = 'RM123456785GB';
/** Signs the examples' download links (a fixed key, so the examples stay byte for byte the same; never a real one). */
export const EXAMPLE_DOWNLOAD_LINK_SECRET = 'contract-examples-download-link-secret';

/** The examples document, byte for byte what `npm run contracts` writes. */
export function shippingFeedExamples(
  orderEntries: readonly ConsumedEntry[] = readExamples('order-service'),
  billingEntries: readonly ConsumedEntry[] = readExamples('billing-service'),
): string {
  const world = exampleWorld(migrations, { idDigit: 3, start: '2025-06-06T09:00:00.000Z' });
  const links = new DownloadLinks(BASE_URL, EXAMPLE_DOWNLOAD_LINK_SECRET, DEFAULT_SHOP_TIME_ZONE);
  const shipping = new ShippingStore(world.db, new SqliteCommandEngine(world.db, world.feed, { newEventId: world.newId }), { newId: world.newId, links, shopTimeZone: DEFAULT_SHOP_TIME_ZONE });
  const onOrder = createOrderFeedHandler(shipping, world.clock.now);
  const onBilling = createBillingFeedHandler(shipping, world.clock.now);
  const read = (handle: (e: ConsumedEntry) => void) => (e: ConsumedEntry) => ({ at: later(e.updated, 1_000), run: () => world.db.transaction(() => handle(e)).immediate() });
  const steps = [
    ...orderEntries.map(read(onOrder)),
    ...billingEntries.map(read(onBilling)),
    { at: DISPATCH_AT, run: () => dispatchDue(shipping, new Date(DISPATCH_AT), 0, createLogger({}, 'silent'), () => TRACKING_NUMBER) },
  ].sort((a, b) => a.at.localeCompare(b.at));
  for (const step of steps) {
    world.clock.set(step.at);
    step.run();
  }
  return renderExamples('shipping-service', world, BASE_URL);
}
