import { EnvReader, type PublisherConfig, readDatabaseUrl, readPublisherConfig, readShopTimeZone } from '@shop/common';
import { isCountryCode, meantCountryCode } from './domain/countryCodes.ts';
import { DEFAULT_SHIP_TO_COUNTRIES } from './domain/shipToCountries.ts';

export interface OrderServiceConfig extends PublisherConfig {
  /** The shipping feed, read to learn when an order's goods left (SHIPPING_FEED_URL). */
  readonly shippingFeedUrl: string;
  /** Bearer token for the shipping feed, when it is protected (SHIPPING_FEED_TOKEN). */
  readonly shippingFeedToken: string | undefined;
  /**
   * Origins other than the feed URL's own that its redirects and paging links may lead to, fetched
   * without the feed token (FEED_ALLOWED_ORIGINS, comma-separated); any other origin is refused.
   */
  readonly feedAllowedOrigins: readonly string[];
  /** How long one poll of the shipping feed may wait for news (CONSUMER_LONG_POLL, seconds). */
  readonly consumerLongPollSeconds: number;
  /** The shop's calendar (SHOP_TIME_ZONE), in which a refused cancellation says when the goods left. */
  readonly shopTimeZone: string;
  /** The countries the shop sells to (SHIP_TO_COUNTRIES): an order to any other is refused. */
  readonly shipToCountries: readonly string[];
  /**
   * DATABASE_URL (`postgres://...`): the orders, the feed, archive renditions and idempotency
   * keys in PostgreSQL, shared by every instance; unset, all in DATA_DIR's SQLite file.
   */
  readonly databaseUrl: string | undefined;
}

/** Reads the order service's configuration once; throws a ConfigError naming every problem. */
export function loadConfig(env: Readonly<Record<string, string | undefined>> = process.env): Readonly<OrderServiceConfig> {
  const r = new EnvReader(env);
  const config: OrderServiceConfig = {
    ...readPublisherConfig(r, { port: 3001, dataDir: './data/order-service' }),
    shippingFeedUrl: r.url('SHIPPING_FEED_URL', 'http://127.0.0.1:3003/feed'),
    shippingFeedToken: r.token('SHIPPING_FEED_TOKEN'),
    feedAllowedOrigins: r.origins('FEED_ALLOWED_ORIGINS'),
    consumerLongPollSeconds: r.int('CONSUMER_LONG_POLL', 30, 0, 600),
    shopTimeZone: readShopTimeZone(r),
    shipToCountries: readShipToCountries(r),
    databaseUrl: readDatabaseUrl(r, 'postgres://shop@db.internal:5432/orders', 'the orders'),
  };
  r.done();
  return Object.freeze(config);
}

/** SHIP_TO_COUNTRIES: comma-separated ISO 3166-1 alpha-2 codes, in any case; unset, the default list. */
function readShipToCountries(r: EnvReader): readonly string[] {
  const raw = r.optional('SHIP_TO_COUNTRIES');
  if (raw === undefined) return DEFAULT_SHIP_TO_COUNTRIES;
  const items = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const bad = items.filter((s) => !isCountryCode(s.toUpperCase()));
  if (bad.length > 0) {
    const named = bad.map((s) => { const meant = meantCountryCode(s); return meant ? `"${s}" (${meant}?)` : `"${s}"`; });
    r.problem(`SHIP_TO_COUNTRIES must be ISO 3166-1 alpha-2 country codes separated by commas, such as GB,FR,US; not country codes: ${named.join(', ')}`);
  } else if (items.length === 0) {
    r.problem('SHIP_TO_COUNTRIES must name at least one country, such as GB');
  }
  return Object.freeze([...new Set(items.map((s) => s.toUpperCase()))]);
}
