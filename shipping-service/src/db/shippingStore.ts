import { EventLog, type Db, type FeedStore, inWriteTransaction } from '@shop/common';
import { type Decision, type ShippingCommand, decide } from '../domain/decide.ts';
import type { ShippingEvent } from '../domain/events.ts';
import { type ShippingState, evolve, initialState } from '../domain/evolve.ts';
import type { DownloadLinkSigner } from '../downloads/downloadLinks.ts';
import { toFeedEntry } from '../feed/toFeedEntry.ts';

/** A download delivered: what it is and until when it works. */
export interface DownloadRow { readonly orderId: string; readonly sku: string; readonly name: string; readonly expiresAt: string }

/**
 * Runs shipping commands against the event log. Events, their feed entries and the query tables
 * commit in one transaction: the caller's when there is one (a feed consumer's, which also
 * moves its read position), else a new one.
 */
export class ShippingStore {
  readonly #db: Db;
  readonly #log: EventLog<ShippingEvent>;
  readonly #feed: FeedStore;
  readonly #newId: () => string;
  readonly #links: DownloadLinkSigner;
  readonly #shopTimeZone: string;
  readonly #q;

  /**
   * `shopTimeZone` (SHOP_TIME_ZONE) is the calendar of cut-offs, working days and every date in
   * the entries; `links` signs the download links the entries carry.
   */
  constructor(db: Db, feed: FeedStore, options: { newId: () => string; links: DownloadLinkSigner; shopTimeZone: string }) {
    this.#db = db;
    this.#log = new EventLog<ShippingEvent>(db);
    this.#feed = feed;
    this.#newId = options.newId;
    this.#links = options.links;
    this.#shopTimeZone = options.shopTimeZone;
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
    return this.#log.read(orderId).reduce((s, r) => evolve(s, r.event), initialState);
  }

  handle(command: ShippingCommand): Decision {
    return this.#db.inTransaction ? this.#handle(command) : inWriteTransaction(this.#db, () => this.#handle(command));
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

  #handle(command: ShippingCommand): Decision {
    const orderId = orderIdOf(command);
    let state = this.load(orderId);
    const decision = decide(command, state, { newId: this.#newId, shopTimeZone: this.#shopTimeZone });
    if (!decision.ok) return decision;
    for (const event of decision.events) {
      const eventId = this.#newId();
      this.#log.append(orderId, eventId, event, command.at);
      state = evolve(state, event);
      this.#project(event);
      const entry = toFeedEntry(event, eventId, state, this.#links, this.#shopTimeZone);
      if (entry) this.#feed.append(entry);
    }
    return decision;
  }

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

function orderIdOf(c: ShippingCommand): string {
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
