import { expect } from 'chai';
import { estimateDelivery } from './deliveryEstimate.ts';

describe('Delivery estimates', () => {
  it('sends a UK order paid on a Friday morning that day, for Tuesday', () => {
    expect(estimateDelivery(new Date('2025-06-06T09:00:00Z'), 'GB')).to.deep.include({ dispatchDate: '2025-06-06', estimatedDelivery: '2025-06-10', transitBusinessDays: 2 });
  });

  it('sends a UK order paid on a Friday after the 14:00 cut-off (UK summer time) on Monday, for Wednesday', () => {
    expect(estimateDelivery(new Date('2025-06-06T13:30:00Z'), 'GB')).to.deep.include({ dispatchDate: '2025-06-09', estimatedDelivery: '2025-06-11' });
  });

  it('sends an order paid on a Saturday on Monday', () => {
    expect(estimateDelivery(new Date('2025-06-07T09:00:00Z'), 'GB').dispatchDate).to.equal('2025-06-09');
  });

  it('waits out the Easter bank holidays', () => {
    // Paid Thursday 17 April 2025 after the cut-off: Good Friday and Easter Monday are not business days.
    expect(estimateDelivery(new Date('2025-04-17T15:00:00Z'), 'GB')).to.deep.include({ dispatchDate: '2025-04-22', estimatedDelivery: '2025-04-24' });
  });

  it('delivers nothing in the UK over Christmas', () => {
    expect(estimateDelivery(new Date('2025-12-24T10:00:00Z'), 'GB')).to.deep.include({ dispatchDate: '2025-12-24', estimatedDelivery: '2025-12-30' });
  });

  it('takes seven business days to the United States and eight to Japan, never on a weekend', () => {
    const us = estimateDelivery(new Date('2025-06-06T09:00:00Z'), 'US');
    expect(us).to.deep.include({ dispatchDate: '2025-06-06', estimatedDelivery: '2025-06-17', transitBusinessDays: 7 });
    expect(estimateDelivery(new Date('2025-06-06T09:00:00Z'), 'JP').estimatedDelivery).to.equal('2025-06-18');
  });

  it('takes five business days to Germany', () => {
    expect(estimateDelivery(new Date('2025-06-06T09:00:00Z'), 'DE').estimatedDelivery).to.equal('2025-06-13');
  });
});
