import type { RequestListener } from 'node:http';
import { randomUUID } from 'node:crypto';
import type Koa from 'koa';
import Router from '@koa/router';
import { type ConsumerProgress, type Db, type EngineMode, FeedConsumer, type FeedConsumerOptions, FeedPublisher, type FeedPublisherOptions, FeedStore, type Logger, type Operations, type ServiceAccess, ServiceHealth, SqliteCommandEngine, createBaseApp, createFeedFastPath, createFeedRouter, createOperations, createServiceAccess, withFastPath } from '@shop/common';
import type { ShippingServiceConfig } from './config.ts';
import { createBillingFeedHandler, createOrderFeedHandler } from './consumer/feedHandlers.ts';
import { migrations } from './db/migrations.ts';
import { downloadLinkSecret } from './db/linkSecret.ts';
import { type Shipping, ShippingStore } from './db/shippingStore.ts';
import { DownloadLinks } from './downloads/downloadLinks.ts';
import { SHIPPING_FEED_TYPES } from './feed/toFeedEntry.ts';
import { createDownloadRouter } from './http/downloadRoutes.ts';
import { createShipmentRouter } from './http/shipmentRoutes.ts';

export interface AppDeps {
  /** An open, migrated database (see db/migrations.ts). */
  readonly db: Db;
  readonly config: ShippingServiceConfig;
  readonly logger: Logger;
  readonly now?: () => Date;
  readonly newId?: () => string;
  /** Retry tuning of both subscriptions (tests shorten the backoff). */
  readonly consumer?: Pick<FeedConsumerOptions, 'backoff' | 'maxAttempts'>;
}

export interface ShippingApp {
  readonly app: Koa;
  /** What the HTTP server runs: the feed's 304 fast path, then the app. */
  readonly handler: RequestListener;
  readonly feed: FeedStore;
  readonly publisher: FeedPublisher;
  readonly shipping: ShippingStore;
  /** Read the order and billing feeds into shipping; main.ts polls them, tests call pollOnce(). */
  readonly orderFeed: FeedConsumer;
  readonly billingFeed: FeedConsumer;
  /** /metrics, /healthz, /readyz; main.ts calls `ops.health.shutDown()` on SIGTERM. */
  readonly ops: Operations;
  /** The credentials it accepts (readers, operators, API clients); `close()` stops watching their files. */
  readonly access: ServiceAccess;
}

/** Builds the shipping service on SQLite (never listens and never polls: main.ts and the tests do that). */
export function createApp(deps: AppDeps): ShippingApp {
  const now = deps.now ?? (() => new Date());
  const { config } = deps;
  const access = createShippingAccess(deps);
  const feed = new FeedStore(deps.db, { pageSize: config.feedPageSize, now });
  const publisher = createShippingPublisher(deps, feed, access);
  const links = new DownloadLinks(config.publicUrl, downloadLinkSecret(deps.db, config.downloadLinkSecret), config.shopTimeZone);
  const newId = deps.newId ?? randomUUID;
  // The one place shipping chooses where its commands are stored.
  const engine = new SqliteCommandEngine(deps.db, feed, { newEventId: newId });
  const shipping = new ShippingStore(deps.db, engine, { newId, links, shopTimeZone: config.shopTimeZone });
  const { orders, billing } = subscriptionOptions(deps);
  const orderFeed = new FeedConsumer(deps.db, { ...orders, handler: createOrderFeedHandler(shipping, now) });
  const billingFeed = new FeedConsumer(deps.db, { ...billing, handler: createBillingFeedHandler(shipping, now) });
  const base = assembleShippingApp(deps, {
    access, publisher, shipping, links, consumers: [orderFeed, billingFeed],
    health: new ServiceHealth(deps.db, migrations), status: () => [orderFeed, billingFeed].map((c) => c.status()),
  });
  return { ...base, feed, publisher, shipping, orderFeed, billingFeed };
}

