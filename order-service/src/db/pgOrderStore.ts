import { type CommandHandler, createCommandHandler } from '@shop/common';
import { type PgCommandEngine, PgIdempotencyKeys, type PgTx } from '@shop/common/pg';
import type { OrderEvent } from '../domain/events.ts';
import { type Decision, type NoteFulfilment, type Order, type OrderCommand, type PlaceOrder, orderDecider } from '../domain/order.ts';
import { orderProjection } from '../feed/toFeedEntry.ts';
import type { Orders, PlaceResult } from './orderStore.ts';

/**
 * The orders on PostgreSQL, shared by every instance of the service: each command is one
 * transaction (the engine's, rerun on a conflict) holding its events, its feed entries and,
 * for a placement, its idempotency key.
 */
export class PgOrderStore implements Orders {
  readonly #commands: CommandHandler<Order, OrderCommand, OrderEvent, Decision, PgTx, 'async'>;
  readonly #keys = new PgIdempotencyKeys();

  constructor(engine: PgCommandEngine) {
    this.#commands = createCommandHandler(engine, orderDecider, orderProjection);
  }

  load(orderId: string): Promise<Order> {
    return this.#commands.load(orderId);
  }

  async handle(command: OrderCommand, tx?: PgTx): Promise<Decision> {
    return (await this.#commands.handle(command.orderId, command, { recordedAt: command.at, tx })).decision;
  }

  /** Notes what shipping published; inside a consumer's transaction when given one. */
  noteFulfilment(command: NoteFulfilment, tx?: PgTx): Promise<Decision> {
    return this.handle(command, tx);
  }

  /**
   * Places an order once per idempotency key across instances: the key is claimed first in the
   * same transaction, so a second instance with the same key waits for the first's commit and
   * answers with its order (or, after a rollback, places its own).
   */
  place(command: PlaceOrder, idempotency?: { key: string; requestHash: string }): Promise<PlaceResult> {
    return this.#commands.transaction(async (tx): Promise<PlaceResult> => {
      if (idempotency) {
        const claim = await this.#keys.claim(tx, { key: idempotency.key, requestHash: idempotency.requestHash, resourceId: command.orderId, at: command.at });
        if (claim.kind !== 'claimed') return { kind: claim.kind, orderId: claim.resourceId };
      }
      const { decision, state } = await this.#commands.handle(command.orderId, command, { recordedAt: command.at, tx });
      if (!decision.ok) throw new Error(`Order id collision on ${command.orderId}`);
      return { kind: 'created', orderId: command.orderId, order: state };
    });
  }
}
