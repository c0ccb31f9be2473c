import { el, type NewFeedEntry, type Projection } from '@shop/common';
import type { BillingEvent, InvoiceIssued, InvoiceVoided, PaymentReceived } from '../domain/events.ts';
import type { BillingState } from '../domain/evolve.ts';
import type { Invoice } from '../domain/invoice.ts';
import { formatAmount, minorDigits } from '@shop/common/money';
import { formatRate } from '../domain/money.ts';
import { invoiceTable, invoiceText, moneyOf, paymentSection, refundSection } from './billingSection.ts';

/** Every event type the billing feed can carry (its AtomPub categories). */
export const BILLING_FEED_TYPES = ['InvoiceIssued', 'PaymentReceived', 'InvoiceVoided'] as const;

/** The billing feed's projection: every billing event is published, keyed by its event id. */
export function billingProjection(shopTimeZone: string): Projection<BillingState, BillingEvent> {
  return (event, { eventId, state }) => {
    if (state.status === 'none') throw new Error('A billing event left the order without an invoice');
    return toFeedEntry(event, eventId, state.invoice, shopTimeZone);
  };
}

/**
 * The public face of a billing event: billing feed entry contract v1 (see the README). Pure:
 * the same event, key, invoice and shop time zone (whose calendar day every date is) always give
 * the same entry.
 */
export function toFeedEntry(event: BillingEvent, key: string, invoice: Invoice, shopTimeZone: string): NewFeedEntry {
  switch (event.type) {
    case 'InvoiceIssued':
      return issuedEntry(event, key);
    case 'PaymentReceived':
      return paidEntry(event, key, invoice, shopTimeZone);
    case 'InvoiceVoided':
      return voidedEntry(event, key, invoice, shopTimeZone);
    default:
      return assertNever(event);
  }
}

function issuedEntry({ invoice: inv }: InvoiceIssued, key: string): NewFeedEntry {
  return {
    key,
    type: 'InvoiceIssued',
    typeLabel: 'Invoice issued',
    title: `Invoice ${inv.invoiceId} issued for order ${inv.orderId}`,
    orderId: inv.orderId,
    summary: [`Invoice ${inv.invoiceId} for order ${inv.orderId}, issued to ${inv.customer.name}.`, ...invoiceText(inv, 'Total due')].join('\n'),
    content: el('div', { class: 'invoice-issued' },
      el('p', null, 'Invoice ', el('strong', null, inv.invoiceId), ' for order ', el('strong', null, inv.orderId), ', issued to ', inv.customer.name, '.'),
      invoiceTable(inv, 'Total due')),
    payload: { ...invoicePayload(inv), issuedAt: inv.issuedAt },
  };
}

function paidEntry(e: PaymentReceived, key: string, inv: Invoice, shopTimeZone: string): NewFeedEntry {
  const section = paymentSection(inv, e.method, e.paidAt, shopTimeZone);
  return {
    key,
    type: 'PaymentReceived',
    typeLabel: 'Payment received',
    title: `Payment received for order ${e.orderId}: ${moneyOf(inv)(e.amountMinor)}`,
    orderId: e.orderId,
    summary: section.text,
    content: section.content,
    payload: {
      ...invoicePayload(inv),
      paymentId: e.paymentId,
      paidAt: e.paidAt,
      amountPaid: formatAmount(e.amountMinor, minorDigits(e.currency)),
      method: { type: e.method.type, brand: e.method.brand, last4: e.method.last4 },
    },
  };
}

/** The refund section of the cancellation email; `refund` stays the amount alone, as v1.0 published it. */
function voidedEntry(e: InvoiceVoided, key: string, inv: Invoice, shopTimeZone: string): NewFeedEntry {
  const section = refundSection(inv, e, shopTimeZone);
  const refund = e.refundMinor === null ? null : formatAmount(e.refundMinor, minorDigits(inv.currency));
  return {
    key,
    type: 'InvoiceVoided',
    typeLabel: 'Invoice voided',
    title: `Invoice ${e.invoiceId} voided for order ${e.orderId}`,
    orderId: e.orderId,
    summary: section.text,
    content: section.content,
    payload: {
      orderId: e.orderId, invoiceId: e.invoiceId, voidedAt: e.voidedAt, reason: e.reason, currency: inv.currency,
      refund,
      refundDetails: refund === null ? null : {
        amount: refund, currency: inv.currency, issuedAt: e.voidedAt,
        method: e.refundMethod ? { type: e.refundMethod.type, brand: e.refundMethod.brand, last4: e.refundMethod.last4 } : null,
      },
    },
  };
}

function invoicePayload(inv: Invoice): Record<string, unknown> {
  const amount = (minor: number): string => formatAmount(minor, minorDigits(inv.currency));
  return {
    orderId: inv.orderId,
    invoiceId: inv.invoiceId,
    currency: inv.currency,
    taxCountry: inv.taxCountry,
    lines: inv.lines.map((l) => ({
      sku: l.sku, name: l.name, quantity: l.quantity, unitPrice: amount(l.unitPriceMinor), lineTotal: amount(l.netMinor),
      taxCategory: l.taxCategory, vatRate: formatRate(l.rate.basisPoints), vatTreatment: l.rate.treatment,
    })),
    subtotal: amount(inv.netMinor),
    vat: inv.bands.map((b) => ({ label: b.label, rate: formatRate(b.rate.basisPoints), net: amount(b.netMinor), vat: amount(b.vatMinor) })),
    vatTotal: amount(inv.vatMinor),
    total: amount(inv.totalMinor),
  };
}

function assertNever(x: never): never {
  throw new Error(`Unexpected ${JSON.stringify(x)}`);
}
