import { el, type NewFeedEntry, type Projection } from '@shop/common';
import type { Address, OrderCancelled, OrderEvent, OrderPlaced, PublishedOrderEvent } from '../domain/events.ts';
import { displayAmount, formatAmount, minorDigits } from '@shop/common/money';
import { type Order, orderTotalMinor } from '../domain/order.ts';

/** Every event type the order feed can carry (its AtomPub categories). */
export const ORDER_FEED_TYPES = ['OrderPlaced', 'OrderCancelled'] as const;

/** Whether an internal event has a public entry (OrderFulfilmentNoted stays private). */
export function isPublished(event: OrderEvent): event is PublishedOrderEvent {
  return event.type !== 'OrderFulfilmentNoted';
}

/** The order feed's projection: each published event's entry, keyed by its event id. */
export const orderProjection: Projection<Order, OrderEvent> = (event, { eventId, state }) => {
  if (state.status === 'none') throw new Error('An event left the order without a placement');
  return isPublished(event) ? toFeedEntry(event, eventId, state.placed) : null;
};

/**
 * The public face of an internal event: order feed entry contract v1 (see the README).
 * Pure: the same event and id always give the same entry.
 */
export function toFeedEntry(event: PublishedOrderEvent, eventId: string, placed: OrderPlaced): NewFeedEntry {
  switch (event.type) {
    case 'OrderPlaced':
      return placedEntry(event, eventId);
    case 'OrderCancelled':
      return cancelledEntry(event, eventId, placed);
    default:
      return assertNever(event);
  }
}

function placedEntry(o: OrderPlaced, key: string): NewFeedEntry {
  const digits = minorDigits(o.currency);
  const money = (minor: number): string => displayAmount(minor, o.currency);
  const subtotal = orderTotalMinor(o.lines);
  const content = el('div', { class: 'order-placed' },
    el('p', null, 'Order ', el('strong', null, o.orderId), ' placed by ', o.customer.name, '.'),
    el('table', { class: 'order-lines' },
      el('thead', null, el('tr', null, el('th', null, 'Item'), el('th', null, 'Qty'), el('th', null, 'Unit price'), el('th', null, 'Total'))),
      el('tbody', null, o.lines.map((l) => el('tr', null,
        el('td', null, l.name, ' ', el('small', null, `(${l.sku}${l.delivery === 'digital' ? ', download' : ''})`)),
        el('td', null, l.quantity), el('td', null, money(l.unitPriceMinor)), el('td', null, money(l.quantity * l.unitPriceMinor))))),
      el('tfoot', null, el('tr', null, el('th', { colspan: 3 }, 'Subtotal'), el('td', null, money(subtotal))))),
    o.shippingAddress ? el('p', { class: 'ship-to' }, 'Ship to: ', addressLine(o.shippingAddress)) : null,
  );
  const summary = [
    `Order ${o.orderId} placed by ${o.customer.name}`,
    ...o.lines.map((l) => `${l.quantity} x ${l.name} (${l.sku}) at ${money(l.unitPriceMinor)} = ${money(l.quantity * l.unitPriceMinor)}`),
    `Subtotal: ${money(subtotal)}`,
    ...(o.shippingAddress ? [`Ship to: ${addressLine(o.shippingAddress)}`] : []),
  ].join('\n');
  return {
    key,
    type: 'OrderPlaced',
    typeLabel: 'Order placed',
    title: `Order ${o.orderId} placed`,
    orderId: o.orderId,
    summary,
    content,
    payload: {
      orderId: o.orderId,
      placedAt: o.placedAt,
      customer: { name: o.customer.name, email: o.customer.email },
      currency: o.currency,
      lines: o.lines.map((l) => ({
        sku: l.sku, name: l.name, quantity: l.quantity,
        unitPrice: formatAmount(l.unitPriceMinor, digits), lineTotal: formatAmount(l.quantity * l.unitPriceMinor, digits), delivery: l.delivery,
      })),
      subtotal: formatAmount(subtotal, digits),
      shippingAddress: o.shippingAddress,
    },
  };
}

function cancelledEntry(c: OrderCancelled, key: string, placed: OrderPlaced): NewFeedEntry {
  const because = c.reason ? ` Reason: ${c.reason}` : '';
  return {
    key,
    type: 'OrderCancelled',
    typeLabel: 'Order cancelled',
    title: `Order ${c.orderId} cancelled`,
    orderId: c.orderId,
    summary: `Order ${c.orderId} (placed by ${placed.customer.name}) was cancelled.${because}`,
    content: el('div', { class: 'order-cancelled' },
      el('p', null, 'Order ', el('strong', null, c.orderId), ' was cancelled.'),
      c.reason ? el('p', null, 'Reason: ', c.reason) : null),
    payload: { orderId: c.orderId, cancelledAt: c.cancelledAt, reason: c.reason },
  };
}

function addressLine(a: Address): string {
  return [a.line1, a.line2, a.city, a.region, a.postalCode, a.country].filter(Boolean).join(', ');
}

function assertNever(x: never): never {
  throw new Error(`Unexpected ${JSON.stringify(x)}`);
}
