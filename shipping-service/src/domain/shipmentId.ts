/**
 * A shipment's id, which customers see in their delivery section and may quote: `SHP-`, the
 * order number without its `ORD-`, and the shipment's number within the order (an order has one
 * shipment today; the suffix leaves room for a parcel split later). `ORD-7K3M9-Q2XHD` ships as
 * `SHP-7K3M9-Q2XHD-1`. Derived, not drawn at random, so it is the same however often the order
 * and its payment are read (a replay, a reset), and unique because order ids are.
 */
export function shipmentIdFor(orderId: string, shipmentNumber = 1): string {
  return `SHP-${orderId.replace(/^ORD-/, '')}-${shipmentNumber}`;
}
