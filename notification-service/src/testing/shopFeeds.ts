import { el } from '@shop/common';
import { startTestFeedServer, type TestFeedServer } from '@shop/common/testing';
import { readConfig, type NotificationConfig } from '../config.ts';

/** Real order, billing and shipping feeds on real ports, with entries shaped like the services' contracts. */
export interface ShopFeeds {
  readonly orders: TestFeedServer;
  readonly billing: TestFeedServer;
  readonly shipping: TestFeedServer;
  place(orderId: string, kinds?: readonly ('physical' | 'digital')[], email?: string): void;
  pay(orderId: string): void;
  schedule(orderId: string): void;
  digitalReady(orderId: string): void;
  dispatch(orderId: string): void;
  cancel(orderId: string): void;
  config(dataDir: string, extra?: Record<string, string>): NotificationConfig;
  close(): Promise<void>;
}

export async function startShopFeeds(): Promise<ShopFeeds> {
  const [orders, billing, shipping] = await Promise.all([1, 2, 3].map(() => startTestFeedServer({ pageSize: 3 })));
  const at = '2025-03-01T10:00:00.000Z';
  return {
    orders: orders!, billing: billing!, shipping: shipping!,
    place(orderId, kinds = ['physical'], email = 'ada@example.com') {
      const lines = kinds.map((delivery, i) => ({ sku: `SKU-${i}`, name: delivery === 'digital' ? 'Atom Poems (ebook)' : 'Atom Poems (paperback)', quantity: 1, unitPrice: '12.50', lineTotal: '12.50', delivery }));
      orders!.append({
        type: 'OrderPlaced', orderId, title: `Order ${orderId} placed`,
        summary: lines.map((l) => `${l.quantity} x ${l.name}  ${l.lineTotal} EUR`).join('\n'),
        content: el('table', { class: 'order-lines' }, ...lines.map((l) => el('tr', null, el('td', null, `${l.quantity} × ${l.name}`), el('td', null, `€${l.lineTotal}`)))),
        payload: { orderId, placedAt: at, customer: { name: 'Ada <Lovelace>', email }, currency: 'EUR', lines, subtotal: '12.50', shippingAddress: null },
      });
    },
    pay(orderId) {
      billing!.append({ type: 'PaymentReceived', orderId, title: `Payment for ${orderId}`, summary: `Paid 12.50 EUR by card (invoice INV-${orderId}).`, content: el('p', { class: 'payment' }, 'Paid ', el('strong', null, '€12.50'), ` by card, invoice INV-${orderId}.`), payload: { orderId, invoiceId: `INV-${orderId}`, total: '12.50', currency: 'EUR', paidAt: at } });
    },
    schedule(orderId) {
      shipping!.append({ type: 'ShipmentScheduled', orderId, title: `Shipment for ${orderId}`, summary: 'Ships within 2 working days.', content: el('p', { class: 'shipment' }, 'Ships within ', el('em', null, '2 working days'), '.'), payload: { orderId } });
    },
    digitalReady(orderId) {
      shipping!.append({ type: 'DigitalDeliveryReady', orderId, title: `Downloads for ${orderId}`, summary: 'Download: https://shop.example/dl/abc', content: el('p', { class: 'digital' }, el('a', { href: 'https://shop.example/dl/abc' }, 'Download your ebook')), payload: { orderId } });
    },
    dispatch(orderId) {
      shipping!.append({ type: 'ShipmentDispatched', orderId, title: `Dispatched ${orderId}`, summary: 'Handed to DHL, tracking 00340434.', content: el('p', { class: 'dispatch' }, 'Handed to DHL.'), payload: { orderId, carrier: 'DHL', trackingNumber: '00340434', dispatchedAt: at } });
    },
    cancel(orderId) {
      orders!.append({ type: 'OrderCancelled', orderId, title: `Order ${orderId} cancelled`, summary: 'Cancelled.', content: el('p', null, 'Cancelled.'), payload: { orderId, cancelledAt: at, reason: null } });
    },
    config: (dataDir, extra = {}) => readConfig({
      DATA_DIR: dataDir, ORDER_FEED_URL: orders!.feedUrl, BILLING_FEED_URL: billing!.feedUrl, SHIPPING_FEED_URL: shipping!.feedUrl,
      POLL_SCHEDULE: '100ms', LONG_POLL_SECONDS: '0', RETRY_BASE_MS: '0', MAX_ATTEMPTS: '3', ...extra,
    }),
    close: async () => { await Promise.all([orders!.close(), billing!.close(), shipping!.close()]); },
  };
}
