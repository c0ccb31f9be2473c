import { EventLog, type Db, type FeedStore, inWriteTransaction } from '@shop/common';
import type { OrderEvent } from '../domain/events.ts';
import { type Decision, type NoteFulfilment, type Order, type OrderCommand, type PlaceOrder, decide, evolve, initialOrder } from '../domain/order.ts';
import { isPublished, toFeedEntry } from '../feed/toFeedEntry.ts';

export type PlaceResult =
  | { readonly kind: 'created'; readonly orderId: string }
  | { readonly kind: 'replayed'; readonly orderId: string }
  | { readonly kind: 'key-reused'; readonly orderId: string };

/**
 * Runs order commands against the event log. Each accepted command appends its events and
 * their public feed entries in one SQLite transaction: never one without the other.
 */
export class OrderStore {
  readonly #db: Db;
  readonly #log: EventLog<OrderEvent>;
  readonly #feed: FeedStore;
  readonly #newEventId: () => string;
  readonly #findKey;
  readonly #saveKey;

  constructor(db: Db, feed: FeedStore, newEventId: () => string) {
    this.#db = db;
    this.#log = new EventLog<OrderEvent>(db);
    this.#feed = feed;
    this.#newEventId = newEventId;
    this.#findKey = db.prepare<[string], { request_hash: string; order_id: string }>('SELECT request_hash, order_id FROM idempotency_keys WHERE key = ?');
    this.#saveKey = db.prepare('INSERT INTO idempotency_keys (key, request_hash, order_id, created_at) VALUES (?, ?, ?, ?)');
  }

  load(orderId: string): Order {
    return this.#log.read(orderId).reduce((s, r) => evolve(s, r.event), initialOrder);
  }

  handle(command: OrderCommand): Decision {
    return inWriteTransaction(this.#db, () => this.#handleInTransaction(command));
  }

  /**
   * Notes what shipping published, inside the shipping feed consumer's transaction (so the note
   * and the read position commit together), or a new one.
   */
  noteFulfilment(command: NoteFulfilment): Decision {
    return this.#db.inTransaction ? this.#handleInTransaction(command) : this.handle(command);
  }

  /**
   * Places an order once per idempotency key: a retry with the same key and body gets the
   * order the first attempt made; the same key with another body is refused.
   */
  place(command: PlaceOrder, idempotency?: { key: string; requestHash: string }): PlaceResult {
    return inWriteTransaction(this.#db, () => {
      if (idempotency) {
        const seen = this.#findKey.get(idempotency.key);
        if (seen) return { kind: seen.request_hash === idempotency.requestHash ? 'replayed' : 'key-reused', orderId: seen.order_id };
      }
      const decision = this.#handleInTransaction(command);
      if (!decision.ok) throw new Error(`Order id collision on ${command.orderId}`);
      if (idempotency) this.#saveKey.run(idempotency.key, idempotency.requestHash, command.orderId, command.at);
      return { kind: 'created', orderId: command.orderId };
    });
  }

  #handleInTransaction(command: OrderCommand): Decision {
    let state = this.load(command.orderId);
    const decision = decide(command, state);
    if (!decision.ok) return decision;
    for (const event of decision.events) {
      const eventId = this.#newEventId();
      const recorded = this.#log.append(command.orderId, eventId, event, command.at);
      state = evolve(state, recorded.event);
      if (state.status === 'none') throw new Error('An event left the order without a placement');
      if (isPublished(event)) this.#feed.append(toFeedEntry(event, eventId, state.placed));
    }
    return decision;
  }
}
