import { expect } from 'chai';
import { examplesOf } from '@shop/common/testing';
import { parseOrderCancelled, parseOrderPlaced, parsePaymentReceived } from './feedContracts.ts';

/** Shipping's readers against what the order and billing services really publish (their contract examples). */
describe('Shipping reading the order and billing services\' contract examples', () => {
  it('reads every OrderPlaced: what to send and where (no address for downloads only)', () => {
    for (const e of examplesOf('order-service', 'OrderPlaced')) {
      const parsed = parseOrderPlaced(e.payload);
      if (!parsed.ok) expect.fail(`${e.atomId}: ${parsed.errors.join('; ')}`);
      const p = e.payload as { lines: { sku: string; delivery: string }[]; shippingAddress: Record<string, string> | null };
      expect(parsed.value.orderId).to.equal(e.orderId);
      expect(parsed.value.lines.map((l) => [l.sku, l.delivery])).to.deep.equal(p.lines.map((l) => [l.sku, l.delivery]));
      if (p.shippingAddress === null) expect(parsed.value.shippingAddress).to.equal(null);
      else expect(parsed.value.shippingAddress).to.deep.include({ ...p.shippingAddress });
    }
  });

  it('reads every OrderCancelled', () => {
    for (const e of examplesOf('order-service', 'OrderCancelled')) {
      expect(parseOrderCancelled(e.payload)).to.deep.equal({ ok: true, value: { orderId: e.orderId, cancelledAt: e.payload['cancelledAt'], reason: e.payload['reason'] } });
    }
  });

  it('reads every PaymentReceived: the order, its invoice and when it was paid', () => {
    for (const e of examplesOf('billing-service', 'PaymentReceived')) {
      expect(parsePaymentReceived(e.payload)).to.deep.equal({ ok: true, value: { orderId: e.orderId, invoiceId: e.payload['invoiceId'], paidAt: e.payload['paidAt'] } });
    }
  });
});
