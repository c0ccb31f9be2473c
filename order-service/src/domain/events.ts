/** The order service's internal events: private facts, never published as they are. */

export type Delivery = 'physical' | 'digital';

export interface OrderLine {
  readonly sku: string;
  readonly name: string;
  readonly quantity: number;
  /** Minor units of the order's currency. */
  readonly unitPriceMinor: number;
  readonly delivery: Delivery;
}

export interface Address {
  readonly line1: string;
  readonly line2?: string;
  readonly city: string;
  readonly region?: string;
  readonly postalCode: string;
  /** ISO 3166-1 alpha-2. */
  readonly country: string;
}

export interface Customer {
  readonly name: string;
  readonly email: string;
}

export interface OrderPlaced {
  readonly type: 'OrderPlaced';
  readonly orderId: string;
  readonly placedAt: string;
  readonly customer: Customer;
  readonly currency: string;
  readonly lines: readonly OrderLine[];
  readonly shippingAddress: Address | null;
}

export interface OrderCancelled {
  readonly type: 'OrderCancelled';
  readonly orderId: string;
  readonly cancelledAt: string;
  readonly reason: string | null;
}

/** What shipping did that ends the right to cancel: the parcel left, or the download links were given. */
export type FulfilmentPart = 'dispatched' | 'downloads-delivered';

/**
 * Read from the shipping feed (`ShipmentDispatched`, `DigitalDeliveryReady`): private, never
 * published, because shipping's own entry is already the public fact and a copy here could only
 * be later and could disagree. The cancel decider looks at it.
 */
export interface OrderFulfilmentNoted {
  readonly type: 'OrderFulfilmentNoted';
  readonly orderId: string;
  readonly part: FulfilmentPart;
  /** When it happened, as shipping published it (`dispatchedAt`, `readyAt`). */
  readonly happenedAt: string;
}

/** The events the order feed publishes (see feed/toFeedEntry.ts). */
export type PublishedOrderEvent = OrderPlaced | OrderCancelled;

export type OrderEvent = PublishedOrderEvent | OrderFulfilmentNoted;