/** Who may write, read the feed and see the pages (credentials files are watched from now on). */
export function createShippingAccess(deps: Pick<AppDeps, 'config' | 'logger'>): ServiceAccess {
  return createServiceAccess(deps.config.access, { service: 'shipping-service', logger: deps.logger });
}

/** Shipping's feed publisher, over either store. */
export function createShippingPublisher<M extends EngineMode>(deps: Pick<AppDeps, 'config'>, store: FeedPublisherOptions<M>['store'], access: ServiceAccess): FeedPublisher<M> {
  return new FeedPublisher<M>({
    store,
    serviceName: 'shipping-service',
    title: 'Shipping',
    description: 'Shipments scheduled and dispatched, and digital deliveries made ready, as an RFC 5005 archived Atom feed.',
    categories: SHIPPING_FEED_TYPES,
    maxAgeSeconds: deps.config.feedMaxAgeSeconds,
    privateFeed: access.readers.protected,
  });
}

/** The two subscriptions' options, whichever engine applies them (the handlers aside). */
export function subscriptionOptions(deps: Pick<AppDeps, 'config' | 'consumer' | 'logger' | 'now'>) {
  const { config } = deps;
  const common = { longPollSeconds: config.consumerLongPollSeconds, allowedOrigins: config.feedAllowedOrigins, onFailure: 'park' as const, logger: deps.logger, now: deps.now ?? (() => new Date()), ...deps.consumer };
  return {
    orders: { ...common, name: 'orders', feedUrl: config.orderFeedUrl, token: config.orderFeedToken },
    billing: { ...common, name: 'billing', feedUrl: config.billingFeedUrl, token: config.billingFeedToken },
  };
}

/** What is left once storage is chosen: operations, the feed, shipment and download routes, and /status. */
export function assembleShippingApp(deps: Pick<AppDeps, 'config' | 'logger' | 'now'>, parts: {
  readonly access: ServiceAccess;
  readonly publisher: FeedPublisher<EngineMode>;
  readonly shipping: Shipping;
  readonly links: DownloadLinks;
  readonly consumers: readonly { progress(): ConsumerProgress }[];
  readonly health: ServiceHealth;
  readonly status: () => readonly unknown[];
}): Pick<ShippingApp, 'app' | 'handler' | 'ops' | 'access'> {
  const now = deps.now ?? (() => new Date());
  const { config, logger } = deps;
  const { access, publisher, shipping, links } = parts;
  const ops = createOperations({ health: parts.health, feeds: [{ name: 'shipping', publisher }], consumers: parts.consumers, guard: access.operator });
  const app = createBaseApp(logger, { onRequest: ops.metrics.observeRequest });
  app.use(ops.router.routes()).use(ops.router.allowedMethods());
  const feedOptions = { publisher, baseUrl: config.publicUrl, readers: access.readers, realm: 'shipping-service feeds', longPollMaxSeconds: config.longPollMaxSeconds };
  const feedRouter = createFeedRouter({
    ...feedOptions,
    homeLinks: [{ href: `${config.publicUrl}/status`, title: 'Status of the order and billing feed subscriptions (JSON)' }],
  });
  const shipmentRouter = createShipmentRouter({ shipping, apiToken: access.clients, now });
  const statusRouter = new Router().get('/status', access.operator, async (ctx) => {
    const subscriptions = await Promise.all(parts.status());
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { subscriptions };
  });
  // Download links carry their own credential (a signature), so no guard of ours stands before them.
  const downloadRouter = createDownloadRouter({ shipping, links, shopTimeZone: config.shopTimeZone, now });
  for (const r of [feedRouter, shipmentRouter, downloadRouter, statusRouter]) app.use(r.routes()).use(r.allowedMethods());
  return { app, handler: withFastPath(ops.metrics.observeFastPath(createFeedFastPath(feedOptions)), app.callback()), ops, access };
}
