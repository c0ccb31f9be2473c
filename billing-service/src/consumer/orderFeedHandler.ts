import type { ConsumedEntry, Logger } from '@shop/common';
import type { PgTx } from '@shop/common/pg';
import type { BillingStore } from '../db/billingStore.ts';
import type { PgBillingStore } from '../db/pgBillingStore.ts';
import { parseOrderCancelled, parseOrderPlaced } from '../domain/orderContract.ts';

export interface OrderFeedHandlerDeps {
  readonly billing: BillingStore;
  readonly now: () => Date;
  /** BILLING_AUTO_CAPTURE: take a demo card payment as soon as the invoice is issued. */
  readonly autoCapture: boolean;
  readonly logger: Logger;
}

/** The demo card auto-capture pays with. */
export const AUTO_CAPTURE_METHOD = { type: 'card', brand: 'visa', last4: '4242' } as const;

/**
 * Applies one order feed entry (contract v1). Runs inside the consumer's transaction, so the
 * invoice, its feed entry and the read position commit together. Throws on an entry it cannot
 * apply (the consumer then retries and parks it); ignores types it does not know.
 */
export function createOrderFeedHandler(deps: OrderFeedHandlerDeps): (entry: ConsumedEntry) => void {
  return (entry) => {
    const at = deps.now().toISOString();
    switch (entry.type) {
      case 'OrderPlaced': {
        const parsed = parseOrderPlaced(entry.payload);
        if (!parsed.ok) throw new Error(`OrderPlaced ${entry.atomId} is not valid: ${parsed.errors.join('; ')}`);
        const issued = deps.billing.issueInvoice(parsed.value, at);
        if (!issued.ok) throw new Error(`Cannot invoice order ${parsed.value.orderId}: ${issued.reason === 'not-invoiceable' ? issued.detail : issued.reason}`);
        if (deps.autoCapture && issued.events.length > 0) {
          const outcome = deps.billing.takePayment({
            orderId: parsed.value.orderId, method: AUTO_CAPTURE_METHOD, expectedAmountMinor: null,
            idempotencyKey: `auto-capture:${parsed.value.orderId}`, requestHash: 'auto-capture',
          }, at);
          deps.logger.info('auto-captured payment', { orderId: parsed.value.orderId, outcome: outcome.kind });
        }
        return;
      }
      case 'OrderCancelled': {
        const parsed = parseOrderCancelled(entry.payload);
        if (!parsed.ok) throw new Error(`OrderCancelled ${entry.atomId} is not valid: ${parsed.errors.join('; ')}`);
        deps.billing.voidInvoice(parsed.value, at);
        return;
      }
      default:
        // A newer contract may add types; billing only acts on the ones it knows.
        return;
    }
  };
}

/** The same, on PostgreSQL: each write in the consumer's transaction `tx`, with the read position. */
export function createPgOrderFeedHandler(deps: Omit<OrderFeedHandlerDeps, 'billing'> & { readonly billing: PgBillingStore }): (entry: ConsumedEntry, tx: PgTx) => Promise<void> {
  return async (entry, tx) => {
    const at = deps.now().toISOString();
    switch (entry.type) {
      case 'OrderPlaced': {
        const parsed = parseOrderPlaced(entry.payload);
        if (!parsed.ok) throw new Error(`OrderPlaced ${entry.atomId} is not valid: ${parsed.errors.join('; ')}`);
        const issued = await deps.billing.issueInvoice(parsed.value, at, tx);
        if (!issued.ok) throw new Error(`Cannot invoice order ${parsed.value.orderId}: ${issued.reason === 'not-invoiceable' ? issued.detail : issued.reason}`);
        if (deps.autoCapture && issued.events.length > 0) {
          const outcome = await deps.billing.takePayment({
            orderId: parsed.value.orderId, method: AUTO_CAPTURE_METHOD, expectedAmountMinor: null,
            idempotencyKey: `auto-capture:${parsed.value.orderId}`, requestHash: 'auto-capture',
          }, at, tx);
          deps.logger.info('auto-captured payment', { orderId: parsed.value.orderId, outcome: outcome.kind });
        }
        return;
      }
      case 'OrderCancelled': {
        const parsed = parseOrderCancelled(entry.payload);
        if (!parsed.ok) throw new Error(`OrderCancelled ${entry.atomId} is not valid: ${parsed.errors.join('; ')}`);
        await deps.billing.voidInvoice(parsed.value, at, tx);
        return;
      }
      default:
        return;
    }
  };
}
