import { el, type Xhtml } from '@shop/common';
import { type CardMethod, type InvoiceVoided, maskedMethod } from '../domain/events.ts';
import type { Invoice } from '../domain/invoice.ts';
import { displayAmount } from '@shop/common/money';
import { formatShopDate } from '@shop/common/time';

/** The invoice as a table: lines with their VAT rate, then the VAT breakdown and the total. */
export function invoiceTable(inv: Invoice, totalLabel: string): Xhtml {
  const money = moneyOf(inv);
  return el('table', { class: 'invoice' },
    el('thead', null, el('tr', null, el('th', null, 'Item'), el('th', null, 'Qty'), el('th', null, 'Unit price'), el('th', null, 'VAT'), el('th', null, 'Amount'))),
    el('tbody', null, inv.lines.map((l) => el('tr', null,
      el('td', null, l.name, ' ', el('small', null, `(${l.sku})`)),
      el('td', null, l.quantity),
      el('td', null, money(l.unitPriceMinor)),
      el('td', null, l.rateLabel),
      el('td', null, money(l.netMinor))))),
    el('tfoot', null,
      el('tr', null, el('th', { colspan: 4 }, 'Subtotal (excluding VAT)'), el('td', null, money(inv.netMinor))),
      inv.bands.map((b) => el('tr', { class: 'vat' }, el('th', { colspan: 4 }, `${b.label} on ${money(b.netMinor)}`), el('td', null, money(b.vatMinor)))),
      el('tr', { class: 'total' }, el('th', { colspan: 4 }, totalLabel), el('td', null, el('strong', null, money(inv.totalMinor))))));
}

/** The same invoice as plain text lines, for text emails and feed readers. */
export function invoiceText(inv: Invoice, totalLabel: string): string[] {
  const money = moneyOf(inv);
  return [
    ...inv.lines.map((l) => `${l.quantity} x ${l.name} (${l.sku}) at ${money(l.unitPriceMinor)} = ${money(l.netMinor)} [${l.rateLabel}]`),
    `Subtotal (excluding VAT): ${money(inv.netMinor)}`,
    ...inv.bands.map((b) => `${b.label} on ${money(b.netMinor)}: ${money(b.vatMinor)}`),
    `${totalLabel}: ${money(inv.totalMinor)}`,
  ];
}

/** The billing section of the confirmation email. */
export function paymentSection(inv: Invoice, method: CardMethod, paidAt: string, shopTimeZone: string): { content: Xhtml; text: string } {
  const when = displayDate(paidAt, inv.locale, shopTimeZone);
  const content = el('div', { class: 'billing-section' },
    el('p', null, 'Invoice ', el('strong', null, inv.invoiceId), ' for order ', el('strong', null, inv.orderId), ', paid in full.'),
    invoiceTable(inv, 'Total paid'),
    el('p', { class: 'payment-method' }, 'Paid with ', maskedMethod(method), ' on ', when, '.'));
  const text = [
    `Invoice ${inv.invoiceId} for order ${inv.orderId}, paid in full.`,
    ...invoiceText(inv, 'Total paid'),
    `Paid with ${maskedMethod(method)} on ${when}.`,
  ].join('\n');
  return { content, text };
}

/** How long a card refund takes to reach the account once issued, as the card schemes put it. */
export const REFUND_WORKING_DAYS = '5 to 10';

/**
 * The refund section of the cancellation email (the InvoiceVoided entry): the invoice voided,
 * and what comes back, to which card and from when; or that nothing was charged.
 */
export function refundSection(inv: Invoice, v: Pick<InvoiceVoided, 'voidedAt' | 'reason' | 'refundMinor' | 'refundMethod'>, shopTimeZone: string): { content: Xhtml; text: string } {
  const when = displayDate(v.voidedAt, inv.locale, shopTimeZone);
  const voided = `Invoice ${inv.invoiceId} for order ${inv.orderId} was voided on ${when}.`;
  const reason = v.reason ? `Reason: ${v.reason}` : null;
  if (v.refundMinor === null) {
    const nothing = 'Nothing was charged, so there is nothing to refund.';
    return {
      content: el('div', { class: 'refund-section' }, el('p', null, voided), reason ? el('p', null, reason) : null, el('p', { class: 'refund' }, nothing)),
      text: [voided, reason, nothing].filter((l) => l !== null).join('\n'),
    };
  }
  const amount = moneyOf(inv)(v.refundMinor);
  const to = v.refundMethod ? maskedMethod(v.refundMethod) : 'the card that paid';
  const arrives = `Refunds usually reach the account within ${REFUND_WORKING_DAYS} working days.`;
  return {
    content: el('div', { class: 'refund-section' },
      el('p', null, voided),
      reason ? el('p', null, reason) : null,
      el('p', { class: 'refund' }, 'A refund of ', el('strong', null, amount), ` to ${to} was issued on ${when}.`),
      el('p', null, arrives)),
    text: [voided, reason, `A refund of ${amount} to ${to} was issued on ${when}.`, arrives].filter((l) => l !== null).join('\n'),
  };
}

export function moneyOf(inv: Invoice): (minor: number) => string {
  return (minor) => displayAmount(minor, inv.currency, inv.locale);
}

/** The day of an instant on the shop's calendar (SHOP_TIME_ZONE), written in the invoice's locale: "11 June 2025". */
export function displayDate(iso: string, locale: string, shopTimeZone: string): string {
  return formatShopDate(iso, shopTimeZone, locale, { dateStyle: 'long' });
}
