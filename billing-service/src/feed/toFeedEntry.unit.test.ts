import { expect } from 'chai';
import { XMLValidator } from 'fast-xml-parser';
import type { NewFeedEntry } from '@shop/common';
import { decide } from '../domain/decide.ts';
import type { BillingEvent } from '../domain/events.ts';
import type { Invoice } from '../domain/invoice.ts';
import { parseOrderPlaced } from '../domain/orderContract.ts';
import { orderPlacedPayload } from '../testing/orderExamples.ts';
import { toFeedEntry } from './toFeedEntry.ts';

const AT = '2025-06-06T10:05:00.000Z';
const LONDON = 'Europe/London';

function invoiceFor(over: Record<string, unknown> = {}): Invoice {
  const parsed = parseOrderPlaced(orderPlacedPayload('ORD-AAAAA-BBBBB', over));
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  const d = decide({ type: 'IssueInvoice', order: parsed.value, invoiceId: 'INV-000007', at: AT }, { status: 'none' });
  if (!d.ok || d.events[0]?.type !== 'InvoiceIssued') throw new Error('not issued');
  return d.events[0].invoice;
}

const paid = (inv: Invoice, paidAt = AT): BillingEvent => ({
  type: 'PaymentReceived', orderId: inv.orderId, invoiceId: inv.invoiceId, paymentId: 'PAY-1', amountMinor: inv.totalMinor,
  currency: inv.currency, method: { type: 'card', brand: 'mastercard', last4: '0005' }, paidAt,
});

function wellFormed(entry: NewFeedEntry): void {
  expect(XMLValidator.validate(`<div xmlns="http://www.w3.org/1999/xhtml">${entry.content.toString()}</div>`)).to.equal(true);
}

