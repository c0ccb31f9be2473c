import { type Migration, consumerMigrations, eventLogMigrations, feedMigrations } from '@shop/common';

const shippingMigrations: readonly Migration[] = [
  {
    id: 'shipping-001-shipments-and-downloads',
    sql: `
      -- Shipments by state, kept with the events in the same transaction, for dispatch queries.
      CREATE TABLE shipping_shipments (
        order_id TEXT PRIMARY KEY,
        shipment_id TEXT NOT NULL UNIQUE,
        status TEXT NOT NULL CHECK (status IN ('scheduled', 'dispatched', 'cancelled')),
        scheduled_at TEXT NOT NULL
      );
      CREATE INDEX shipping_shipments_due ON shipping_shipments (status, scheduled_at);
      -- Download links by token.
      CREATE TABLE shipping_downloads (
        token TEXT PRIMARY KEY,
        order_id TEXT NOT NULL,
        sku TEXT NOT NULL,
        name TEXT NOT NULL,
        expires_at TEXT NOT NULL
      );
    `,
  },
];

/** Everything shipping's database needs, in order. */
export const migrations: readonly Migration[] = [...eventLogMigrations, ...feedMigrations, ...consumerMigrations, ...shippingMigrations];
