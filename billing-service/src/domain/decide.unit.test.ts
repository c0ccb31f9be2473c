import { expect } from 'chai';
import { deciderSpecification } from '@shop/common/testing';
import { type BillingCommand, billingDecider } from './decide.ts';
import type { BillingEvent } from './events.ts';
import { type PlacedOrder, parseOrderPlaced } from './orderContract.ts';
import { orderPlacedPayload } from '../testing/orderExamples.ts';

const AT = '2025-06-06T10:05:00.000Z';
const CARD = { type: 'card', brand: 'visa', last4: '4242' } as const;

function order(over: Record<string, unknown> = {}): PlacedOrder {
  const parsed = parseOrderPlaced(orderPlacedPayload('ORD-AAAAA-BBBBB', over));
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  return parsed.value;
}

/** Given these events, when this command, then these events or this refusal. */
const given = deciderSpecification(billingDecider);

function issued(o: PlacedOrder = order()): BillingEvent {
  const d = given().when({ type: 'IssueInvoice', order: o, invoiceId: 'INV-000001', at: AT }).decision;
  if (!d.ok || !d.events[0]) throw new Error('not issued');
  return d.events[0];
}

const pay = (expectedAmountMinor: number | null = null): BillingCommand => ({ type: 'TakePayment', orderId: 'ORD-AAAAA-BBBBB', paymentId: 'PAY-1', method: CARD, expectedAmountMinor, at: AT });
const paid = (): BillingEvent => { const d = given(issued()).when(pay()).decision; if (!d.ok) throw new Error('unpaid'); return d.events[0]!; };

