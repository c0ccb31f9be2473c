import { type CommandEngine, type CommandHandler, type Db, createCommandHandler } from '@shop/common';
import { type Decision, type ShippingCommand, shippingDecider } from '../domain/decide.ts';
import type { ShippingEvent } from '../domain/events.ts';
import type { ShippingState } from '../domain/evolve.ts';
import type { DownloadLinkSigner } from '../downloads/downloadLinks.ts';
import { shippingProjection } from '../feed/toFeedEntry.ts';

/** A download delivered: what it is and until when it works. */
export interface DownloadRow { readonly orderId: string; readonly sku: string; readonly name: string; readonly expiresAt: string }

/**
 * What the routes need of shipping's storage: ShippingStore on SQLite answers at once,
 * PgShippingStore on PostgreSQL with promises.
 */
export interface Shipping {
  load(orderId: string): ShippingState | Promise<ShippingState>;
  handle(command: ShippingCommand): Decision | Promise<Decision>;
  delivered(orderId: string, sku: string): DownloadRow | undefined | Promise<DownloadRow | undefined>;
  download(token: string): DownloadRow | undefined | Promise<DownloadRow | undefined>;
}

/**
 * Runs shipping commands through the service's command engine. Events, their feed entries and
 * the query tables commit in one transaction: the caller's when there is one (a feed consumer's,
 * which also moves its read position), else a new one.
 */
export class ShippingStore implements Shipping {
  readonly #commands: CommandHandler<ShippingState, ShippingCommand, ShippingEvent, Decision, Db, 'sync'>;
  readonly #q;

  /**
   * `engine` is the service's one storage choice (app.ts builds it); `db` holds the query
   * tables. `shopTimeZone` (SHOP_TIME_ZONE) is the calendar of cut-offs, working days and every
   * date in the entries; `links` signs the download links the entries carry.
   */
  constructor(db: Db, engine: CommandEngine<Db, 'sync'>, options: { newId: () => string; links: DownloadLinkSigner; shopTimeZone: string }) {
    this.#commands = createCommandHandler(engine, shippingDecider({ newId: options.newId, shopTimeZone: options.shopTimeZone }), shippingProjection(options.links, options.shopTimeZone));
    this.#q = {
      schedule: db.prepare("INSERT INTO shipping_shipments (order_id, shipment_id, status, scheduled_at) VALUES (?, ?, 'scheduled', ?)"),
      setStatus: db.prepare('UPDATE shipping_shipments SET status = ? WHERE order_id = ?'),
      due: db.prepare<[string, number], { order_id: string }>("SELECT order_id FROM shipping_shipments WHERE status = 'scheduled' AND scheduled_at <= ? ORDER BY scheduled_at LIMIT ?"),
      addDownload: db.prepare('INSERT INTO shipping_downloads (token, order_id, sku, name, expires_at) VALUES (?, ?, ?, ?, ?)'),
      delivered: db.prepare<[string, string], DownloadRow>('SELECT order_id AS orderId, sku, name, expires_at AS expiresAt FROM shipping_downloads WHERE order_id = ? AND sku = ? LIMIT 1'),
      byToken: db.prepare<[string], DownloadRow>('SELECT order_id AS orderId, sku, name, expires_at AS expiresAt FROM shipping_downloads WHERE token = ?'),
    };
  }

  load(orderId: string): ShippingState {
    return this.#commands.load(orderId);
  }

  handle(command: ShippingCommand): Decision {
    return this.#commands.handle(orderIdOf(command), command, {
      recordedAt: command.at,
      afterAppend: (recorded) => {
        for (const r of recorded) this.#project(r.event);
      },
    }).decision;
  }

  /** Orders whose shipment was scheduled at or before `before` and has not left yet. */
  dueForDispatch(before: string, limit = 100): string[] {
    return this.#q.due.all(before, limit).map((r) => r.order_id);
  }

  /** The download of `sku` delivered with `orderId`, if it was. */
  delivered(orderId: string, sku: string): DownloadRow | undefined {
    return this.#q.delivered.get(orderId, sku);
  }

  /** A download by the token of a link given before links were signed (`/downloads/{token}`). */
  download(token: string): DownloadRow | undefined {
    return this.#q.byToken.get(token);
  }

  /** The query tables (shipments due for dispatch, downloads delivered), kept with the events. */
  #project(e: ShippingEvent): void {
    switch (e.type) {
      case 'ShipmentScheduled':
        this.#q.schedule.run(e.orderId, e.shipmentId, e.scheduledAt);
        return;
      case 'ShipmentDispatched':
        this.#q.setStatus.run('dispatched', e.orderId);
        return;
      case 'ShipmentCancelled':
        this.#q.setStatus.run('cancelled', e.orderId);
        return;
      case 'DigitalDeliveryReady':
        for (const d of e.downloads) this.#q.addDownload.run(d.token ?? null, e.orderId, d.sku, d.name, e.expiresAt);
        return;
      case 'OrderNoted':
      case 'PaymentNoted':
      case 'CancellationNoted':
      case 'DispatchedBeforeCancellation':
        return;
      default:
        assertNever(e);
    }
  }
}

export function orderIdOf(c: ShippingCommand): string {
  switch (c.type) {
    case 'NoteOrder': return c.order.orderId;
    case 'NotePayment': return c.payment.orderId;
    case 'NoteCancellation': return c.cancellation.orderId;
    case 'Dispatch': return c.orderId;
    default: return assertNever(c);
  }
}

function assertNever(x: never): never {
  throw new Error(`Unexpected ${JSON.stringify(x)}`);
}
