import { randomUUID } from 'node:crypto';
import type { Logger } from '@shop/common';
import { PgCommandEngine, PgFeedStore, PgListener, type PgPool, migratePg, openPgPool } from '@shop/common/pg';
import { type AppDeps, type OrderAppBase, assembleApp, createOrderAccess, createOrderPublisher } from './app.ts';
import type { FeedPublisher } from '@shop/common';
import { pgMigrations } from './db/pgMigrations.ts';
import { PgOrderStore } from './db/pgOrderStore.ts';

/** The order service's PostgreSQL storage, opened and migrated (safe when instances start together). */
export interface OrderPg {
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
      pool, listener, feed,
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
}

/**
 * Builds the order service over PostgreSQL: the orders, their feed, archive renditions and
 * idempotency keys shared by every instance. `deps.db` (SQLite, in DATA_DIR) still holds this
 * instance's shipping feed read position and parked entries until the subscription moves to
 * PostgreSQL (PgFeedConsumer); its notes go to PostgreSQL, after the position commits, so a
 * crash between the two loses that note (a `reset shipping` notes it again: notes are idempotent).
 */
export function createPgApp(deps: AppDeps, pg: OrderPg): PgOrderApp {
  const access = createOrderAccess(deps);
  const publisher = createOrderPublisher<'async'>(deps, pg.feed, access);
  const engine = new PgCommandEngine(pg.pool, pg.feed, { newEventId: deps.newEventId ?? randomUUID });
  const orders = new PgOrderStore(engine);
  const notes = {
    noteFulfilment: (command: Parameters<PgOrderStore['noteFulfilment']>[0]) => {
      orders.noteFulfilment(command).catch((e: unknown) => deps.logger.error('noting a fulfilment failed', { orderId: command.orderId, error: e instanceof Error ? e.message : String(e) }));
    },
  };
  const base = assembleApp(deps, access, publisher, orders, notes);
  return { ...base, feed: pg.feed, publisher, orders };
}
