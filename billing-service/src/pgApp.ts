import { randomUUID } from 'node:crypto';
import { type FeedPublisher, type Logger, ServiceHealth } from '@shop/common';
import { PgCommandEngine, PgFeedConsumer, PgFeedStore, PgListener, type PgPool, migratePg, openPgPool } from '@shop/common/pg';
import { type AppDeps, type BillingApp, assembleBillingApp, createBillingAccess, createBillingPublisher, orderFeedOptions } from './app.ts';
import { createPgOrderFeedHandler } from './consumer/orderFeedHandler.ts';
import { PgBillingStore, pgMigrations } from './db/pgBillingStore.ts';

/** Billing's PostgreSQL storage, opened and migrated (safe when instances start together). */
export interface BillingPg {
  readonly url: string;
  readonly pool: PgPool;
  /** A small pool that commits without waiting for the WAL flush: the subscriptions' bookkeeping (see PgFeedConsumerOptions.bookkeepingPool). */
  readonly bookkeeping: PgPool;
  readonly listener: PgListener;
  readonly feed: PgFeedStore;
  close(): Promise<void>;
}

/** Opens DATABASE_URL: a pool, the process's LISTEN connection, migrations, the feed. */
export async function openBillingPg(url: string, o: { pageSize: number; logger: Logger; now?: () => Date; poolSize?: number }): Promise<BillingPg> {
  const pool = openPgPool(url, { max: o.poolSize ?? 10, applicationName: 'billing-service', onError: (e) => o.logger.warn('idle PostgreSQL connection failed', { error: e.message }) });
  const bookkeeping = openPgPool(url, { max: 2, applicationName: 'billing-service bookkeeping', synchronousCommit: false, onError: () => {} });
  try {
    await migratePg(pool, pgMigrations);
    const listener = new PgListener({ connectionString: url, onError: (e) => o.logger.warn('PostgreSQL LISTEN connection lost; reconnecting', { error: e.message }) });
    const feed = await PgFeedStore.open(pool, { pageSize: o.pageSize, now: o.now, listener });
    await feed.head();
    return { url, pool, listener, feed, bookkeeping, close: async () => { await feed.close(); await listener.close(); await pool.end(); await bookkeeping.end(); } };
  } catch (e) {
    await pool.end().catch(() => {});
    await bookkeeping.end().catch(() => {});
    throw e;
  }
}

/** The billing service on PostgreSQL. */
export interface PgBillingApp extends Pick<BillingApp, 'app' | 'handler' | 'ops' | 'access'> {
  readonly feed: PgFeedStore;
  readonly publisher: FeedPublisher<'async'>;
  readonly billing: PgBillingStore;
  /** Applied by one instance at a time (leadership `billing-service:orders`); main.ts starts leading and polls. */
  readonly orderFeed: PgFeedConsumer;
}

/**
 * Builds billing over PostgreSQL: events, feed, archive renditions, invoice numbers, payments,
 * the order feed's read position and parked entries, shared by every instance. `deps.db` is not
 * used (pass null).
 */
export function createPgApp(deps: Omit<AppDeps, 'db'>, pg: Pick<BillingPg, 'url' | 'pool' | 'feed'> & { readonly bookkeeping?: PgPool }, o: { readonly leadership?: boolean } = {}): PgBillingApp {
  const now = deps.now ?? (() => new Date());
  const access = createBillingAccess(deps);
  const publisher = createBillingPublisher<'async'>(deps, pg.feed, access);
  const newId = deps.newId ?? randomUUID;
  const engine = new PgCommandEngine(pg.pool, pg.feed, { newEventId: newId });
  const billing = new PgBillingStore(engine, newId, deps.config.shopTimeZone);
  const orderFeed = new PgFeedConsumer(pg.pool, {
    ...orderFeedOptions(deps),
    // Without leadership (the command line) it never takes the lock, and is never asked to poll.
    ...(o.leadership === false ? {} : { leadership: { connectionString: pg.url, service: 'billing-service' } }),
    bookkeepingPool: pg.bookkeeping,
    handler: createPgOrderFeedHandler({ billing, now, autoCapture: deps.config.autoCapture, logger: deps.logger }),
  });
  const base = assembleBillingApp(deps, { access, publisher, billing, orderFeed, health: new ServiceHealth(null, []), status: () => orderFeed.status() });
  return { ...base, feed: pg.feed, publisher, billing, orderFeed };
}
