import type { Address } from './addressFormat.ts';
import type { CivilDate } from './calendar.ts';
import type { OrderToFulfil } from './feedContracts.ts';

/** Shipping's internal events. All but the first three become feed entries (see feed/toFeedEntry.ts). */

export interface Item { readonly sku: string; readonly name: string; readonly quantity: number }

export interface OrderNoted { readonly type: 'OrderNoted'; readonly order: OrderToFulfil }
export interface PaymentNoted { readonly type: 'PaymentNoted'; readonly orderId: string; readonly invoiceId: string; readonly paidAt: string }
export interface CancellationNoted { readonly type: 'CancellationNoted'; readonly orderId: string; readonly cancelledAt: string; readonly reason: string | null }

export interface ShipmentScheduled {
  readonly type: 'ShipmentScheduled';
  readonly orderId: string;
  readonly shipmentId: string;
  readonly scheduledAt: string;
  readonly recipient: string;
  readonly address: Address;
  readonly items: readonly Item[];
  readonly carrier: string;
  readonly service: string;
  readonly dispatchDate: CivilDate;
  readonly estimatedDelivery: CivilDate;
}

/** A download delivered. Links are signed now (see downloads/downloadLinks.ts); those given before carried a random token. */
export interface Download extends Item { readonly token?: string }

export interface DigitalDeliveryReady {
  readonly type: 'DigitalDeliveryReady';
  readonly orderId: string;
  readonly readyAt: string;
  /** When the links stop working: the shop's midnight ending the last day the email promises (before signed links, readyAt + 30 days). */
  readonly expiresAt: string;
  readonly downloads: readonly Download[];
}

export interface ShipmentDispatched {
  readonly type: 'ShipmentDispatched';
  readonly orderId: string;
  readonly shipmentId: string;
  readonly dispatchedAt: string;
  readonly carrier: string | null;
  readonly trackingNumber: string | null;
}

export interface ShipmentCancelled {
  readonly type: 'ShipmentCancelled';
  readonly orderId: string;
  readonly shipmentId: string;
  readonly cancelledAt: string;
  readonly reason: string | null;
}

/**
 * A cancellation read after the goods had left: the parcel was dispatched, or the download links
 * given, before shipping read the order's cancellation (the order service accepted it before it
 * read that). Published, so the customer is told what to do with what they receive.
 */
export interface DispatchedBeforeCancellation {
  readonly type: 'DispatchedBeforeCancellation';
  readonly orderId: string;
  /** When the order was cancelled (the order feed's `cancelledAt`). */
  readonly cancelledAt: string;
  /** When shipping read the cancellation. */
  readonly notedAt: string;
  /** The parcel already with the carrier, if any. */
  readonly shipment: { readonly shipmentId: string; readonly dispatchedAt: string } | null;
  /** When the download links were given, if the order had any. */
  readonly downloadsReadyAt: string | null;
}

export type ShippingEvent = OrderNoted | PaymentNoted | CancellationNoted | ShipmentScheduled | DigitalDeliveryReady | ShipmentDispatched | ShipmentCancelled | DispatchedBeforeCancellation;
