import { EnvReader, type PublisherConfig, readDatabaseUrl, readPublisherConfig, readShopTimeZone } from '@shop/common';

export interface BillingServiceConfig extends PublisherConfig {
  /** The order feed billing reads (ORDER_FEED_URL). */
  readonly orderFeedUrl: string;
  /** Bearer token for the order feed, when it is protected (ORDER_FEED_TOKEN). */
  readonly orderFeedToken: string | undefined;
  /**
   * Origins other than a feed URL's own that its redirects and paging links may lead to, fetched
   * without the feed token (FEED_ALLOWED_ORIGINS, comma-separated); any other origin is refused.
   */
  readonly feedAllowedOrigins: readonly string[];
  /** BILLING_AUTO_CAPTURE=1 pays every new invoice with a demo card, for hands-off demos. */
  readonly autoCapture: boolean;
  /** How long one poll of the order feed may wait for news (CONSUMER_LONG_POLL, seconds). */
  readonly consumerLongPollSeconds: number;
  /** The shop's time zone (SHOP_TIME_ZONE): every date in billing's entries is a day of its calendar. */
  readonly shopTimeZone: string;
  /**
   * DATABASE_URL (`postgres://...`): billing's events, feed, read position, parked entries,
   * invoice numbers and payments in PostgreSQL, shared by every instance; unset, all in
   * DATA_DIR's SQLite file.
   */
  readonly databaseUrl: string | undefined;
}

/** Reads billing's configuration once; throws a ConfigError naming every problem. */
export function loadConfig(env: Readonly<Record<string, string | undefined>> = process.env): Readonly<BillingServiceConfig> {
  const r = new EnvReader(env);
  const config: BillingServiceConfig = {
    ...readPublisherConfig(r, { port: 3002, dataDir: './data/billing-service' }),
    orderFeedUrl: r.url('ORDER_FEED_URL', 'http://127.0.0.1:3001/feed'),
    orderFeedToken: r.token('ORDER_FEED_TOKEN'),
    feedAllowedOrigins: r.origins('FEED_ALLOWED_ORIGINS'),
    autoCapture: r.bool('BILLING_AUTO_CAPTURE', false),
    consumerLongPollSeconds: r.int('CONSUMER_LONG_POLL', 30, 0, 600),
    shopTimeZone: readShopTimeZone(r),
    databaseUrl: readDatabaseUrl(r, 'postgres://shop@db.internal:5432/billing', 'billing'),
  };
  r.done();
  return Object.freeze(config);
}
