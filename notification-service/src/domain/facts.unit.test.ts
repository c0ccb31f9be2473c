import { expect } from 'chai';
import { ContractViolation, factFrom } from './facts.ts';

const entry = (type: string, payload: Record<string, unknown>) => ({ type, orderId: 'O-1', summary: 'text', contentXhtml: '<p>x</p>', payload });

describe('Reading facts from feed entries', () => {
  it('reads an OrderPlaced with its customer and the delivery kind of each line', () => {
    const f = factFrom(entry('OrderPlaced', { customer: { name: 'Ada', email: 'ada@example.com' }, lines: [{ sku: 'B1', name: 'Book', quantity: 2, delivery: 'digital' }] }));
    expect(f).to.deep.include({ type: 'OrderPlaced', customer: { name: 'Ada', email: 'ada@example.com' }, section: { html: '<p>x</p>', text: 'text' } });
    expect(f && f.type === 'OrderPlaced' && f.lines[0]!.delivery).to.equal('digital');
  });
  it('refuses an OrderPlaced without a usable email address (the consumer parks it)', () => {
    expect(() => factFrom(entry('OrderPlaced', { customer: { name: 'Ada', email: 'nope' }, lines: [] }))).to.throw(ContractViolation);
  });
  it('ignores event types it does not need', () => {
    expect(factFrom(entry('InvoiceIssued', {}))).to.equal(undefined);
  });
});