describe('Billing', () => {
  describe('when an order is placed', () => {
    it('issues an invoice with VAT by rate: books zero-rated, the mug at 20%, rounded half up', () => {
      const e = issued();
      if (e.type !== 'InvoiceIssued') throw new Error(e.type);
      const inv = e.invoice;
      expect(inv.lines.map((l) => [l.sku, l.netMinor, l.rate.basisPoints])).to.deep.equal([['BOOK-1', 2500, 0], ['EBOOK-7', 499, 0], ['MUG-3', 833, 2000]]);
      expect(inv.bands.map((b) => [b.label, b.netMinor, b.vatMinor])).to.deep.equal([['VAT 20%', 833, 167], ['VAT 0% (zero-rated)', 2999, 0]]);
      expect([inv.netMinor, inv.vatMinor, inv.totalMinor]).to.deep.equal([3832, 167, 3999]);
      expect(inv.locale).to.equal('en-GB');
    });

    it('rounds VAT once per rate, not per line', () => {
      const lines = [1, 2, 3].map((i) => ({ sku: `PEN-${i}`, name: 'Pen', quantity: 1, unitPrice: '0.07', lineTotal: '0.07', delivery: 'physical' }));
      const e = issued(order({ lines, subtotal: '0.21' }));
      if (e.type !== 'InvoiceIssued') throw new Error(e.type);
      expect(e.invoice.vatMinor).to.equal(4); // 20% of 21p is 4.2p; rounding each line's 1.4p would give 3p
      expect(e.invoice.bands).to.have.length(1);
    });

    it('charges German VAT in euros on an order to Germany: 7% on the book, 19% on the mug', () => {
      const e = issued(order({ currency: 'EUR', shippingAddress: { line1: 'Unter den Linden 1', city: 'Berlin', postalCode: '10117', country: 'DE' } }));
      if (e.type !== 'InvoiceIssued') throw new Error(e.type);
      expect(e.invoice.bands.map((b) => [b.label, b.netMinor, b.vatMinor])).to.deep.equal([['VAT 19% (DE)', 833, 158], ['VAT 7% (DE)', 2999, 210]]);
      expect(e.invoice.locale).to.equal('de-DE');
    });

    it('charges no VAT on an export to the United States', () => {
      const e = issued(order({ currency: 'USD', shippingAddress: { line1: '1600 Pennsylvania Ave NW', city: 'Washington', region: 'DC', postalCode: '20500', country: 'US' } }));
      if (e.type !== 'InvoiceIssued') throw new Error(e.type);
      expect(e.invoice.vatMinor).to.equal(0);
      expect(e.invoice.bands.map((b) => b.label)).to.deep.equal(['No VAT (outside the scope of UK VAT)', 'No VAT (zero-rated export)']);
    });

    it('assumes the UK for a digital-only order, which has no address', () => {
      const lines = [{ sku: 'APP-1', name: 'Engine simulator', quantity: 1, unitPrice: '10.00', lineTotal: '10.00', delivery: 'digital' }];
      const e = issued(order({ lines, subtotal: '10.00', shippingAddress: null }));
      if (e.type !== 'InvoiceIssued') throw new Error(e.type);
      expect([e.invoice.taxCountry, e.invoice.vatMinor]).to.deep.equal(['GB', 200]);
    });

    it('does nothing when the same order is read again', () => {
      given(issued()).when({ type: 'IssueInvoice', order: order(), invoiceId: 'INV-000002', at: AT }).then();
    });

    it('refuses to invoice a destination that is not a country code', () => {
      const d = given().when({ type: 'IssueInvoice', order: order({ shippingAddress: { line1: 'x', city: 'Cair Paravel', postalCode: '1', country: 'Narnia' } }), invoiceId: 'INV-1', at: AT }).decision;
      expect(d).to.deep.include({ ok: false, reason: 'not-invoiceable' });
    });
  });

  describe('when a book and a mug are sent to an EU country (IOSS)', () => {
    // Two copies of a EUR 12.50 book and a EUR 8.33 mug: EUR 33.33 of goods, inside IOSS.
    const bookAndMug = [
      { sku: 'BOOK-1', name: 'Notes on the Analytical Engine', quantity: 2, unitPrice: '12.50', lineTotal: '25.00', delivery: 'physical' },
      { sku: 'MUG-3', name: 'Difference Engine mug', quantity: 1, unitPrice: '8.33', lineTotal: '8.33', delivery: 'physical' },
    ];
    const to = (country: string, lines: unknown[] = bookAndMug, subtotal = '33.33') =>
      order({ currency: 'EUR', lines, subtotal, shippingAddress: { line1: '1 Main St', city: 'City', postalCode: '1000', country } });
    const bands = (e: BillingEvent) => {
      if (e.type !== 'InvoiceIssued') throw new Error(e.type);
      return { bands: e.invoice.bands.map((b) => [b.label, b.netMinor, b.vatMinor]), total: e.invoice.totalMinor };
    };

    it('Poland: 5% on the book, 23% on the mug', () => {
      expect(bands(issued(to('PL')))).to.deep.equal({ bands: [['VAT 23% (PL)', 833, 192], ['VAT 5% (PL)', 2500, 125]], total: 3650 });
    });

    it('France: 5.5% on the book, 20% on the mug', () => {
      expect(bands(issued(to('FR')))).to.deep.equal({ bands: [['VAT 20% (FR)', 833, 167], ['VAT 5.5% (FR)', 2500, 138]], total: 3638 });
    });

    it('Ireland: the book zero-rated, 23% on the mug', () => {
      expect(bands(issued(to('IE')))).to.deep.equal({ bands: [['VAT 23% (IE)', 833, 192], ['VAT 0% (zero-rated, IE)', 2500, 0]], total: 3525 });
    });

    it('Denmark: 25% on both, no book rate, rounded once on the band', () => {
      expect(bands(issued(to('DK')))).to.deep.equal({ bands: [['VAT 25% (DK)', 3333, 833]], total: 4166 });
    });

    it('charges the VAT on a consignment of exactly EUR 150.00', () => {
      const lines = [{ sku: 'MUG-3', name: 'Difference Engine mug', quantity: 10, unitPrice: '15.00', lineTotal: '150.00', delivery: 'physical' }];
      expect(bands(issued(to('PL', lines, '150.00')))).to.deep.equal({ bands: [['VAT 23% (PL)', 15000, 3450]], total: 18450 });
    });

    it('charges none on EUR 150.01 of goods, says the import VAT is the customer\'s, and still charges VAT on the e-book', () => {
      const lines = [
        { sku: 'MUG-3', name: 'Difference Engine mug', quantity: 1, unitPrice: '150.01', lineTotal: '150.01', delivery: 'physical' },
        { sku: 'EBOOK-7', name: 'Sketch of the Engine (eBook)', quantity: 1, unitPrice: '4.99', lineTotal: '4.99', delivery: 'digital' },
      ];
      expect(bands(issued(to('PL', lines, '155.00')))).to.deep.equal({
        bands: [['VAT 5% (PL)', 499, 25], ['No VAT charged: over EUR 150, import VAT payable by the customer (PL)', 15001, 0]],
        total: 15525,
      });
    });
  });

  describe('when a payment comes in', () => {
    it('records the invoice total as paid', () => {
      const d = given(issued()).when(pay(3999)).decision;
      expect(d).to.deep.equal({ ok: true, events: [{ type: 'PaymentReceived', orderId: 'ORD-AAAAA-BBBBB', invoiceId: 'INV-000001', paymentId: 'PAY-1', amountMinor: 3999, currency: 'GBP', method: CARD, paidAt: AT }] });
    });

    it('refuses a payment for an order billing has not seen yet', () => {
      given().when(pay()).thenRefused({ reason: 'order-unknown' });
    });

    it('refuses a second payment', () => {
      expect(given(issued(), paid()).when({ ...pay(), paymentId: 'PAY-2' } as BillingCommand).decision).to.deep.include({ ok: false, reason: 'already-paid', paymentId: 'PAY-1' });
    });

    it('refuses an amount other than the total', () => {
      expect(given(issued()).when(pay(3832)).decision).to.deep.include({ ok: false, reason: 'amount-mismatch', totalMinor: 3999 });
    });
  });

  describe('when the order is cancelled', () => {
    it('voids an unpaid invoice with nothing to refund', () => {
      const d = given(issued()).when({ type: 'VoidInvoice', orderId: 'ORD-AAAAA-BBBBB', reason: 'changed my mind', at: AT }).decision;
      expect(d).to.deep.equal({ ok: true, events: [{ type: 'InvoiceVoided', orderId: 'ORD-AAAAA-BBBBB', invoiceId: 'INV-000001', voidedAt: AT, reason: 'changed my mind', refundMinor: null }] });
    });

    it('voids a paid invoice and owes the payment back', () => {
      const d = given(issued(), paid()).when({ type: 'VoidInvoice', orderId: 'ORD-AAAAA-BBBBB', reason: null, at: AT }).decision;
      expect(d.ok && d.events[0]).to.deep.include({ type: 'InvoiceVoided', refundMinor: 3999 });
    });

    it('refuses payment afterwards, and ignores a repeated cancellation', () => {
      const voided = given(issued()).when({ type: 'VoidInvoice', orderId: 'ORD-AAAAA-BBBBB', reason: null, at: AT }).decision;
      if (!voided.ok) throw new Error('not voided');
      expect(given(issued(), ...voided.events).when(pay()).decision).to.deep.include({ ok: false, reason: 'invoice-voided' });
      given(issued(), ...voided.events).when({ type: 'VoidInvoice', orderId: 'ORD-AAAAA-BBBBB', reason: null, at: AT }).then();
    });

    it('changes nothing for an order billing never saw', () => {
      given().when({ type: 'VoidInvoice', orderId: 'ORD-X', reason: null, at: AT }).then();
    });
  });
});
