import type { OrderToFulfil } from './feedContracts.ts';
import type { DigitalDeliveryReady, ShipmentScheduled, ShippingEvent } from './events.ts';

export type ShipmentStatus = 'scheduled' | 'dispatched' | 'cancelled';

/** What shipping knows of one order, from two feeds that may arrive in any order. */
export interface ShippingState {
  readonly order: OrderToFulfil | null;
  readonly paid: { readonly invoiceId: string; readonly paidAt: string } | null;
  readonly cancelled: boolean;
  readonly shipment: (ShipmentScheduled & { readonly status: ShipmentStatus; readonly dispatchedAt: string | null; readonly trackingNumber: string | null; readonly dispatchCarrier: string | null }) | null;
  readonly digital: DigitalDeliveryReady | null;
}

export const initialState: ShippingState = { order: null, paid: null, cancelled: false, shipment: null, digital: null };

export function evolve(s: ShippingState, e: ShippingEvent): ShippingState {
  switch (e.type) {
    case 'OrderNoted':
      return { ...s, order: e.order };
    case 'PaymentNoted':
      return { ...s, paid: { invoiceId: e.invoiceId, paidAt: e.paidAt } };
    case 'CancellationNoted':
      return { ...s, cancelled: true };
    case 'ShipmentScheduled':
      return { ...s, shipment: { ...e, status: 'scheduled', dispatchedAt: null, trackingNumber: null, dispatchCarrier: null } };
    case 'DigitalDeliveryReady':
      return { ...s, digital: e };
    case 'ShipmentDispatched':
      return s.shipment ? { ...s, shipment: { ...s.shipment, status: 'dispatched', dispatchedAt: e.dispatchedAt, trackingNumber: e.trackingNumber, dispatchCarrier: e.carrier } } : s;
    case 'ShipmentCancelled':
      return s.shipment ? { ...s, shipment: { ...s.shipment, status: 'cancelled' } } : s;
    case 'DispatchedBeforeCancellation':
      return s;
    default:
      return assertNever(e);
  }
}

function assertNever(x: never): never {
  throw new Error(`Unexpected ${JSON.stringify(x)}`);
}
