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

export type OrderEvent = OrderPlaced | OrderCancelled;
