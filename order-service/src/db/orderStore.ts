import { type CommandEngine, type CommandHandler, type Db, type WriteBatcher, createCommandHandler } from '@shop/common';
import type { OrderEvent } from '../domain/events.ts';
import { type Decision, type NoteFulfilment, type Order, type OrderCommand, type PlaceOrder, orderDecider } from '../domain/order.ts';
import { orderProjection } from '../feed/toFeedEntry.ts';

export type PlaceResult =
  /** With the order as the command left it: no need to read it back for the answer. */
  | { readonly kind: 'created'; readonly orderId: string; readonly order: Order }
  | { readonly kind: 'replayed'; readonly orderId: string }
  | { readonly kind: 'key-reused'; readonly orderId: string };

/**
 * What the HTTP routes need of the orders, whichever engine stores them: on SQLite through
 * the group commit (`batchedOrders`), on PostgreSQL one transaction a request (PgOrderStore).
 */
export interface Orders {
  load(orderId: string): Order | Promise<Order>;
  place(command: PlaceOrder, idempotency?: { key: string; requestHash: string }): Promise<PlaceResult>;
  handle(command: OrderCommand): Promise<Decision>;
}

/** The SQLite store as `Orders`: every write joins the next group commit, as before. */
export function batchedOrders(store: OrderStore, writes: WriteBatcher): Orders {
  return {
    load: (orderId) => store.load(orderId),
    place: (command, idempotency) => writes.run(() => store.place(command, idempotency)),
    handle: (command) => writes.run(() => store.handle(command)),
  };
}

/**
 * Runs order commands through the service's command engine. Each accepted command appends its
 * events and their public feed entries in one transaction: never one without the other.
 */
export class OrderStore {
  readonly #commands: CommandHandler<Order, OrderCommand, OrderEvent, Decision, Db, 'sync'>;
  readonly #findKey;
  readonly #saveKey;

  /** `engine` is the service's one storage choice (app.ts builds it); `db` holds the idempotency keys. */
  constructor(db: Db, engine: CommandEngine<Db, 'sync'>) {
    this.#commands = createCommandHandler(engine, orderDecider, orderProjection);
    this.#findKey = db.prepare<[string], { request_hash: string; order_id: string }>('SELECT request_hash, order_id FROM idempotency_keys WHERE key = ?');
    this.#saveKey = db.prepare('INSERT INTO idempotency_keys (key, request_hash, order_id, created_at) VALUES (?, ?, ?, ?)');
  }

  load(orderId: string): Order {
    return this.#commands.load(orderId);
  }

  handle(command: OrderCommand): Decision {
    return this.#commands.handle(command.orderId, command, { recordedAt: command.at }).decision;
  }

  /**
   * Notes what shipping published, inside the shipping feed consumer's transaction (so the note
   * and the read position commit together), or a new one.
   */
  noteFulfilment(command: NoteFulfilment): Decision {
    return this.handle(command);
  }

  /**
   * Places an order once per idempotency key: a retry with the same key and body gets the
   * order the first attempt made; the same key with another body is refused.
   */
  place(command: PlaceOrder, idempotency?: { key: string; requestHash: string }): PlaceResult {
    return this.#commands.transaction((tx) => {
      if (idempotency) {
        const seen = this.#findKey.get(idempotency.key);
        if (seen) return { kind: seen.request_hash === idempotency.requestHash ? 'replayed' : 'key-reused', orderId: seen.order_id };
      }
      const { decision, state } = this.#commands.handle(command.orderId, command, { recordedAt: command.at, tx });
      if (!decision.ok) throw new Error(`Order id collision on ${command.orderId}`);
      if (idempotency) this.#saveKey.run(idempotency.key, idempotency.requestHash, command.orderId, command.at);
      return { kind: 'created', orderId: command.orderId, order: state };
    });
  }
}
