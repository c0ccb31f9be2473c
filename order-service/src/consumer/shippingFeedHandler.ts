import type { ConsumedEntry } from '@shop/common';
import type { PgTx } from '@shop/common/pg';
import type { OrderStore } from '../db/orderStore.ts';
import type { PgOrderStore } from '../db/pgOrderStore.ts';
import { parseFulfilment } from '../domain/shippingContract.ts';

/**
 * Applies one shipping feed entry (contract v1): a dispatch or a digital delivery is noted on
 * the order, which can no longer be cancelled. Runs inside the consumer's transaction, so the
 * note and the read position commit together. Throws on an entry it cannot read (the consumer
 * retries, then parks it); ignores every other type.
 */
export function createShippingFeedHandler(orders: OrderStore, now: () => Date): (entry: ConsumedEntry) => void {
  return (entry) => {
    const parsed = parseFulfilment(entry.type, entry.payload);
    if (parsed === undefined) return;
    if (!parsed.ok) throw new Error(`${entry.type} ${entry.atomId} is not valid: ${parsed.errors.join('; ')}`);
    orders.noteFulfilment({ type: 'NoteFulfilment', ...parsed.value, at: now().toISOString() });
  };
}

/** The same on PostgreSQL: the note goes in the consumer's transaction, with the read position. */
export function createPgShippingFeedHandler(orders: PgOrderStore, now: () => Date): (entry: ConsumedEntry, tx: PgTx) => Promise<void> {
  return async (entry, tx) => {
    const parsed = parseFulfilment(entry.type, entry.payload);
    if (parsed === undefined) return;
    if (!parsed.ok) throw new Error(`${entry.type} ${entry.atomId} is not valid: ${parsed.errors.join('; ')}`);
    await orders.noteFulfilment({ type: 'NoteFulfilment', ...parsed.value, at: now().toISOString() }, tx);
  };
}
