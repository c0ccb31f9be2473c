import { randomBytes, randomUUID } from 'node:crypto';
import type { RequestListener } from 'node:http';
import type Koa from 'koa';
import Router from '@koa/router';
import { type ConsumerProgress, type Db, type EngineMode, FeedConsumer, type FeedConsumerOptions, FeedPublisher, FeedStore, type Logger, type PublishedStore, type Operations, type ServiceAccess, ServiceHealth, SqliteCommandEngine, WriteBatcher, createBaseApp, createFeedFastPath, createFeedRouter, createOperations, createServiceAccess, withFastPath } from '@shop/common';
import type { OrderServiceConfig } from './config.ts';
import { createShippingFeedHandler } from './consumer/shippingFeedHandler.ts';
import { migrations } from './db/migrations.ts';
import { OrderStore, type Orders, batchedOrders } from './db/orderStore.ts';
import { orderIdFrom } from './domain/orderId.ts';
import { ORDER_FEED_TYPES } from './feed/toFeedEntry.ts';
import { createOrderRouter } from './http/orderRoutes.ts';

export interface AppDeps {
  /** An open, migrated database (see db/migrations.ts). */
  readonly db: Db;
  readonly config: OrderServiceConfig;
  readonly logger: Logger;
  readonly now?: () => Date;
  readonly newOrderId?: () => string;
  readonly newEventId?: () => string;
  /** Retry tuning of the shipping feed subscription (tests shorten the backoff). */
  readonly consumer?: Pick<FeedConsumerOptions, 'backoff' | 'maxAttempts'>;
}

/** What every order app has, whichever engine stores its orders. */
export interface OrderAppBase {
  readonly app: Koa;
  /** What the HTTP server runs: the feed's 304 fast path, then the app. */
  readonly handler: RequestListener;
  /** /metrics, /healthz, /readyz; main.ts calls `ops.health.shutDown()` on SIGTERM. */
  readonly ops: Operations;
  /** The credentials it accepts (readers, operators, API clients); `close()` stops watching their files. */
  readonly access: ServiceAccess;
}

/** The order service on SQLite (the default). */
export interface OrderApp extends OrderAppBase {
  readonly feed: FeedStore;
  readonly publisher: FeedPublisher;
  readonly orders: OrderStore;
  /** Reads the shipping feed (dispatches, digital deliveries) into the orders; main.ts polls it, tests call pollOnce(). */
  readonly shippingFeed: FeedConsumer;
}

/** Builds the order service on SQLite (never listens and never polls: main.ts and the tests do that). */
export function createApp(deps: AppDeps): OrderApp {
  const now = deps.now ?? (() => new Date());
  const access = createOrderAccess(deps);
  const feed = new FeedStore(deps.db, { pageSize: deps.config.feedPageSize, now });
  const publisher = createOrderPublisher(deps, feed, access);
  // The one place the order service chooses where its commands are stored.
  const engine = new SqliteCommandEngine(deps.db, feed, { newEventId: deps.newEventId ?? randomUUID });
  const orders = new OrderStore(deps.db, engine);
  // Blocking would hold every order's dispatch behind one bad entry; each note is per order.
  const shippingFeed = new FeedConsumer(deps.db, { ...shippingFeedOptions(deps), handler: createShippingFeedHandler(orders, now) });
  const base = assembleApp(deps, {
    access, publisher, orders: batchedOrders(orders, new WriteBatcher(deps.db)), shippingFeed,
    health: new ServiceHealth(deps.db, migrations), status: () => shippingFeed.status(),
  });
  return { ...base, feed, publisher, orders, shippingFeed };
}

/** Who may write, read the feed and see the pages (credentials files are watched from now on). */
export function createOrderAccess(deps: Pick<AppDeps, 'config' | 'logger'>): ServiceAccess {
  return createServiceAccess(deps.config.access, { service: 'order-service', logger: deps.logger });
}

/** The order feed's publisher, over either store. */
export function createOrderPublisher<M extends EngineMode>(deps: Pick<AppDeps, 'config'>, store: PublishedStore<M>, access: ServiceAccess): FeedPublisher<M> {
  return new FeedPublisher<M>({
    store,
    serviceName: 'order-service',
    title: 'Orders',
    description: 'Every order placed or cancelled in the shop, as an RFC 5005 archived Atom feed.',
    categories: ORDER_FEED_TYPES,
    maxAgeSeconds: deps.config.feedMaxAgeSeconds,
    privateFeed: access.readers.protected,
  });
}

/** The shipping feed subscription's options, whichever engine applies it (the handler aside). Parks: one bad entry never holds every order's dispatch. */
export function shippingFeedOptions(deps: Pick<AppDeps, 'config' | 'consumer' | 'logger' | 'now'>) {
  const { config } = deps;
  return {
    name: 'shipping',
    feedUrl: config.shippingFeedUrl,
    token: config.shippingFeedToken,
    allowedOrigins: config.feedAllowedOrigins,
    longPollSeconds: config.consumerLongPollSeconds,
    onFailure: 'park',
    ...deps.consumer,
    logger: deps.logger,
    now: deps.now ?? (() => new Date()),
  } as const;
}

/** Everything but storage: operations, the feed routes, the order routes over `orders` and /status. */
export function assembleApp(deps: Pick<AppDeps, 'config' | 'logger' | 'now' | 'newOrderId'>, parts: {
  readonly access: ServiceAccess;
  readonly publisher: FeedPublisher<EngineMode>;
  readonly orders: Orders;
  readonly shippingFeed: { progress(): ConsumerProgress };
  readonly health: ServiceHealth;
  readonly status: () => unknown;
}): OrderAppBase {
  const now = deps.now ?? (() => new Date());
  const { config } = deps;
  const { access, publisher } = parts;
  const ops = createOperations({ health: parts.health, feeds: [{ name: 'orders', publisher }], consumers: [parts.shippingFeed], guard: access.operator });
  const app = createBaseApp(deps.logger, { onRequest: ops.metrics.observeRequest });
  app.use(ops.router.routes()).use(ops.router.allowedMethods());
  const feedOptions = { publisher, baseUrl: config.publicUrl, readers: access.readers, realm: 'order-service feeds', longPollMaxSeconds: config.longPollMaxSeconds };
  const feedRouter = createFeedRouter({
    ...feedOptions,
    homeLinks: [{ href: `${config.publicUrl}/status`, title: 'Status of the shipping feed subscription (JSON)' }],
  });
  const orderRouter = createOrderRouter({ orders: parts.orders, apiToken: access.clients, now, newOrderId: deps.newOrderId ?? (() => orderIdFrom(randomBytes(10))), shipTo: new Set(config.shipToCountries), shopTimeZone: config.shopTimeZone });
  const statusRouter = new Router().get('/status', access.operator, async (ctx) => {
    const s = await parts.status();
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { subscriptions: [s] };
  });
  for (const r of [feedRouter, orderRouter, statusRouter]) app.use(r.routes()).use(r.allowedMethods());
  return { app, handler: withFastPath(ops.metrics.observeFastPath(createFeedFastPath(feedOptions)), app.callback()), ops, access };
}
