import type { ConsumedEntry, StoredFeedEntry } from '@shop/common';
import { type Producer, readExamples } from '@shop/common/contract';
import { exampleEntryFor, startTestFeedServer, type TestFeedServer } from '@shop/common/testing';
import { readConfig, type NotificationConfig } from '../config.ts';

type Kind = 'physical' | 'digital';

/**
 * Real order, billing and shipping feeds on real ports, carrying what the services really
 * publish: their contract examples (`<service>/src/feed/contract/examples.atom.xml`, made by
 * their code), re-addressed to each test's order ids. A test order takes after the example
 * order with the same kinds of lines; its payment, shipment and downloads come from that
 * example order too (or, when it has none of that type, from the first example that has one).
 */
export interface ShopFeeds {
  readonly orders: TestFeedServer;
  readonly billing: TestFeedServer;
  readonly shipping: TestFeedServer;
  place(orderId: string, kinds?: readonly Kind[], email?: string): StoredFeedEntry;
  pay(orderId: string): StoredFeedEntry;
  schedule(orderId: string): StoredFeedEntry;
  digitalReady(orderId: string): StoredFeedEntry;
  dispatch(orderId: string): StoredFeedEntry;
  cancel(orderId: string): StoredFeedEntry;
  /** The entry of this type last appended for the order: what its email's section must show. */
  entry(orderId: string, type: string): StoredFeedEntry;
  config(dataDir: string, extra?: Record<string, string>): NotificationConfig;
  /** Replaces the order feed by a new, empty one at the same URL (a producer whose feed was rebuilt: a new feed id, positions from 1). */
  restartOrders(): Promise<void>;
  close(): Promise<void>;
}

/** `pageSize`: entries per feed page; 3 (many pages from a few entries) unless a caller appends thousands. */
export async function startShopFeeds(pageSize = 3): Promise<ShopFeeds> {
  const [orders, billing, shipping] = await Promise.all([1, 2, 3].map(() => startTestFeedServer({ pageSize }))) as [TestFeedServer, TestFeedServer, TestFeedServer];
  const examples: Record<Producer, readonly ConsumedEntry[]> = {
    'order-service': readExamples('order-service'),
    'billing-service': readExamples('billing-service'),
    'shipping-service': readExamples('shipping-service'),
  };
  const feedOf: Record<Producer, TestFeedServer> = { 'order-service': orders, 'billing-service': billing, 'shipping-service': shipping };
  /** Test order id -> the example order it takes after. */
  const exampleOrder = new Map<string, string>();
  const appended = new Map<string, StoredFeedEntry>();

  const example = (service: Producer, type: string, orderId: string): ConsumedEntry => {
    const ofType = examples[service].filter((e) => e.type === type);
    const found = ofType.find((e) => e.orderId === exampleOrder.get(orderId)) ?? ofType[0];
    if (!found) throw new Error(`the ${service} contract examples have no ${type}`);
    return found;
  };
  const publish = (service: Producer, type: string, orderId: string, payload: Record<string, unknown> = {}): StoredFeedEntry => {
    const stored = feedOf[service].append(exampleEntryFor(example(service, type, orderId), orderId, payload));
    appended.set(`${orderId} ${type}`, stored);
    return stored;
  };

  return {
    get orders() { return feedOf['order-service']; },
    billing, shipping,
    place(orderId, kinds = ['physical'], email) {
      const wanted = [...new Set(kinds)].sort().join();
      const placed = examples['order-service'].find((e) => e.type === 'OrderPlaced' && linesKinds(e) === wanted);
      if (!placed) throw new Error(`the order service's contract examples have no order with ${wanted} lines`);
      exampleOrder.set(orderId, placed.orderId);
      const customer = placed.payload['customer'] as Record<string, unknown>;
      return publish('order-service', 'OrderPlaced', orderId, email === undefined ? {} : { customer: { ...customer, email } });
    },
    pay: (orderId) => publish('billing-service', 'PaymentReceived', orderId),
    schedule: (orderId) => publish('shipping-service', 'ShipmentScheduled', orderId),
    digitalReady: (orderId) => publish('shipping-service', 'DigitalDeliveryReady', orderId),
    dispatch: (orderId) => publish('shipping-service', 'ShipmentDispatched', orderId),
    cancel: (orderId) => publish('order-service', 'OrderCancelled', orderId),
    entry(orderId, type) {
      const e = appended.get(`${orderId} ${type}`);
      if (!e) throw new Error(`no ${type} was appended for ${orderId}`);
      return e;
    },
    config: (dataDir, extra = {}) => readConfig({
      DATA_DIR: dataDir, ORDER_FEED_URL: orders.feedUrl, BILLING_FEED_URL: billing.feedUrl, SHIPPING_FEED_URL: shipping.feedUrl,
      POLL_SCHEDULE: '100ms', LONG_POLL_SECONDS: '0', RETRY_BASE_MS: '0', MAX_ATTEMPTS: '3', ...extra,
    }),
    async restartOrders() {
      const old = feedOf['order-service'];
      await old.close();
      feedOf['order-service'] = await startTestFeedServer({ pageSize, port: Number(new URL(old.url).port) });
    },
    close: async () => { await Promise.all([feedOf['order-service'].close(), billing.close(), shipping.close()]); },
  };
}

/** The kinds of delivery an OrderPlaced's lines have, sorted and joined: `digital,physical`. */
function linesKinds(e: ConsumedEntry): string {
  const lines = Array.isArray(e.payload['lines']) ? e.payload['lines'] as { delivery?: unknown }[] : [];
  return [...new Set(lines.map((l) => String(l.delivery)))].sort().join();
}
