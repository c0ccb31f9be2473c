import { type Migration, consumerMigrations, eventLogMigrations, feedMigrations } from '@shop/common';

const billingMigrations: readonly Migration[] = [
  {
    id: 'billing-001-invoices-and-payments',
    sql: `
      -- The invoice number sequence: gapless, one number an order, allocated when issued.
      CREATE TABLE billing_invoices (
        seq INTEGER PRIMARY KEY,
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

/** Everything billing's database needs, in order. */
export const migrations: readonly Migration[] = [...eventLogMigrations, ...feedMigrations, ...consumerMigrations, ...billingMigrations];
