import { type ConsumedEntry, SqliteCommandEngine, createLogger } from '@shop/common';
import { exampleWorld, later, readExamples, renderExamples } from '@shop/common/contract';
import { DEFAULT_SHOP_TIME_ZONE } from '@shop/common/time';
import { createOrderFeedHandler } from '../../consumer/orderFeedHandler.ts';
import { BillingStore } from '../../db/billingStore.ts';
import { migrations } from '../../db/migrations.ts';
import { parsePaymentRequest } from '../../domain/parsePaymentRequest.ts';

/**
 * The billing feed's contract examples, made by the service's real code from the order
 * service's checked-in examples: its order feed handler reads each order entry (so making them
 * is also a test of billing's reader), each order is paid as `POST /payments` would pay it, and
 * the cancelled order's paid invoice is voided with a refund. Fixed clock and ids; `npm run
 * contracts` writes the result to examples.atom.xml.
 */

const BASE_URL = 'http://127.0.0.1:3002';
const CARDS = [
  { type: 'card', brand: 'visa', last4: '4242' },
  { type: 'card', brand: 'mastercard', last4: '0005' },
  { type: 'card', brand: 'amex', last4: '8431' },
] as const;

/** The examples document, byte for byte what `npm run contracts` writes. */
export function billingFeedExamples(orderEntries: readonly ConsumedEntry[] = readExamples('order-service')): string {
  const world = exampleWorld(migrations, { idDigit: 2, start: '2025-06-06T09:00:00.000Z' });
  const billing = new BillingStore(world.db, new SqliteCommandEngine(world.db, world.feed, { newEventId: world.newId }), world.newId, DEFAULT_SHOP_TIME_ZONE);
  const apply = createOrderFeedHandler({ billing, now: world.clock.now, autoCapture: false, logger: createLogger({}, 'silent') });
  let paid = 0;
  for (const entry of orderEntries) {
    world.clock.set(later(entry.updated, 2_000));
    world.db.transaction(() => apply(entry)).immediate();
    if (entry.type !== 'OrderPlaced') continue;
    const body = parsePaymentRequest({ orderId: entry.orderId, method: CARDS[paid++ % CARDS.length] });
    if (!body.ok) throw new Error(`example payment is not valid: ${JSON.stringify(body.errors)}`);
    world.clock.set(later(entry.updated, 45_000));
    const outcome = billing.takePayment({ ...body.value, expectedAmountMinor: null, idempotencyKey: `example-${entry.orderId}`, requestHash: 'example' }, world.clock.now().toISOString());
    if (outcome.kind !== 'taken') throw new Error(`example payment for ${entry.orderId}: ${outcome.kind}`);
  }
  return renderExamples('billing-service', world, BASE_URL);
}
