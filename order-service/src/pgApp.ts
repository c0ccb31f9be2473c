import { randomUUID } from 'node:crypto';
import { type FeedPublisher, type Logger, ServiceHealth } from '@shop/common';
import { PgCommandEngine, PgFeedConsumer, PgFeedStore, PgListener, type PgPool, migratePg, openPgPool } from '@shop/common/pg';
import { type AppDeps, type OrderAppBase, assembleApp, createOrderAccess, createOrderPublisher, shippingFeedOptions } from './app.ts';
import { createPgShippingFeedHandler } from './consumer/shippingFeedHandler.ts';
import { pgMigrations } from './db/pgMigrations.ts';
import { PgOrderStore } from './db/pgOrderStore.ts';

/** The order service's PostgreSQL storage, opened and migrated (safe when instances start together). */
export interface OrderPg {
  readonly url: string;
  readonly pool: PgPool;
  readonly listener: PgListener;
  readonly feed: PgFeedStore;
  close(): Promise<void>;
}

/** Opens DATABASE_URL: a pool, the process's LISTEN connection, migrations, the feed. */
export async function openOrderPg(url: string, o: { pageSize: number; logger: Logger; now?: () => Date; poolSize?: number }): Promise<OrderPg> {
  const pool = openPgPool(url, { max: o.poolSize ?? 10, applicationName: 'order-service', onError: (e) => o.logger.warn('idle PostgreSQL connection failed', { error: e.message }) });
  try {
    await migratePg(pool, pgMigrations);
    const listener = new PgListener({ connectionString: url, onError: (e) => o.logger.warn('PostgreSQL LISTEN connection lost; reconnecting', { error: e.message }) });
    const feed = await PgFeedStore.open(pool, { pageSize: o.pageSize, now: o.now, listener });
    // Prime the head kept in memory, so the 304 fast path answers from the first request.
    await feed.head();
    return {
      url, pool, listener, feed,
      close: async () => { await feed.close(); await listener.close(); await pool.end(); },
    };
  } catch (e) {
    await pool.end().catch(() => {});
    throw e;
  }
}

/** The order service on PostgreSQL. */
export interface PgOrderApp extends OrderAppBase {
  readonly feed: PgFeedStore;
  readonly publisher: FeedPublisher<'async'>;
  readonly orders: PgOrderStore;
  /** Applied by one instance at a time (leadership `order-service:shipping`); main.ts starts leading and polls. */
  readonly shippingFeed: PgFeedConsumer;
}

/**
 * Builds the order service over PostgreSQL: the orders, their feed, archive renditions,
 * idempotency keys and the shipping feed's read position and parked entries, shared by every
 * instance. A dispatch is noted in the transaction that moves the read position.
 */
export function createPgApp(deps: Omit<AppDeps, 'db'>, pg: Pick<OrderPg, 'url' | 'pool' | 'feed'>, o: { readonly leadership?: boolean } = {}): PgOrderApp {
  const now = deps.now ?? (() => new Date());
  const access = createOrderAccess(deps);
  const publisher = createOrderPublisher<'async'>(deps, pg.feed, access);
  const engine = new PgCommandEngine(pg.pool, pg.feed, { newEventId: deps.newEventId ?? randomUUID });
  const orders = new PgOrderStore(engine);
  const shippingFeed = new PgFeedConsumer(pg.pool, {
    ...shippingFeedOptions(deps),
    // Without leadership (the command line) it never takes the lock, and is never asked to poll.
    ...(o.leadership === false ? {} : { leadership: { connectionString: pg.url, service: 'order-service' } }),
    handler: createPgShippingFeedHandler(orders, now),
  });
  const base = assembleApp(deps, { access, publisher, orders, shippingFeed, health: new ServiceHealth(null, []), status: () => shippingFeed.status() });
  return { ...base, feed: pg.feed, publisher, orders, shippingFeed };
}
