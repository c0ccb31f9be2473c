import { expect } from 'chai';
import { examplesOf } from '@shop/common/testing';
import { parseOrderCancelled, parseOrderPlaced } from './orderContract.ts';

/** Billing's order feed reader against what the order service really publishes (its contract examples). */
describe('Billing reading the order service\'s contract examples', () => {
  it('reads every OrderPlaced: customer, currency, lines in minor units, and the destination (none for downloads only)', () => {
    const examples = examplesOf('order-service', 'OrderPlaced');
    for (const e of examples) {
      const parsed = parseOrderPlaced(e.payload);
      if (!parsed.ok) expect.fail(`${e.atomId}: ${parsed.errors.join('; ')}`);
      const p = e.payload as { customer: unknown; currency: string; lines: unknown[]; shippingAddress: { country: string } | null };
      expect(parsed.value).to.deep.include({ orderId: e.orderId, customer: p.customer, currency: p.currency, destination: p.shippingAddress?.country ?? null });
      expect(parsed.value.lines).to.have.length(p.lines.length);
    }
    const parsed = parseOrderPlaced(examples[0]!.payload);
    expect(parsed.ok && parsed.value.lines.map((l) => [l.sku, l.quantity, l.unitPriceMinor, l.delivery])).to.deep.equal([
      ['BOOK-1', 2, 1250, 'physical'], ['EBOOK-7', 1, 499, 'digital'], ['MUG-3', 1, 833, 'physical'],
    ]);
    expect(examples.some((e) => e.payload['shippingAddress'] === null), 'an example with downloads only, so no address').to.equal(true);
  });

  it('reads every OrderCancelled with its reason', () => {
    for (const e of examplesOf('order-service', 'OrderCancelled')) {
      const parsed = parseOrderCancelled(e.payload);
      if (!parsed.ok) expect.fail(`${e.atomId}: ${parsed.errors.join('; ')}`);
      expect(parsed.value).to.deep.equal({ orderId: e.orderId, cancelledAt: e.payload['cancelledAt'], reason: e.payload['reason'] });
    }
  });
});
