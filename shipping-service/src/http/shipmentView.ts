import type { ShippingState } from '../domain/evolve.ts';

/** The JSON an API client sees of one order's fulfilment. */
export function shipmentView(orderId: string, s: ShippingState): Record<string, unknown> {
  const sh = s.shipment;
  return {
    orderId,
    orderKnown: s.order !== null,
    paid: s.paid !== null,
    cancelled: s.cancelled,
    shipment: sh ? {
      shipmentId: sh.shipmentId, status: sh.status, scheduledAt: sh.scheduledAt, carrier: sh.dispatchCarrier ?? sh.carrier, service: sh.service,
      dispatchDate: sh.dispatchDate, estimatedDelivery: sh.estimatedDelivery, dispatchedAt: sh.dispatchedAt, trackingNumber: sh.trackingNumber, items: sh.items,
    } : null,
    digital: s.digital ? { readyAt: s.digital.readyAt, expiresAt: s.digital.expiresAt, items: s.digital.downloads.map(({ token: _t, ...d }) => d) } : null,
  };
}
