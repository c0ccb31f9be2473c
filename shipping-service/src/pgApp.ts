import { randomUUID } from 'node:crypto';
import { type FeedPublisher, type Logger, ServiceHealth } from '@shop/common';
import { PgCommandEngine, PgFeedConsumer, PgFeedStore, PgListener, type PgPool, migratePg, openPgPool } from '@shop/common/pg';
import { type AppDeps, type ShippingApp, assembleShippingApp, createShippingAccess, createShippingPublisher, subscriptionOptions } from './app.ts';
import { createPgBillingFeedHandler, createPgOrderFeedHandler } from './consumer/feedHandlers.ts';
import { PgShippingStore, pgDownloadLinkSecret, pgMigrations } from './db/pgShippingStore.ts';
import { DownloadLinks } from './downloads/downloadLinks.ts';

/** Shipping's PostgreSQL storage, opened and migrated (safe when instances start together). */
export interface ShippingPg {
  readonly url: string;
  readonly pool: PgPool;
  /** A small pool that commits without waiting for the WAL flush: the subscriptions' bookkeeping (see PgFeedConsumerOptions.bookkeepingPool). */
  readonly bookkeeping: PgPool;
  readonly listener: PgListener;
  readonly feed: PgFeedStore;
  /** The download links' key: DOWNLOAD_LINK_SECRET, else the one kept in the database for every instance. */
  readonly linkSecret: string;
  close(): Promise<void>;
}

/** Opens DATABASE_URL: a pool, the process's LISTEN connection, migrations, the feed, the link secret. */
export async function openShippingPg(url: string, o: { pageSize: number; logger: Logger; linkSecret: string | undefined; now?: () => Date; poolSize?: number }): Promise<ShippingPg> {
  const pool = openPgPool(url, { max: o.poolSize ?? 10, applicationName: 'shipping-service', onError: (e) => o.logger.warn('idle PostgreSQL connection failed', { error: e.message }) });
  const bookkeeping = openPgPool(url, { max: 2, applicationName: 'shipping-service bookkeeping', synchronousCommit: false, onError: () => {} });
  try {
    await migratePg(pool, pgMigrations);
    const linkSecret = await pgDownloadLinkSecret(pool, o.linkSecret);
    const listener = new PgListener({ connectionString: url, onError: (e) => o.logger.warn('PostgreSQL LISTEN connection lost; reconnecting', { error: e.message }) });
    const feed = await PgFeedStore.open(pool, { pageSize: o.pageSize, now: o.now, listener });
    await feed.head();
    return { url, pool, listener, feed, linkSecret, bookkeeping, close: async () => { await feed.close(); await listener.close(); await pool.end(); await bookkeeping.end(); } };
  } catch (e) {
    await pool.end().catch(() => {});
    await bookkeeping.end().catch(() => {});
    throw e;
  }
}

/** The shipping service on PostgreSQL. */
export interface PgShippingApp extends Pick<ShippingApp, 'app' | 'handler' | 'ops' | 'access'> {
  readonly feed: PgFeedStore;
  readonly publisher: FeedPublisher<'async'>;
  readonly shipping: PgShippingStore;
  /** Each applied by one instance at a time (leadership `shipping-service:orders`, `shipping-service:billing`). */
  readonly orderFeed: PgFeedConsumer;
  readonly billingFeed: PgFeedConsumer;
}

/** Builds shipping over PostgreSQL, everything it stores shared by every instance. */
export function createPgApp(deps: Omit<AppDeps, 'db'>, pg: Pick<ShippingPg, 'url' | 'pool' | 'feed' | 'linkSecret'> & { readonly bookkeeping?: PgPool }, o: { readonly leadership?: boolean } = {}): PgShippingApp {
  const now = deps.now ?? (() => new Date());
  const { config } = deps;
  const access = createShippingAccess(deps);
  const publisher = createShippingPublisher<'async'>(deps, pg.feed, access);
  const links = new DownloadLinks(config.publicUrl, pg.linkSecret, config.shopTimeZone);
  const newId = deps.newId ?? randomUUID;
  const engine = new PgCommandEngine(pg.pool, pg.feed, { newEventId: newId });
  const shipping = new PgShippingStore(pg.pool, engine, { newId, links, shopTimeZone: config.shopTimeZone });
  // Without leadership (the command line) a subscription never takes the lock, and is never asked to poll.
  const leadership = o.leadership === false ? {} : { leadership: { connectionString: pg.url, service: 'shipping-service' } };
  const bookkeepingPool = pg.bookkeeping;
  const { orders, billing } = subscriptionOptions(deps);
  const orderFeed = new PgFeedConsumer(pg.pool, { ...orders, ...leadership, bookkeepingPool, handler: createPgOrderFeedHandler(shipping, now) });
  const billingFeed = new PgFeedConsumer(pg.pool, { ...billing, ...leadership, bookkeepingPool, handler: createPgBillingFeedHandler(shipping, now) });
  const base = assembleShippingApp(deps, {
    access, publisher, shipping, links, consumers: [orderFeed, billingFeed],
    health: new ServiceHealth(null, []), status: () => [orderFeed.status(), billingFeed.status()],
  });
  return { ...base, feed: pg.feed, publisher, shipping, orderFeed, billingFeed };
}
