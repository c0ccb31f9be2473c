import type { NewFeedEntry } from '@shop/common';
import { exampleEntryFor, examplesOf } from '@shop/common/testing';

/**
 * Order feed entries for billing's tests, taken from the order service's contract examples
 * (order-service/src/feed/contract/examples.atom.xml, made by its real code) and re-addressed
 * to the order id a test needs: the shape is always what the order service publishes.
 */

/** The order service's first OrderPlaced example (books, an eBook and a mug to London, GBP) for `orderId`. */
export function orderPlacedEntry(orderId: string, over: Record<string, unknown> = {}): NewFeedEntry {
  return exampleEntryFor(examplesOf('order-service', 'OrderPlaced')[0]!, orderId, over);
}

/** Its payload alone; override what a test needs. */
export function orderPlacedPayload(orderId: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...orderPlacedEntry(orderId, over).payload };
}

/** The order service's OrderCancelled example for `orderId`. */
export function orderCancelledEntry(orderId: string): NewFeedEntry {
  return exampleEntryFor(examplesOf('order-service', 'OrderCancelled')[0]!, orderId);
}
