import { expect } from 'chai';
import type { OrderPlaced } from '../domain/events.ts';
import { toFeedEntry } from './toFeedEntry.ts';

const placed: OrderPlaced = {
  type: 'OrderPlaced', orderId: 'ORD-1', placedAt: '2026-11-20T10:00:00.000Z',
  customer: { name: '<script>alert(1)</script> & "Bob"', email: 'bob@example.com' }, currency: 'GBP',
  lines: [
    { sku: 'BOOK-1', name: 'Notes', quantity: 2, unitPriceMinor: 1250, delivery: 'physical' },
    { sku: 'EBOOK-7', name: 'Sketch', quantity: 1, unitPriceMinor: 499, delivery: 'digital' },
  ],
  shippingAddress: { line1: '1 Main St', city: 'London', postalCode: 'N1 1AA', country: 'GB' },
};

describe('The order feed entry (contract v1)', () => {
  it('publishes OrderPlaced with the order id, machine-readable lines and formatted sections', () => {
    const e = toFeedEntry(placed, 'k-1', placed);
    expect(e).to.include({ key: 'k-1', type: 'OrderPlaced', orderId: 'ORD-1', title: 'Order ORD-1 placed' });
    expect(e.payload).to.deep.include({ orderId: 'ORD-1', currency: 'GBP', subtotal: '29.99' });
    expect((e.payload['lines'] as unknown[])[0]).to.deep.equal({ sku: 'BOOK-1', name: 'Notes', quantity: 2, unitPrice: '12.50', lineTotal: '25.00', delivery: 'physical' });
    expect(e.summary).to.include('Subtotal: £29.99');
    expect(e.content.toString()).to.include('<td>£25.00</td>');
  });

  it('escapes what the customer typed in the XHTML', () => {
    const xhtml = toFeedEntry(placed, 'k-1', placed).content.toString();
    expect(xhtml).to.include('&lt;script&gt;alert(1)&lt;/script&gt; &amp; "Bob"');
    expect(xhtml).to.not.include('<script>');
  });

  it('publishes OrderCancelled as its own entry', () => {
    const e = toFeedEntry({ type: 'OrderCancelled', orderId: 'ORD-1', cancelledAt: '2026-11-20T11:00:00.000Z', reason: 'too slow' }, 'k-2', placed);
    expect(e).to.include({ type: 'OrderCancelled', orderId: 'ORD-1', title: 'Order ORD-1 cancelled' });
    expect(e.payload).to.deep.equal({ orderId: 'ORD-1', cancelledAt: '2026-11-20T11:00:00.000Z', reason: 'too slow' });
  });
});
