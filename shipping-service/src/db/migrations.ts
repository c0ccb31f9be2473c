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
  {
    id: 'shipping-002-signed-download-links',
    sql: `
      -- Download links are signed (order, item, last day) and need no token. The table stays as the
      -- record of what was delivered, by order and item; a token remains only on links given before,
      -- which were published as /downloads/{token} and keep working until they expire.
      CREATE TABLE shipping_downloads_new (
        order_id TEXT NOT NULL,
        sku TEXT NOT NULL,
        name TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        token TEXT UNIQUE
      );
      INSERT INTO shipping_downloads_new (order_id, sku, name, expires_at, token)
        SELECT order_id, sku, name, expires_at, token FROM shipping_downloads;
      DROP TABLE shipping_downloads;
      ALTER TABLE shipping_downloads_new RENAME TO shipping_downloads;
      CREATE INDEX shipping_downloads_item ON shipping_downloads (order_id, sku);
      -- Secrets the service made itself (the download links' key when DOWNLOAD_LINK_SECRET is not set).
      CREATE TABLE shipping_settings (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );
    `,
  },
];

/** Everything shipping's database needs, in order. */
export const migrations: readonly Migration[] = [...eventLogMigrations, ...feedMigrations, ...consumerMigrations, ...shippingMigrations];
