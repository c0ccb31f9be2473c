import type { RequestListener } from 'node:http';
import { randomUUID } from 'node:crypto';
import type Koa from 'koa';
import Router from '@koa/router';
import { type ConsumerProgress, type Db, type EngineMode, FeedConsumer, type FeedConsumerOptions, FeedPublisher, type FeedPublisherOptions, FeedStore, type Logger, type Operations, type ServiceAccess, ServiceHealth, SqliteCommandEngine, createBaseApp, createFeedFastPath, createFeedRouter, createOperations, createServiceAccess, withFastPath } from '@shop/common';
import type { BillingServiceConfig } from './config.ts';
import { createOrderFeedHandler } from './consumer/orderFeedHandler.ts';
import { type Billing, BillingStore } from './db/billingStore.ts';
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

/** Builds the billing service on SQLite (never listens and never polls: main.ts and the tests do that). */
export function createApp(deps: AppDeps): BillingApp {
  const now = deps.now ?? (() => new Date());
  const { config } = deps;
  const access = createBillingAccess(deps);
  const feed = new FeedStore(deps.db, { pageSize: config.feedPageSize, now });
  const publisher = createBillingPublisher(deps, feed, access);
  const newId = deps.newId ?? randomUUID;
  // The one place billing chooses where its commands are stored.
  const engine = new SqliteCommandEngine(deps.db, feed, { newEventId: newId });
  const billing = new BillingStore(deps.db, engine, newId, config.shopTimeZone);
  const orderFeed = new FeedConsumer(deps.db, {
    ...orderFeedOptions(deps),
    handler: createOrderFeedHandler({ billing, now, autoCapture: config.autoCapture, logger: deps.logger }),
  });
  const base = assembleBillingApp(deps, { access, publisher, billing, orderFeed, health: new ServiceHealth(deps.db, migrations), status: () => orderFeed.status() });
  return { ...base, feed, publisher, billing, orderFeed };
}

/** Who may write, read the feed and see the pages (credentials files are watched from now on). */
export function createBillingAccess(deps: Pick<AppDeps, 'config' | 'logger'>): ServiceAccess {
  return createServiceAccess(deps.config.access, { service: 'billing-service', logger: deps.logger });
}

/** Billing's feed publisher, over either store. */
export function createBillingPublisher<M extends EngineMode>(deps: Pick<AppDeps, 'config'>, store: FeedPublisherOptions<M>['store'], access: ServiceAccess): FeedPublisher<M> {
  return new FeedPublisher<M>({
    store,
    serviceName: 'billing-service',
    title: 'Billing',
    description: 'Invoices issued, payments received and invoices voided, as an RFC 5005 archived Atom feed.',
    categories: BILLING_FEED_TYPES,
    maxAgeSeconds: deps.config.feedMaxAgeSeconds,
    privateFeed: access.readers.protected,
  });
}

/** The order feed subscription's options, whichever engine applies it (the handler aside). */
export function orderFeedOptions(deps: Pick<AppDeps, 'config' | 'consumer' | 'logger' | 'now'>) {
  const { config } = deps;
  return {
    name: 'orders',
    feedUrl: config.orderFeedUrl,
    token: config.orderFeedToken,
    allowedOrigins: config.feedAllowedOrigins,
    longPollSeconds: config.consumerLongPollSeconds,
    onFailure: 'park',
    ...deps.consumer,
    logger: deps.logger,
    now: deps.now ?? (() => new Date()),
  } as const;
}

/** What is left once storage is chosen: operations, the feed routes, the payment routes and /status. */
export function assembleBillingApp(deps: Pick<AppDeps, 'config' | 'logger' | 'now'>, parts: {
  readonly access: ServiceAccess;
  readonly publisher: FeedPublisher<EngineMode>;
  readonly billing: Billing;
  readonly orderFeed: { progress(): ConsumerProgress };
  readonly health: ServiceHealth;
  readonly status: () => unknown;
}): Pick<BillingApp, 'app' | 'handler' | 'ops' | 'access'> {
  const now = deps.now ?? (() => new Date());
  const { config } = deps;
  const { access, publisher } = parts;
  const ops = createOperations({ health: parts.health, feeds: [{ name: 'billing', publisher }], consumers: [parts.orderFeed], guard: access.operator });
  const app = createBaseApp(deps.logger, { onRequest: ops.metrics.observeRequest });
  app.use(ops.router.routes()).use(ops.router.allowedMethods());
  const feedOptions = { publisher, baseUrl: config.publicUrl, readers: access.readers, realm: 'billing-service feeds', longPollMaxSeconds: config.longPollMaxSeconds };
  const feedRouter = createFeedRouter({
    ...feedOptions,
    homeLinks: [{ href: `${config.publicUrl}/status`, title: 'Status of the order feed subscription (JSON)' }],
  });
  const paymentRouter = createPaymentRouter({ billing: parts.billing, apiToken: access.clients, now });
  const statusRouter = new Router().get('/status', access.operator, async (ctx) => {
    const s = await parts.status();
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { subscriptions: [s] };
  });
  for (const r of [feedRouter, paymentRouter, statusRouter]) app.use(r.routes()).use(r.allowedMethods());
  return { app, handler: withFastPath(ops.metrics.observeFastPath(createFeedFastPath(feedOptions)), app.callback()), ops, access };
}
