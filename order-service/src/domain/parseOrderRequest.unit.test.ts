import { expect } from 'chai';
import { adaOrder } from '../testing/adaOrder.ts';
import { parseOrderRequest } from './parseOrderRequest.ts';

function pointers(body: unknown): string[] {
  const r = parseOrderRequest(body);
  return r.ok ? [] : r.errors.map((e) => e.pointer);
}

describe('parseOrderRequest', () => {
  it('accepts the documented example, prices in minor units', () => {
    const r = parseOrderRequest(adaOrder);
    expect(r.ok).to.equal(true);
    if (r.ok) expect(r.value.lines.map((l) => l.unitPriceMinor)).to.deep.equal([1250, 499]);
  });

  it('reports every problem at once, each with a JSON pointer', () => {
    expect(pointers({ customer: { name: '', email: 'nope' }, currency: 'XXQ', lines: [{ sku: 'A', name: 'a', quantity: 0, unitPrice: 1.5, delivery: 'teleport' }] }))
      .to.have.members(['/customer/name', '/customer/email', '/currency', '/lines/0/quantity', '/lines/0/unitPrice', '/lines/0/delivery']);
  });

  it('refuses JSON numbers for money', () => {
    const r = parseOrderRequest({ ...adaOrder, lines: [{ ...adaOrder.lines[0], unitPrice: 12.5 }] });
    expect(r.ok).to.equal(false);
    if (!r.ok) expect(r.errors[0]!.detail).to.match(/never a float/);
  });

  it('needs an address only when something ships physically', () => {
    expect(pointers({ ...adaOrder, shippingAddress: undefined })).to.deep.equal(['/shippingAddress']);
    expect(pointers({ ...adaOrder, lines: [adaOrder.lines[1]], shippingAddress: undefined })).to.deep.equal([]);
  });

  it('refuses an unknown country and too many decimals for the currency', () => {
    expect(pointers({ ...adaOrder, shippingAddress: { ...adaOrder.shippingAddress, country: 'XX' } })).to.deep.equal(['/shippingAddress/country']);
    expect(pointers({ ...adaOrder, shippingAddress: { ...adaOrder.shippingAddress, country: 'UK' } }), 'UK is not ISO: GB is').to.deep.equal(['/shippingAddress/country']);
    expect(pointers({ ...adaOrder, currency: 'JPY' })).to.deep.equal(['/lines/0/unitPrice', '/lines/1/unitPrice']);
  });

  it('refuses an order whose total no reader could hold exactly', () => {
    const huge = { ...adaOrder, lines: [{ ...adaOrder.lines[0], quantity: 9999, unitPrice: '999999999999.99' }] };
    expect(pointers(huge)).to.deep.equal(['/lines']);
    expect(pointers({ ...adaOrder, lines: [{ ...adaOrder.lines[0], quantity: 10, unitPrice: '999999999.99' }] })).to.deep.equal([]);
  });

  it('refuses a body that is not an object', () => {
    expect(pointers([1, 2])).to.deep.equal(['']);
  });
});
