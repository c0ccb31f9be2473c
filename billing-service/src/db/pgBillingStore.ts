import { type CommandHandler, type Migration, createCommandHandler } from '@shop/common';
import { type PgCommandEngine, type PgTx, pgConsumerMigrations, pgEventLogMigrations, pgFeedMigrations } from '@shop/common/pg';
import { type BillingCommand, type Decision, billingDecider } from '../domain/decide.ts';
import type { BillingEvent } from '../domain/events.ts';
import type { BillingState } from '../domain/evolve.ts';
import type { CancelledOrder, PlacedOrder } from '../domain/orderContract.ts';
import { billingProjection } from '../feed/toFeedEntry.ts';
import type { Billing, PaymentOutcome, PaymentRequest } from './billingStore.ts';

/** Billing's database on PostgreSQL: the common tables, then billing's own (as in migrations.ts). */
export const pgMigrations: readonly Migration[] = [
  ...pgEventLogMigrations, ...pgFeedMigrations, ...pgConsumerMigrations,
  {
    id: 'billing-001-invoices-and-payments',
    sql: `
      -- The invoice number sequence: gapless, one number an order, allocated when issued.
      CREATE TABLE billing_invoices (
        seq BIGINT PRIMARY KEY,
        invoice_id TEXT NOT NULL UNIQUE,
        order_id TEXT NOT NULL UNIQUE
      );
      -- Every payment taken, by its id and by the Idempotency-Key that asked for it.
      CREATE TABLE billing_payments (
        payment_id TEXT PRIMARY KEY,
        order_id TEXT NOT NULL,
        idempotency_key TEXT NOT NULL UNIQUE,
        request_hash TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
    `,
  },
];

/**
 * BillingStore on PostgreSQL, shared by every instance: the same commands through PgCommandEngine,
 * each in one transaction (the consumer's when given one) with its invoice number or payment row.
 * Where SQLite's single writer serialises, advisory locks do: one for the invoice sequence (numbers
 * stay gapless), one per Idempotency-Key (a second instance with the same key waits, then replays).
 */
export class PgBillingStore implements Billing {
  readonly #commands: CommandHandler<BillingState, BillingCommand, BillingEvent, Decision, PgTx, 'async'>;
  readonly #newId: () => string;

  constructor(engine: PgCommandEngine, newId: () => string, shopTimeZone: string) {
    this.#commands = createCommandHandler(engine, billingDecider, billingProjection(shopTimeZone));
    this.#newId = newId;
  }

  load(orderId: string, tx?: PgTx): Promise<BillingState> {
    return this.#commands.load(orderId, tx);
  }

  async orderOfPayment(paymentId: string): Promise<string | undefined> {
    return this.#commands.transaction(async (tx) => (await tx.query<{ order_id: string }>('SELECT order_id FROM billing_payments WHERE payment_id = $1', [paymentId])).rows[0]?.order_id);
  }

  /** Issues the order's invoice, numbered next in the sequence; a repeat is a no-op. */
  issueInvoice(order: PlacedOrder, at: string, tx?: PgTx): Promise<Decision> {
    return this.#commands.transaction(async (t) => {
      await t.query("SELECT pg_advisory_xact_lock(hashtext('billing-service:invoice-numbers'))");
      const seq = Number((await t.query<{ next: string }>('SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM billing_invoices')).rows[0]!.next);
      const invoiceId = `INV-${String(seq).padStart(6, '0')}`;
      const { decision } = await this.#commands.handle(order.orderId, { type: 'IssueInvoice', order, invoiceId, at }, {
        recordedAt: at,
        tx: t,
        afterAppend: async (recorded, tx2) => {
          if (recorded.length > 0) await tx2.query('INSERT INTO billing_invoices (seq, invoice_id, order_id) VALUES ($1, $2, $3)', [seq, invoiceId, order.orderId]);
        },
      });
      return decision;
    }, tx);
  }

  async voidInvoice(cancelled: CancelledOrder, at: string, tx?: PgTx): Promise<Decision> {
    return (await this.#commands.handle(cancelled.orderId, { type: 'VoidInvoice', orderId: cancelled.orderId, reason: cancelled.reason, at }, { recordedAt: at, tx })).decision;
  }

  /** As BillingStore.takePayment, once per Idempotency-Key across instances. */
  takePayment(req: PaymentRequest, at: string, tx?: PgTx): Promise<PaymentOutcome> {
    return this.#commands.transaction(async (t): Promise<PaymentOutcome> => {
      await t.query("SELECT pg_advisory_xact_lock(hashtext('billing-service:payment-key:' || $1))", [req.idempotencyKey]);
      const seen = (await t.query<{ payment_id: string; order_id: string; request_hash: string }>('SELECT payment_id, order_id, request_hash FROM billing_payments WHERE idempotency_key = $1', [req.idempotencyKey])).rows[0];
      if (seen) {
        return seen.request_hash === req.requestHash
          ? { kind: 'replayed', paymentId: seen.payment_id, state: await this.load(seen.order_id, t) }
          : { kind: 'key-reused', orderId: seen.order_id };
      }
      const paymentId = `PAY-${this.#newId()}`;
      const command: BillingCommand = { type: 'TakePayment', orderId: req.orderId, paymentId, method: req.method, expectedAmountMinor: req.expectedAmountMinor, at };
      const { decision, state } = await this.#commands.handle(req.orderId, command, {
        recordedAt: at,
        tx: t,
        afterAppend: async (_recorded, tx2) => {
          await tx2.query('INSERT INTO billing_payments (payment_id, order_id, idempotency_key, request_hash, created_at) VALUES ($1, $2, $3, $4, $5)', [paymentId, req.orderId, req.idempotencyKey, req.requestHash, at]);
        },
      });
      return decision.ok ? { kind: 'taken', paymentId, state } : { kind: 'rejected', decision };
    }, tx);
  }
}
