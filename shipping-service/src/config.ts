import { EnvReader, type PublisherConfig, readDatabaseUrl, readPublisherConfig, readShopTimeZone } from '@shop/common';

export interface ShippingServiceConfig extends PublisherConfig {
  readonly orderFeedUrl: string;
  readonly orderFeedToken: string | undefined;
  readonly billingFeedUrl: string;
  readonly billingFeedToken: string | undefined;
  /**
   * Origins other than a feed URL's own that its redirects and paging links may lead to, fetched
   * without the feed token (FEED_ALLOWED_ORIGINS, comma-separated); any other origin is refused.
   */
  readonly feedAllowedOrigins: readonly string[];
  /** SHIPPING_AUTO_DISPATCH=1 dispatches every scheduled shipment by itself, for demos. */
  readonly autoDispatch: boolean;
  /** How long after scheduling an automatic dispatch happens (SHIPPING_AUTO_DISPATCH_DELAY, seconds). */
  readonly autoDispatchDelaySeconds: number;
  /** How long one poll of a feed may wait for news (CONSUMER_LONG_POLL, seconds). */
  readonly consumerLongPollSeconds: number;
  /** The shop's time zone (SHOP_TIME_ZONE): dispatch cut-off, working days and every date customers see. */
  readonly shopTimeZone: string;
  /**
   * Signs download links (DOWNLOAD_LINK_SECRET, at least 16 characters); unset, one is generated
   * and kept in shipping's database. Every process that serves the same links must share it.
   */
  readonly downloadLinkSecret: string | undefined;
  /**
   * DATABASE_URL (`postgres://...`): shipping's events, feed, read positions, parked entries,
   * shipments, downloads and settings in PostgreSQL, shared by every instance; unset, all in
   * DATA_DIR's SQLite file.
   */
  readonly databaseUrl: string | undefined;
}

/** Reads shipping's configuration once; throws a ConfigError naming every problem. */
export function loadConfig(env: Readonly<Record<string, string | undefined>> = process.env): Readonly<ShippingServiceConfig> {
  const r = new EnvReader(env);
  const config: ShippingServiceConfig = {
    ...readPublisherConfig(r, { port: 3003, dataDir: './data/shipping-service' }),
    orderFeedUrl: r.url('ORDER_FEED_URL', 'http://127.0.0.1:3001/feed'),
    orderFeedToken: r.token('ORDER_FEED_TOKEN'),
    billingFeedUrl: r.url('BILLING_FEED_URL', 'http://127.0.0.1:3002/feed'),
    billingFeedToken: r.token('BILLING_FEED_TOKEN'),
    feedAllowedOrigins: r.origins('FEED_ALLOWED_ORIGINS'),
    autoDispatch: r.bool('SHIPPING_AUTO_DISPATCH', false),
    autoDispatchDelaySeconds: r.int('SHIPPING_AUTO_DISPATCH_DELAY', 10, 0, 86_400),
    consumerLongPollSeconds: r.int('CONSUMER_LONG_POLL', 30, 0, 600),
    shopTimeZone: readShopTimeZone(r),
    downloadLinkSecret: r.token('DOWNLOAD_LINK_SECRET'),
    databaseUrl: readDatabaseUrl(r, 'postgres://shop@db.internal:5432/shipping', 'shipping'),
  };
  r.done();
  return Object.freeze(config);
}
