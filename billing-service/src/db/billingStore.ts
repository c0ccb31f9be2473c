import { EventLog, type Db, type FeedStore, inWriteTransaction } from '@shop/common';
import { type BillingCommand, type Decision, decide } from '../domain/decide.ts';
import type { BillingEvent, CardMethod } from '../domain/events.ts';
import { type BillingState, evolve, initialState } from '../domain/evolve.ts';
import type { CancelledOrder, PlacedOrder } from '../domain/orderContract.ts';
import { toFeedEntry } from '../feed/toFeedEntry.ts';

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
 * Runs billing commands against the event log. Every accepted command appends its events and
 * their feed entries in one transaction: the caller's when there is one (a feed consumer's,
 * which also moves its read position), else a new one.
 */
export class BillingStore {
  readonly #db: Db;
  readonly #log: EventLog<BillingEvent>;
  readonly #feed: FeedStore;
  readonly #newId: () => string;
  readonly #shopTimeZone: string;
  readonly #q;

  /** `shopTimeZone` (SHOP_TIME_ZONE): the calendar every date in billing's entries is written in. */
  constructor(db: Db, feed: FeedStore, newId: () => string, shopTimeZone: string) {
    this.#db = db;
    this.#log = new EventLog<BillingEvent>(db);
    this.#feed = feed;
    this.#newId = newId;
    this.#shopTimeZone = shopTimeZone;
    this.#q = {
      nextSeq: db.prepare<[], { next: number }>('SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM billing_invoices'),
      addInvoice: db.prepare('INSERT INTO billing_invoices (seq, invoice_id, order_id) VALUES (?, ?, ?)'),
      paymentByKey: db.prepare<[string], { payment_id: string; order_id: string; request_hash: string }>('SELECT payment_id, order_id, request_hash FROM billing_payments WHERE idempotency_key = ?'),
      paymentById: db.prepare<[string], { order_id: string }>('SELECT order_id FROM billing_payments WHERE payment_id = ?'),
      addPayment: db.prepare('INSERT INTO billing_payments (payment_id, order_id, idempotency_key, request_hash, created_at) VALUES (?, ?, ?, ?, ?)'),
    };
  }

  load(orderId: string): BillingState {
    return this.#log.read(orderId).reduce((s, r) => evolve(s, r.event), initialState);
  }

  orderOfPayment(paymentId: string): string | undefined {
    return this.#q.paymentById.get(paymentId)?.order_id;
  }

  /** Issues the order's invoice, numbered next in the sequence; a repeat is a no-op. */
  issueInvoice(order: PlacedOrder, at: string): Decision {
    return this.#tx(() => {
      if (this.load(order.orderId).status !== 'none') return { ok: true, events: [] };
      const seq = this.#q.nextSeq.get()!.next;
      const invoiceId = `INV-${String(seq).padStart(6, '0')}`;
      const decision = this.#handle({ type: 'IssueInvoice', order, invoiceId, at });
      if (decision.ok && decision.events.length > 0) this.#q.addInvoice.run(seq, invoiceId, order.orderId);
      return decision;
    });
  }

  voidInvoice(cancelled: CancelledOrder, at: string): Decision {
    return this.#tx(() => this.#handle({ type: 'VoidInvoice', orderId: cancelled.orderId, reason: cancelled.reason, at }));
  }

  /**
   * Takes a payment once per Idempotency-Key: a retry with the same key and body gets the first
   * payment back; the same key with another body is refused. Refusals are not remembered, so a
   * payment refused because the order has not arrived yet can be retried with the same key.
   */
  takePayment(req: PaymentRequest, at: string): PaymentOutcome {
    return this.#tx(() => {
      const seen = this.#q.paymentByKey.get(req.idempotencyKey);
      if (seen) {
        return seen.request_hash === req.requestHash
          ? { kind: 'replayed', paymentId: seen.payment_id, state: this.load(seen.order_id) }
          : { kind: 'key-reused', orderId: seen.order_id };
      }
      const paymentId = `PAY-${this.#newId()}`;
      const decision = this.#handle({ type: 'TakePayment', orderId: req.orderId, paymentId, method: req.method, expectedAmountMinor: req.expectedAmountMinor, at });
      if (!decision.ok) return { kind: 'rejected', decision };
      this.#q.addPayment.run(paymentId, req.orderId, req.idempotencyKey, req.requestHash, at);
      return { kind: 'taken', paymentId, state: this.load(req.orderId) };
    });
  }

  #handle(command: BillingCommand): Decision {
    const orderId = command.type === 'IssueInvoice' ? command.order.orderId : command.orderId;
    let state = this.load(orderId);
    const decision = decide(command, state);
    if (!decision.ok) return decision;
    for (const event of decision.events) {
      const eventId = this.#newId();
      this.#log.append(orderId, eventId, event, command.at);
      state = evolve(state, event);
      if (state.status === 'none') throw new Error('A billing event left the order without an invoice');
      this.#feed.append(toFeedEntry(event, eventId, state.invoice, this.#shopTimeZone));
    }
    return decision;
  }

  #tx<T>(fn: () => T): T {
    return this.#db.inTransaction ? fn() : inWriteTransaction(this.#db, fn);
  }
}
