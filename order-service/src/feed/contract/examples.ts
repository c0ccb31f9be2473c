import { SqliteCommandEngine } from '@shop/common';
import { exampleWorld, renderExamples } from '@shop/common/contract';
import { migrations } from '../../db/migrations.ts';
import { OrderStore } from '../../db/orderStore.ts';
import { parseOrderRequest } from '../../domain/parseOrderRequest.ts';

/**
 * The order feed's contract examples, made by the service's real code (request parser, decider,
 * `toFeedEntry`, feed store and Atom writer) with a fixed clock and fixed ids: three orders that
 * between them show every entry type and every shape a payload takes (physical and digital
 * lines, no address, optional address fields, two currencies, markup in a customer's name).
 * `npm run contracts` writes them to examples.atom.xml; consumers test their readers on that file.
 */

/** The example orders, by what they show. */
export const EXAMPLE_ORDER_IDS = {
  /**
   * Books, an eBook and a mug to London, in pounds: paid, shipped and dispatched downstream, then
   * cancelled half an hour after the dispatch by an order service that had not read it yet (the
   * race: the cancellation stands, shipping says what had already left).
   */
  mixed: 'ORD-7K3M9-Q2XHD',
  /** Mugs to Berlin, in euros, for a customer whose name is markup: paid, then cancelled while still in the warehouse. */
  physical: 'ORD-4F8WN-B2ZQC',
  /** Downloads only, so no address. */
  digital: 'ORD-9D2HP-T6MRE',
} as const;

const BASE_URL = 'http://127.0.0.1:3001';

const PLACED = [
  {
    orderId: EXAMPLE_ORDER_IDS.mixed,
    at: '2025-06-06T10:00:00.000Z',
    body: {
      customer: { name: 'Ada Lovelace', email: 'ada@example.com' },
      currency: 'GBP',
      lines: [
        { sku: 'BOOK-1', name: 'Notes on the Analytical Engine', quantity: 2, unitPrice: '12.50', delivery: 'physical' },
        { sku: 'EBOOK-7', name: 'Sketch of the Engine (eBook)', quantity: 1, unitPrice: '4.99', delivery: 'digital' },
        { sku: 'MUG-3', name: 'Difference Engine mug', quantity: 1, unitPrice: '8.33', delivery: 'physical' },
      ],
      shippingAddress: { line1: '12 St James\'s Square', city: 'London', postalCode: 'SW1Y 4JH', country: 'GB' },
    },
  },
  {
    orderId: EXAMPLE_ORDER_IDS.physical,
    at: '2025-06-06T10:10:00.000Z',
    body: {
      customer: { name: '<script>alert(1)</script> & "Bob"', email: 'bob@example.com' },
      currency: 'EUR',
      lines: [{ sku: 'MUG-3', name: 'Difference Engine mug', quantity: 2, unitPrice: '9.50', delivery: 'physical' }],
      shippingAddress: { line1: 'Unter den Linden 1', line2: 'Hinterhaus, 3. OG', city: 'Berlin', postalCode: '10117', country: 'DE' },
    },
  },
  {
    orderId: EXAMPLE_ORDER_IDS.digital,
    at: '2025-06-06T10:20:00.000Z',
    body: {
      customer: { name: 'Grace Hopper', email: 'grace@example.com' },
      currency: 'GBP',
      lines: [
        { sku: 'EBOOK-7', name: 'Sketch of the Engine (eBook)', quantity: 1, unitPrice: '4.99', delivery: 'digital' },
        { sku: 'AUDIO-2', name: 'Lovelace Lectures (audiobook)', quantity: 1, unitPrice: '6.00', delivery: 'digital' },
      ],
      shippingAddress: null,
    },
  },
] as const;

const CANCELLED = [
  { orderId: EXAMPLE_ORDER_IDS.physical, at: '2025-06-06T11:00:00.000Z', reason: 'Ordered the wrong colour' },
  // Shipping dispatches the mixed order at 13:00 (see its examples); this order service has not read that.
  { orderId: EXAMPLE_ORDER_IDS.mixed, at: '2025-06-06T13:30:00.000Z', reason: null },
];

/** The examples document, byte for byte what `npm run contracts` writes. */
export function orderFeedExamples(): string {
  const world = exampleWorld(migrations, { idDigit: 1, start: '2025-06-06T09:00:00.000Z' });
  const orders = new OrderStore(world.db, new SqliteCommandEngine(world.db, world.feed, { newEventId: world.newId }));
  for (const { orderId, at, body } of PLACED) {
    const parsed = parseOrderRequest(body);
    if (!parsed.ok) throw new Error(`example order ${orderId} is not valid: ${JSON.stringify(parsed.errors)}`);
    world.clock.set(at);
    orders.place({ type: 'PlaceOrder', orderId, at, ...parsed.value });
  }
  for (const c of CANCELLED) {
    world.clock.set(c.at);
    const cancelled = orders.handle({ type: 'CancelOrder', ...c });
    if (!cancelled.ok) throw new Error(`example cancellation refused: ${cancelled.reason}`);
  }
  return renderExamples('order-service', world, BASE_URL);
}
