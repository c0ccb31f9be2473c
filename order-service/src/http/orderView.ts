import type { Order } from '../domain/order.ts';
import { firstFulfilment, orderTotalMinor } from '../domain/order.ts';
import { formatAmount, minorDigits } from '@shop/common/money';

/** The JSON an API client sees for an order: amounts as decimal strings, never floats. */
export function orderView(order: Order): Record<string, unknown> {
  if (order.status === 'none') throw new Error('no order to show');
  const o = order.placed;
  const digits = minorDigits(o.currency);
  return {
    id: o.orderId,
    status: order.status,
    placedAt: o.placedAt,
    ...(order.status === 'cancelled' ? { cancelledAt: order.cancelled.cancelledAt, cancelReason: order.cancelled.reason } : {}),
    // As far as the order service has read shipping's feed (see "Cancellation" in the README).
    dispatchedAt: order.fulfilment.dispatchedAt,
    downloadsDeliveredAt: order.fulfilment.downloadsDeliveredAt,
    cancellable: order.status === 'placed' && firstFulfilment(order.fulfilment) === undefined,
    customer: o.customer,
    currency: o.currency,
    lines: o.lines.map((l) => ({
      sku: l.sku, name: l.name, quantity: l.quantity, delivery: l.delivery,
      unitPrice: formatAmount(l.unitPriceMinor, digits), lineTotal: formatAmount(l.quantity * l.unitPriceMinor, digits),
    })),
    subtotal: formatAmount(orderTotalMinor(o.lines), digits),
    shippingAddress: o.shippingAddress,
    links: { self: `/orders/${o.orderId}`, cancel: `/orders/${o.orderId}/cancel`, feed: '/feed' },
  };
}
