import { type CommandEngine, type CommandHandler, type Db, createCommandHandler } from '@shop/common';
import { type BillingCommand, type Decision, billingDecider } from '../domain/decide.ts';
import type { BillingEvent, CardMethod } from '../domain/events.ts';
import type { BillingState } from '../domain/evolve.ts';
import type { CancelledOrder, PlacedOrder } from '../domain/orderContract.ts';
import { billingProjection } from '../feed/toFeedEntry.ts';

export interface PaymentRequest {
  readonly orderId: string;
  readonly method: CardMethod;
  readonly expectedAmountMinor: number | null;
  readonly idempotencyKey: string;
  /** A hash of the request body, to tell a retry from a different request reusing the key. */
  readonly requestHash: string;
}

export type PaymentOutcome =
  | { readonly kind: 'taken'; readonly paymentId: string; readonly state: BillingState }
  | { readonly kind: 'replayed'; readonly paymentId: string; readonly state: BillingState }
  | { readonly kind: 'key-reused'; readonly orderId: string }
  | { readonly kind: 'rejected'; readonly decision: Extract<Decision, { ok: false }> };

/**
 * What the payment routes need of billing's storage: BillingStore on SQLite answers at once,
 * PgBillingStore on PostgreSQL with promises.
 */
export interface Billing {
  load(orderId: string): BillingState | Promise<BillingState>;
  orderOfPayment(paymentId: string): string | undefined | Promise<string | undefined>;
  takePayment(req: PaymentRequest, at: string): PaymentOutcome | Promise<PaymentOutcome>;
}

/**
 * Runs billing commands through the service's command engine. Every accepted command appends
 * its events and their feed entries in one transaction: the caller's when there is one (a feed
 * consumer's, which also moves its read position), else a new one.
 */
export class BillingStore implements Billing {
  readonly #commands: CommandHandler<BillingState, BillingCommand, BillingEvent, Decision, Db, 'sync'>;
  readonly #newId: () => string;
  readonly #q;

  /**
   * `engine` is the service's one storage choice (app.ts builds it); `db` holds the invoice
   * numbers and payments; `newId` makes payment ids; `shopTimeZone` (SHOP_TIME_ZONE) is the
   * calendar every date in billing's entries is written in.
   */
  constructor(db: Db, engine: CommandEngine<Db, 'sync'>, newId: () => string, shopTimeZone: string) {
    this.#commands = createCommandHandler(engine, billingDecider, billingProjection(shopTimeZone));
    this.#newId = newId;
    this.#q = {
      nextSeq: db.prepare<[], { next: number }>('SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM billing_invoices'),
      addInvoice: db.prepare('INSERT INTO billing_invoices (seq, invoice_id, order_id) VALUES (?, ?, ?)'),
      paymentByKey: db.prepare<[string], { payment_id: string; order_id: string; request_hash: string }>('SELECT payment_id, order_id, request_hash FROM billing_payments WHERE idempotency_key = ?'),
      paymentById: db.prepare<[string], { order_id: string }>('SELECT order_id FROM billing_payments WHERE payment_id = ?'),
      addPayment: db.prepare('INSERT INTO billing_payments (payment_id, order_id, idempotency_key, request_hash, created_at) VALUES (?, ?, ?, ?, ?)'),
    };
  }

  load(orderId: string): BillingState {
    return this.#commands.load(orderId);
  }

  orderOfPayment(paymentId: string): string | undefined {
    return this.#q.paymentById.get(paymentId)?.order_id;
  }

  /** Issues the order's invoice, numbered next in the sequence (a number is used only when an invoice takes it); a repeat is a no-op. */
  issueInvoice(order: PlacedOrder, at: string): Decision {
    return this.#commands.transaction((tx) => {
      const seq = this.#q.nextSeq.get()!.next;
      const invoiceId = `INV-${String(seq).padStart(6, '0')}`;
      return this.#commands.handle(order.orderId, { type: 'IssueInvoice', order, invoiceId, at }, {
        recordedAt: at,
        tx,
        afterAppend: (recorded) => {
          if (recorded.length > 0) this.#q.addInvoice.run(seq, invoiceId, order.orderId);
        },
      }).decision;
    });
  }

  voidInvoice(cancelled: CancelledOrder, at: string): Decision {
    return this.#commands.handle(cancelled.orderId, { type: 'VoidInvoice', orderId: cancelled.orderId, reason: cancelled.reason, at }, { recordedAt: at }).decision;
  }

  /**
   * Takes a payment once per Idempotency-Key: a retry with the same key and body gets the first
   * payment back; the same key with another body is refused. Refusals are not remembered, so a
   * payment refused because the order has not arrived yet can be retried with the same key.
   */
  takePayment(req: PaymentRequest, at: string): PaymentOutcome {
    return this.#commands.transaction((tx): PaymentOutcome => {
      const seen = this.#q.paymentByKey.get(req.idempotencyKey);
      if (seen) {
        return seen.request_hash === req.requestHash
          ? { kind: 'replayed', paymentId: seen.payment_id, state: this.load(seen.order_id) }
          : { kind: 'key-reused', orderId: seen.order_id };
      }
      const paymentId = `PAY-${this.#newId()}`;
      const command: BillingCommand = { type: 'TakePayment', orderId: req.orderId, paymentId, method: req.method, expectedAmountMinor: req.expectedAmountMinor, at };
      const { decision, state } = this.#commands.handle(req.orderId, command, {
        recordedAt: at,
        tx,
        afterAppend: () => {
          this.#q.addPayment.run(paymentId, req.orderId, req.idempotencyKey, req.requestHash, at);
        },
      });
      return decision.ok ? { kind: 'taken', paymentId, state } : { kind: 'rejected', decision };
    });
  }
}
