import { randomBytes } from 'node:crypto';
import { type CommandHandler, type Migration, createCommandHandler } from '@shop/common';
import { type PgCommandEngine, type PgQueryable, type PgTx, pgConsumerMigrations, pgEventLogMigrations, pgFeedMigrations } from '@shop/common/pg';
import { type Decision, type ShippingCommand, shippingDecider } from '../domain/decide.ts';
import type { ShippingEvent } from '../domain/events.ts';
import type { ShippingState } from '../domain/evolve.ts';
import type { DownloadLinkSigner } from '../downloads/downloadLinks.ts';
import { shippingProjection } from '../feed/toFeedEntry.ts';
import { type DownloadRow, type Shipping, orderIdOf } from './shippingStore.ts';

/** Shipping's database on PostgreSQL: the common tables, then shipping's own (as migrations.ts ends up). */
export const pgMigrations: readonly Migration[] = [
  ...pgEventLogMigrations, ...pgFeedMigrations, ...pgConsumerMigrations,
  {
    id: 'shipping-001-shipments-downloads-settings',
    sql: `
      -- Shipments by state, kept with the events in the same transaction, for dispatch queries.
      CREATE TABLE shipping_shipments (
        order_id TEXT PRIMARY KEY,
        shipment_id TEXT NOT NULL UNIQUE,
        status TEXT NOT NULL CHECK (status IN ('scheduled', 'dispatched', 'cancelled')),
        scheduled_at TEXT NOT NULL
      );
      CREATE INDEX shipping_shipments_due ON shipping_shipments (status, scheduled_at);
      -- What was delivered, by order and item (links are signed; no token on PostgreSQL's rows).
      CREATE TABLE shipping_downloads (
        order_id TEXT NOT NULL,
        sku TEXT NOT NULL,
        name TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        token TEXT UNIQUE
      );
      CREATE INDEX shipping_downloads_item ON shipping_downloads (order_id, sku);
      -- Secrets the service made itself (the download links' key when DOWNLOAD_LINK_SECRET is not set).
      CREATE TABLE shipping_settings (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );
    `,
  },
];

/** downloadLinkSecret on PostgreSQL: the first instance's random key wins, every instance reads it back. */
export async function pgDownloadLinkSecret(q: PgQueryable, configured: string | undefined): Promise<string> {
  if (configured !== undefined) return configured;
  await q.query('INSERT INTO shipping_settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', ['download-link-secret', randomBytes(32).toString('base64url')]);
  return (await q.query<{ value: string }>('SELECT value FROM shipping_settings WHERE name = $1', ['download-link-secret'])).rows[0]!.value;
}

const ROW = 'order_id AS "orderId", sku, name, expires_at AS "expiresAt"';

/**
 * ShippingStore on PostgreSQL, shared by every instance: the same commands through
 * PgCommandEngine, each in one transaction (the consumer's when given one) with its query rows.
 */
export class PgShippingStore implements Shipping {
  readonly #commands: CommandHandler<ShippingState, ShippingCommand, ShippingEvent, Decision, PgTx, 'async'>;
  readonly #q: PgQueryable;

  constructor(q: PgQueryable, engine: PgCommandEngine, options: { newId: () => string; links: DownloadLinkSigner; shopTimeZone: string }) {
    this.#q = q;
    this.#commands = createCommandHandler(engine, shippingDecider({ newId: options.newId, shopTimeZone: options.shopTimeZone }), shippingProjection(options.links, options.shopTimeZone));
  }

  load(orderId: string): Promise<ShippingState> {
    return this.#commands.load(orderId);
  }

  async handle(command: ShippingCommand, tx?: PgTx): Promise<Decision> {
    return (await this.#commands.handle(orderIdOf(command), command, {
      recordedAt: command.at,
      tx,
      afterAppend: async (recorded, t) => {
        for (const r of recorded) await project(t, r.event);
      },
    })).decision;
  }

  async dueForDispatch(before: string, limit = 100): Promise<string[]> {
    return (await this.#q.query<{ order_id: string }>("SELECT order_id FROM shipping_shipments WHERE status = 'scheduled' AND scheduled_at <= $1 ORDER BY scheduled_at LIMIT $2", [before, limit])).rows.map((r) => r.order_id);
  }

  async delivered(orderId: string, sku: string): Promise<DownloadRow | undefined> {
    return (await this.#q.query<DownloadRow>(`SELECT ${ROW} FROM shipping_downloads WHERE order_id = $1 AND sku = $2 LIMIT 1`, [orderId, sku])).rows[0];
  }

  async download(token: string): Promise<DownloadRow | undefined> {
    return (await this.#q.query<DownloadRow>(`SELECT ${ROW} FROM shipping_downloads WHERE token = $1`, [token])).rows[0];
  }
}

/** The query tables, as ShippingStore keeps them. */
async function project(t: PgTx, e: ShippingEvent): Promise<void> {
  switch (e.type) {
    case 'ShipmentScheduled':
      await t.query("INSERT INTO shipping_shipments (order_id, shipment_id, status, scheduled_at) VALUES ($1, $2, 'scheduled', $3)", [e.orderId, e.shipmentId, e.scheduledAt]);
      return;
    case 'ShipmentDispatched':
      await t.query('UPDATE shipping_shipments SET status = $1 WHERE order_id = $2', ['dispatched', e.orderId]);
      return;
    case 'ShipmentCancelled':
      await t.query('UPDATE shipping_shipments SET status = $1 WHERE order_id = $2', ['cancelled', e.orderId]);
      return;
    case 'DigitalDeliveryReady':
      for (const d of e.downloads) await t.query('INSERT INTO shipping_downloads (token, order_id, sku, name, expires_at) VALUES ($1, $2, $3, $4, $5)', [d.token ?? null, e.orderId, d.sku, d.name, e.expiresAt]);
      return;
    case 'OrderNoted':
    case 'PaymentNoted':
    case 'CancellationNoted':
    case 'DispatchedBeforeCancellation':
      return;
    default: {
      const never: never = e;
      throw new Error(`Unexpected ${JSON.stringify(never)}`);
    }
  }
}
