import type { Invoice } from './invoice.ts';

/** Billing's internal events: private facts, published only through feed/toFeedEntry.ts. */

export const CARD_BRANDS = {
  visa: 'Visa', mastercard: 'Mastercard', amex: 'American Express', discover: 'Discover',
  jcb: 'JCB', unionpay: 'UnionPay', maestro: 'Maestro', diners: 'Diners Club',
} as const;

export type CardBrand = keyof typeof CARD_BRANDS;

/** What billing keeps of a payment method: never more than a card's last four digits. */
export interface CardMethod {
  readonly type: 'card';
  readonly brand: CardBrand;
  readonly last4: string;
}

export interface InvoiceIssued {
  readonly type: 'InvoiceIssued';
  readonly invoice: Invoice;
}

export interface PaymentReceived {
  readonly type: 'PaymentReceived';
  readonly orderId: string;
  readonly invoiceId: string;
  readonly paymentId: string;
  readonly amountMinor: number;
  readonly currency: string;
  readonly method: CardMethod;
  readonly paidAt: string;
}

export interface InvoiceVoided {
  readonly type: 'InvoiceVoided';
  readonly orderId: string;
  readonly invoiceId: string;
  readonly voidedAt: string;
  readonly reason: string | null;
  /** What the customer gets back (the amount paid), or null when nothing was paid. */
  readonly refundMinor: number | null;
  /**
   * Where the refund goes: the card that paid. Absent when nothing was paid, and on events
   * recorded before it existed (only the feed entry, made with the event, reads it).
   */
  readonly refundMethod?: CardMethod;
}

export type BillingEvent = InvoiceIssued | PaymentReceived | InvoiceVoided;

/** "Visa ending 4242". */
export function maskedMethod(m: CardMethod): string {
  return `${CARD_BRANDS[m.brand]} ending ${m.last4}`;
}
