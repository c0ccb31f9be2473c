import type { BillingState } from '../domain/evolve.ts';
import type { Invoice } from '../domain/invoice.ts';
import { formatAmount, minorDigits } from '@shop/common/money';
import { formatRate } from '../domain/money.ts';

/** The JSON an API client sees of an order's invoice and payment. */
export function invoiceView(state: Exclude<BillingState, { status: 'none' }>): Record<string, unknown> {
  const inv = state.invoice;
  const amount = amountOf(inv);
  const payment = state.status === 'paid' || state.status === 'voided' ? state.payment : null;
  return {
    invoiceId: inv.invoiceId,
    orderId: inv.orderId,
    status: state.status,
    issuedAt: inv.issuedAt,
    currency: inv.currency,
    taxCountry: inv.taxCountry,
    lines: inv.lines.map((l) => ({ sku: l.sku, name: l.name, quantity: l.quantity, unitPrice: amount(l.unitPriceMinor), lineTotal: amount(l.netMinor), vatRate: formatRate(l.rate.basisPoints), vat: l.rateLabel })),
    subtotal: amount(inv.netMinor),
    vat: inv.bands.map((b) => ({ label: b.label, rate: formatRate(b.rate.basisPoints), net: amount(b.netMinor), vat: amount(b.vatMinor) })),
    vatTotal: amount(inv.vatMinor),
    total: amount(inv.totalMinor),
    payment: payment ? paymentView(inv, payment) : null,
    ...(state.status === 'voided' ? { voidedAt: state.voidedAt, voidReason: state.reason } : {}),
  };
}

export function paymentView(inv: Invoice, p: { paymentId: string; amountMinor: number; method: { type: string; brand: string; last4: string }; paidAt: string }): Record<string, unknown> {
  return {
    paymentId: p.paymentId,
    orderId: inv.orderId,
    invoiceId: inv.invoiceId,
    amount: amountOf(inv)(p.amountMinor),
    currency: inv.currency,
    paidAt: p.paidAt,
    method: { type: p.method.type, brand: p.method.brand, last4: p.method.last4 },
  };
}

function amountOf(inv: Invoice): (minor: number) => string {
  const digits = minorDigits(inv.currency);
  return (minor) => formatAmount(minor, digits);
}