describe('The billing feed entry (contract v1)', () => {
  it('publishes PaymentReceived with the email\'s billing section: lines, VAT breakdown, total paid, masked card', () => {
    const inv = invoiceFor();
    const entry = toFeedEntry(paid(inv), 'k-1', inv, LONDON);
    const html = entry.content.toString();
    expect(entry).to.deep.include({ key: 'k-1', type: 'PaymentReceived', orderId: 'ORD-AAAAA-BBBBB', title: 'Payment received for order ORD-AAAAA-BBBBB: £39.99' });
    expect(html).to.include('Notes on the Analytical Engine').and.include('£25.00').and.include('VAT 20% on £8.33').and.include('£1.67')
      .and.include('Total paid').and.include('£39.99').and.include('Mastercard ending 0005').and.include('6 June 2025');
    expect(entry.summary.split('\n')).to.include.members(['VAT 20% on £8.33: £1.67', 'VAT 0% (zero-rated) on £29.99: £0.00', 'Total paid: £39.99', 'Paid with Mastercard ending 0005 on 6 June 2025.']);
    expect(entry.payload).to.deep.include({ orderId: 'ORD-AAAAA-BBBBB', invoiceId: 'INV-000007', total: '39.99', currency: 'GBP', paidAt: AT, subtotal: '38.32', vatTotal: '1.67' });
    expect(entry.payload['method']).to.deep.equal({ type: 'card', brand: 'mastercard', last4: '0005' });
    wellFormed(entry);
  });

  it('formats amounts and dates in the customer\'s locale', () => {
    const inv = invoiceFor({ currency: 'EUR', shippingAddress: { line1: 'Unter den Linden 1', city: 'Berlin', postalCode: '10117', country: 'DE' } });
    const entry = toFeedEntry(paid(inv), 'k-2', inv, LONDON);
    expect(entry.summary).to.include('Total paid: 42,00\u00a0€').and.include('VAT 7% (DE) on 29,99\u00a0€: 2,10\u00a0€');
    expect(entry.summary).to.include('6. Juni 2025');
    expect(entry.payload['total']).to.equal('42.00');
  });

  it('publishes InvoiceIssued with the total due and InvoiceVoided with the refund', () => {
    const inv = invoiceFor();
    const issued = toFeedEntry({ type: 'InvoiceIssued', invoice: inv }, 'k-3', inv, LONDON);
    expect(issued.summary).to.include('Total due: £39.99');
    expect(issued.payload).to.deep.include({ invoiceId: 'INV-000007', total: '39.99', issuedAt: AT });
    const voided = toFeedEntry({
      type: 'InvoiceVoided', orderId: inv.orderId, invoiceId: inv.invoiceId, voidedAt: AT, reason: 'Too slow', refundMinor: 3999,
      refundMethod: { type: 'card', brand: 'visa', last4: '4242' },
    }, 'k-4', inv, LONDON);
    wellFormed(issued);
    wellFormed(voided);
  });

  it('publishes InvoiceVoided with the refund section of the cancellation email: amount, card, when', () => {
    const inv = invoiceFor();
    const voided = toFeedEntry({
      type: 'InvoiceVoided', orderId: inv.orderId, invoiceId: inv.invoiceId, voidedAt: AT, reason: 'Too slow', refundMinor: 3999,
      refundMethod: { type: 'card', brand: 'visa', last4: '4242' },
    }, 'k-4', inv, LONDON);
    expect(voided.summary.split('\n')).to.deep.equal([
      'Invoice INV-000007 for order ORD-AAAAA-BBBBB was voided on 6 June 2025.',
      'Reason: Too slow',
      'A refund of £39.99 to Visa ending 4242 was issued on 6 June 2025.',
      'Refunds usually reach the account within 5 to 10 working days.',
    ]);
    expect(voided.content.toString()).to.include('A refund of <strong>£39.99</strong> to Visa ending 4242 was issued on 6 June 2025.');
    // `refund` stays the amount, as contract 1.0 published it; the details are an addition.
    expect(voided.payload).to.deep.equal({
      orderId: inv.orderId, invoiceId: 'INV-000007', voidedAt: AT, reason: 'Too slow', currency: 'GBP', refund: '39.99',
      refundDetails: { amount: '39.99', currency: 'GBP', issuedAt: AT, method: { type: 'card', brand: 'visa', last4: '4242' } },
    });
    wellFormed(voided);
  });

  it('publishes InvoiceVoided of an unpaid invoice saying nothing was charged', () => {
    const inv = invoiceFor();
    const voided = toFeedEntry({ type: 'InvoiceVoided', orderId: inv.orderId, invoiceId: inv.invoiceId, voidedAt: AT, reason: null, refundMinor: null }, 'k-15', inv, LONDON);
    expect(voided.summary).to.equal('Invoice INV-000007 for order ORD-AAAAA-BBBBB was voided on 6 June 2025.\nNothing was charged, so there is nothing to refund.');
    expect(voided.payload).to.deep.include({ refund: null, refundDetails: null });
    wellFormed(voided);
  });

  describe("on the shop's clock", () => {
    it('dates a payment at 23:30 UTC on a BST day on the next day, as the shop lives it (00:30 BST)', () => {
      const inv = invoiceFor();
      const entry = toFeedEntry(paid(inv, '2025-06-10T23:30:00.000Z'), 'k-6', inv, LONDON);
      expect(entry.summary).to.include('Paid with Mastercard ending 0005 on 11 June 2025.');
      expect(entry.content.toString()).to.include(' on 11 June 2025.').and.not.include('10 June');
      expect(entry.payload['paidAt']).to.equal('2025-06-10T23:30:00.000Z');
    });

    it('keeps 23:30 UTC on its own day in winter (GMT) and follows the March and October changes', () => {
      const inv = invoiceFor();
      expect(toFeedEntry(paid(inv, '2025-01-10T23:30:00.000Z'), 'k-7', inv, LONDON).summary).to.include('on 10 January 2025.');
      expect(toFeedEntry(paid(inv, '2025-10-25T23:30:00.000Z'), 'k-8', inv, LONDON).summary, 'Saturday night, still BST').to.include('on 26 October 2025.');
      expect(toFeedEntry(paid(inv, '2025-10-26T23:30:00.000Z'), 'k-9', inv, LONDON).summary, 'Sunday night, GMT again').to.include('on 26 October 2025.');
      expect(toFeedEntry(paid(inv, '2025-03-29T23:30:00.000Z'), 'k-10', inv, LONDON).summary, 'Saturday night, still GMT').to.include('on 29 March 2025.');
      expect(toFeedEntry(paid(inv, '2025-03-30T23:30:00.000Z'), 'k-11', inv, LONDON).summary, 'Sunday night, BST').to.include('on 31 March 2025.');
    });

    it("uses the configured zone's calendar, in the customer's language", () => {
      const inv = invoiceFor({ currency: 'EUR', shippingAddress: { line1: 'Unter den Linden 1', city: 'Berlin', postalCode: '10117', country: 'DE' } });
      expect(toFeedEntry(paid(inv, '2025-06-10T23:30:00.000Z'), 'k-12', inv, 'UTC').summary).to.include('10. Juni 2025');
      expect(toFeedEntry(paid(inv, '2025-06-10T23:30:00.000Z'), 'k-13', inv, LONDON).summary).to.include('11. Juni 2025');
      const voided = toFeedEntry({ type: 'InvoiceVoided', orderId: inv.orderId, invoiceId: inv.invoiceId, voidedAt: '2025-06-10T23:30:00.000Z', reason: null, refundMinor: null }, 'k-14', inv, LONDON);
      expect(voided.summary).to.include('voided on 11. Juni 2025');
    });
  });

  it('escapes what the customer typed', () => {
    const hostile = '<script>alert(1)</script> & "Bob"';
    const inv = invoiceFor({ customer: { name: hostile, email: 'b@example.com' }, lines: [{ sku: 'MUG-<b>', name: hostile, quantity: 1, unitPrice: '1.00', lineTotal: '1.00', delivery: 'physical' }], subtotal: '1.00' });
    const entry = toFeedEntry({ type: 'InvoiceIssued', invoice: inv }, 'k-5', inv, LONDON);
    expect(entry.content.toString()).not.to.include('<script>');
    expect(entry.content.toString()).to.include('&lt;script&gt;alert(1)&lt;/script&gt; &amp; "Bob"');
    wellFormed(entry);
  });
});
