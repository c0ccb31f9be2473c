import type { RequestListener } from 'node:http';
import { randomUUID } from 'node:crypto';
import type Koa from 'koa';
import Router from '@koa/router';
import { type Db, FeedConsumer, type FeedConsumerOptions, FeedPublisher, FeedStore, type Logger, type Operations, type ServiceAccess, ServiceHealth, SqliteCommandEngine, createBaseApp, createFeedFastPath, createFeedRouter, createOperations, createServiceAccess, withFastPath } from '@shop/common';
import type { BillingServiceConfig } from './config.ts';
import { createOrderFeedHandler } from './consumer/orderFeedHandler.ts';
import { BillingStore } from './db/billingStore.ts';
import { migrations } from './db/migrations.ts';
import { BILLING_FEED_TYPES } from './feed/toFeedEntry.ts';
import { createPaymentRouter } from './http/paymentRoutes.ts';

export interface AppDeps {
  /** An open, migrated database (see db/migrations.ts). */
  readonly db: Db;
  readonly config: BillingServiceConfig;
  readonly logger: Logger;
  readonly now?: () => Date;
  readonly newId?: () => string;
  /** Retry tuning of the order feed subscription (tests shorten the backoff). */
  readonly consumer?: Pick<FeedConsumerOptions, 'backoff' | 'maxAttempts'>;
}

export interface BillingApp {
  readonly app: Koa;
  /** What the HTTP server runs: the feed's 304 fast path, then the app. */
  readonly handler: RequestListener;
  readonly feed: FeedStore;
  readonly publisher: FeedPublisher;
  readonly billing: BillingStore;
  /** Reads the order feed into billing; main.ts polls it, tests call pollOnce(). */
  readonly orderFeed: FeedConsumer;
  /** /metrics, /healthz, /readyz; main.ts calls `ops.health.shutDown()` on SIGTERM. */
  readonly ops: Operations;
  /** The credentials it accepts (readers, operators, API clients); `close()` stops watching their files. */
  readonly access: ServiceAccess;
}

/** Builds the billing service (never listens and never polls: main.ts and the tests do that). */
export function createApp(deps: AppDeps): BillingApp {
  const now = deps.now ?? (() => new Date());
  const { config } = deps;
  // Who may write, read the feed and see the pages (credentials files are watched from now on).
  const access = createServiceAccess(config.access, { service: 'billing-service', logger: deps.logger });
  const feed = new FeedStore(deps.db, { pageSize: config.feedPageSize, now });
  const publisher = new FeedPublisher({
    store: feed,
    serviceName: 'billing-service',
    title: 'Billing',
    description: 'Invoices issued, payments received and invoices voided, as an RFC 5005 archived Atom feed.',
    categories: BILLING_FEED_TYPES,
    maxAgeSeconds: config.feedMaxAgeSeconds,
    privateFeed: access.readers.protected,
  });
  const newId = deps.newId ?? randomUUID;
  // The one place billing chooses where its commands are stored.
  const engine = new SqliteCommandEngine(deps.db, feed, { newEventId: newId });
  const billing = new BillingStore(deps.db, engine, newId, config.shopTimeZone);
  const orderFeed = new FeedConsumer(deps.db, {
    name: 'orders',
    feedUrl: config.orderFeedUrl,
    token: config.orderFeedToken,
    allowedOrigins: config.feedAllowedOrigins,
    longPollSeconds: config.consumerLongPollSeconds,
    onFailure: 'park',
    ...deps.consumer,
    logger: deps.logger,
    now,
    handler: createOrderFeedHandler({ billing, now, autoCapture: config.autoCapture, logger: deps.logger }),
  });
  const ops = createOperations({ health: new ServiceHealth(deps.db, migrations), feeds: [{ name: 'billing', publisher }], consumers: [orderFeed], guard: access.operator });
  const app = createBaseApp(deps.logger, { onRequest: ops.metrics.observeRequest });
  app.use(ops.router.routes()).use(ops.router.allowedMethods());
  const feedOptions = { publisher, baseUrl: config.publicUrl, readers: access.readers, realm: 'billing-service feeds', longPollMaxSeconds: config.longPollMaxSeconds };
  const feedRouter = createFeedRouter({
    ...feedOptions,
    homeLinks: [{ href: `${config.publicUrl}/status`, title: 'Status of the order feed subscription (JSON)' }],
  });
  const paymentRouter = createPaymentRouter({ billing, apiToken: access.clients, now });
  const statusRouter = new Router().get('/status', access.operator, (ctx) => {
    const s = orderFeed.status();
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { subscriptions: [s] };
  });
  for (const r of [feedRouter, paymentRouter, statusRouter]) app.use(r.routes()).use(r.allowedMethods());
  return { app, handler: withFastPath(ops.metrics.observeFastPath(createFeedFastPath(feedOptions)), app.callback()), feed, publisher, billing, orderFeed, ops, access };
}
