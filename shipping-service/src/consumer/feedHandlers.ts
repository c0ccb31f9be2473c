import type { ConsumedEntry } from '@shop/common';
import type { PgTx } from '@shop/common/pg';
import type { PgShippingStore } from '../db/pgShippingStore.ts';
import type { ShippingStore } from '../db/shippingStore.ts';
import { type Parsed, parseOrderCancelled, parseOrderPlaced, parsePaymentReceived } from '../domain/feedContracts.ts';

/**
 * Handlers for the two feeds shipping reads. Each runs inside its consumer's transaction, so
 * what it writes and the read position commit together. An entry that cannot be applied
 * throws (the consumer retries, then parks it); unknown types are ignored.
 */
export function createOrderFeedHandler(shipping: ShippingStore, now: () => Date): (entry: ConsumedEntry) => void {
  return (entry) => {
    const at = now().toISOString();
    switch (entry.type) {
      case 'OrderPlaced':
        shipping.handle({ type: 'NoteOrder', order: valid(entry, parseOrderPlaced(entry.payload)), at });
        return;
      case 'OrderCancelled':
        shipping.handle({ type: 'NoteCancellation', cancellation: valid(entry, parseOrderCancelled(entry.payload)), at });
        return;
      default:
        return;
    }
  };
}

export function createBillingFeedHandler(shipping: ShippingStore, now: () => Date): (entry: ConsumedEntry) => void {
  return (entry) => {
    if (entry.type !== 'PaymentReceived') return;
    shipping.handle({ type: 'NotePayment', payment: valid(entry, parsePaymentReceived(entry.payload)), at: now().toISOString() });
  };
}

/** The order feed's handler on PostgreSQL: the command in the consumer's transaction `tx`. */
export function createPgOrderFeedHandler(shipping: PgShippingStore, now: () => Date): (entry: ConsumedEntry, tx: PgTx) => Promise<void> {
  return async (entry, tx) => {
    const at = now().toISOString();
    switch (entry.type) {
      case 'OrderPlaced':
        await shipping.handle({ type: 'NoteOrder', order: valid(entry, parseOrderPlaced(entry.payload)), at }, tx);
        return;
      case 'OrderCancelled':
        await shipping.handle({ type: 'NoteCancellation', cancellation: valid(entry, parseOrderCancelled(entry.payload)), at }, tx);
        return;
      default:
        return;
    }
  };
}

/** The billing feed's handler on PostgreSQL. */
export function createPgBillingFeedHandler(shipping: PgShippingStore, now: () => Date): (entry: ConsumedEntry, tx: PgTx) => Promise<void> {
  return async (entry, tx) => {
    if (entry.type !== 'PaymentReceived') return;
    await shipping.handle({ type: 'NotePayment', payment: valid(entry, parsePaymentReceived(entry.payload)), at: now().toISOString() }, tx);
  };
}

function valid<T>(entry: ConsumedEntry, parsed: Parsed<T>): T {
  if (!parsed.ok) throw new Error(`${entry.type} ${entry.atomId} is not valid: ${parsed.errors.join('; ')}`);
  return parsed.value;
}
