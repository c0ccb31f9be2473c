import { consumerMigrations, eventLogMigrations, feedMigrations, type Migration } from '@shop/common';

const orderMigrations: readonly Migration[] = [
  {
    id: 'orders-001-idempotency',
    sql: `
      CREATE TABLE idempotency_keys (
        key TEXT PRIMARY KEY,
        request_hash TEXT NOT NULL,
        order_id TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
    `,
  },
];

/**
 * Every schema step of the order service's database, in order. The consumer's tables (the
 * shipping feed's read position, parked entries) came last, so databases made before keep
 * their order of steps.
 */
export const migrations: readonly Migration[] = [...eventLogMigrations, ...feedMigrations, ...orderMigrations, ...consumerMigrations];
