import type { RequestListener } from 'node:http';
import { randomUUID } from 'node:crypto';
import type Koa from 'koa';
import Router from '@koa/router';
import { type Db, FeedConsumer, type FeedConsumerOptions, FeedPublisher, FeedStore, type Logger, type Operations, type ServiceAccess, ServiceHealth, SqliteCommandEngine, createBaseApp, createFeedFastPath, createFeedRouter, createOperations, createServiceAccess, withFastPath } from '@shop/common';
import type { ShippingServiceConfig } from './config.ts';
import { createBillingFeedHandler, createOrderFeedHandler } from './consumer/feedHandlers.ts';
import { migrations } from './db/migrations.ts';
import { downloadLinkSecret } from './db/linkSecret.ts';
import { ShippingStore } from './db/shippingStore.ts';
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

/** Builds the shipping service (never listens and never polls: main.ts and the tests do that). */
export function createApp(deps: AppDeps): ShippingApp {
  const now = deps.now ?? (() => new Date());
  const { config, logger } = deps;
  // Who may write, read the feed and see the pages (credentials files are watched from now on).
  const access = createServiceAccess(config.access, { service: 'shipping-service', logger: deps.logger });
  const feed = new FeedStore(deps.db, { pageSize: config.feedPageSize, now });
  const publisher = new FeedPublisher({
    store: feed,
    serviceName: 'shipping-service',
    title: 'Shipping',
    description: 'Shipments scheduled and dispatched, and digital deliveries made ready, as an RFC 5005 archived Atom feed.',
    categories: SHIPPING_FEED_TYPES,
    maxAgeSeconds: config.feedMaxAgeSeconds,
    privateFeed: access.readers.protected,
  });
  const links = new DownloadLinks(config.publicUrl, downloadLinkSecret(deps.db, config.downloadLinkSecret), config.shopTimeZone);
  const newId = deps.newId ?? randomUUID;
  // The one place shipping chooses where its commands are stored.
  const engine = new SqliteCommandEngine(deps.db, feed, { newEventId: newId });
  const shipping = new ShippingStore(deps.db, engine, { newId, links, shopTimeZone: config.shopTimeZone });
  const common = { longPollSeconds: config.consumerLongPollSeconds, allowedOrigins: config.feedAllowedOrigins, onFailure: 'park' as const, logger, now, ...deps.consumer };
  const orderFeed = new FeedConsumer(deps.db, { ...common, name: 'orders', feedUrl: config.orderFeedUrl, token: config.orderFeedToken, handler: createOrderFeedHandler(shipping, now) });
  const billingFeed = new FeedConsumer(deps.db, { ...common, name: 'billing', feedUrl: config.billingFeedUrl, token: config.billingFeedToken, handler: createBillingFeedHandler(shipping, now) });
  const ops = createOperations({ health: new ServiceHealth(deps.db, migrations), feeds: [{ name: 'shipping', publisher }], consumers: [orderFeed, billingFeed], guard: access.operator });
  const app = createBaseApp(logger, { onRequest: ops.metrics.observeRequest });
  app.use(ops.router.routes()).use(ops.router.allowedMethods());
  const feedOptions = { publisher, baseUrl: config.publicUrl, readers: access.readers, realm: 'shipping-service feeds', longPollMaxSeconds: config.longPollMaxSeconds };
  const feedRouter = createFeedRouter({
    ...feedOptions,
    homeLinks: [{ href: `${config.publicUrl}/status`, title: 'Status of the order and billing feed subscriptions (JSON)' }],
  });
  const shipmentRouter = createShipmentRouter({ shipping, apiToken: access.clients, now });
  const statusRouter = new Router().get('/status', access.operator, (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { subscriptions: [orderFeed, billingFeed].map((c) => c.status()) };
  });
  // Download links carry their own credential (a signature), so no guard of ours stands before them.
  const downloadRouter = createDownloadRouter({ shipping, links, shopTimeZone: config.shopTimeZone, now });
  for (const r of [feedRouter, shipmentRouter, downloadRouter, statusRouter]) app.use(r.routes()).use(r.allowedMethods());
  return { app, handler: withFastPath(ops.metrics.observeFastPath(createFeedFastPath(feedOptions)), app.callback()), feed, publisher, shipping, orderFeed, billingFeed, ops, access };
}
