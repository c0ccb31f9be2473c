import type { ConsumedEntry } from '@shop/common';
import type { NoteFulfilment } from '../domain/order.ts';
import { parseFulfilment } from '../domain/shippingContract.ts';

/** Where a dispatch or delivery is noted: the order store (SQLite), or a PostgreSQL one's adapter. */
export interface FulfilmentNotes {
  noteFulfilment(command: NoteFulfilment): unknown;
}

/**
 * Applies one shipping feed entry (contract v1): a dispatch or a digital delivery is noted on
 * the order, which can no longer be cancelled. Runs inside the consumer's transaction, so the
 * note and the read position commit together. Throws on an entry it cannot read (the consumer
 * retries, then parks it); ignores every other type.
 */
export function createShippingFeedHandler(orders: FulfilmentNotes, now: () => Date): (entry: ConsumedEntry) => void {
  return (entry) => {
    const parsed = parseFulfilment(entry.type, entry.payload);
    if (parsed === undefined) return;
    if (!parsed.ok) throw new Error(`${entry.type} ${entry.atomId} is not valid: ${parsed.errors.join('; ')}`);
    orders.noteFulfilment({ type: 'NoteFulfilment', ...parsed.value, at: now().toISOString() });
  };
}
