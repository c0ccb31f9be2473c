import { expect } from 'chai';
import { estimateDelivery } from './deliveryEstimate.ts';

const LONDON = 'Europe/London';

describe('Delivery estimates', () => {
  it('sends a UK order paid on a Friday morning that day, for Tuesday', () => {
    expect(estimateDelivery(new Date('2025-06-06T09:00:00Z'), 'GB', LONDON)).to.deep.include({ dispatchDate: '2025-06-06', estimatedDelivery: '2025-06-10', transitBusinessDays: 2 });
  });

  it('sends a UK order paid on a Friday after the 14:00 cut-off (UK summer time) on Monday, for Wednesday', () => {
    expect(estimateDelivery(new Date('2025-06-06T13:30:00Z'), 'GB', LONDON)).to.deep.include({ dispatchDate: '2025-06-09', estimatedDelivery: '2025-06-11' });
  });

  it('sends an order paid on a Saturday on Monday', () => {
    expect(estimateDelivery(new Date('2025-06-07T09:00:00Z'), 'GB', LONDON).dispatchDate).to.equal('2025-06-09');
  });

  it('waits out the Easter bank holidays', () => {
    // Paid Thursday 17 April 2025 after the cut-off: Good Friday and Easter Monday are not business days.
    expect(estimateDelivery(new Date('2025-04-17T15:00:00Z'), 'GB', LONDON)).to.deep.include({ dispatchDate: '2025-04-22', estimatedDelivery: '2025-04-24' });
  });

  it('delivers nothing in the UK over Christmas', () => {
    expect(estimateDelivery(new Date('2025-12-24T10:00:00Z'), 'GB', LONDON)).to.deep.include({ dispatchDate: '2025-12-24', estimatedDelivery: '2025-12-30' });
  });

  it('takes seven business days to the United States and eight to Japan, never on a weekend', () => {
    const us = estimateDelivery(new Date('2025-06-06T09:00:00Z'), 'US', LONDON);
    expect(us).to.deep.include({ dispatchDate: '2025-06-06', estimatedDelivery: '2025-06-17', transitBusinessDays: 7 });
    expect(estimateDelivery(new Date('2025-06-06T09:00:00Z'), 'JP', LONDON).estimatedDelivery).to.equal('2025-06-18');
  });

  it('takes five business days to Germany', () => {
    expect(estimateDelivery(new Date('2025-06-06T09:00:00Z'), 'DE', LONDON).estimatedDelivery).to.equal('2025-06-13');
  });

  describe('on the shop\'s clock', () => {
    const dispatchOn = (paidAt: string, zone = LONDON): string => estimateDelivery(new Date(paidAt), 'GB', zone).dispatchDate;

    it('reads the 14:00 cut-off in GMT in winter and in BST in summer', () => {
      expect(dispatchOn('2025-01-10T13:30:00Z'), '13:30 GMT, a Friday').to.equal('2025-01-10');
      expect(dispatchOn('2025-06-06T13:30:00Z'), '14:30 BST, a Friday').to.equal('2025-06-09');
    });

    it('counts a payment at 23:30 UTC on a BST day as paid early the next morning, local time', () => {
      // Sunday 8 June 23:30 UTC is Monday 9 June 00:30 BST: before Monday's cut-off.
      expect(estimateDelivery(new Date('2025-06-08T23:30:00Z'), 'GB', LONDON)).to.deep.include({ dispatchDate: '2025-06-09', estimatedDelivery: '2025-06-11' });
      // Sunday 25 May 23:30 UTC is the Spring bank holiday, 00:30 BST: the bank holiday is a shop date.
      expect(dispatchOn('2025-05-25T23:30:00Z')).to.equal('2025-05-27');
    });

    it('moves the cut-off with the clocks on the last Sundays of March and October', () => {
      expect(dispatchOn('2025-03-28T13:30:00Z'), 'Friday before: 13:30 GMT').to.equal('2025-03-28');
      expect(dispatchOn('2025-03-31T13:30:00Z'), 'Monday after: 14:30 BST').to.equal('2025-04-01');
      expect(dispatchOn('2025-10-24T13:30:00Z'), 'Friday before: 14:30 BST').to.equal('2025-10-27');
      expect(dispatchOn('2025-10-27T13:30:00Z'), 'Monday after: 13:30 GMT').to.equal('2025-10-27');
      expect(dispatchOn('2025-03-30T00:30:00Z'), 'during the change, a Sunday').to.equal('2025-03-31');
      expect(dispatchOn('2025-10-26T01:30:00Z'), 'the hour lived twice, a Sunday').to.equal('2025-10-27');
    });

    it('keeps whichever zone the shop is configured in', () => {
      // Friday 17:30 UTC: 13:30 in New York (before its cut-off), 18:30 in London (after).
      expect(dispatchOn('2025-06-06T17:30:00Z', 'America/New_York')).to.equal('2025-06-06');
      expect(dispatchOn('2025-06-06T17:30:00Z', LONDON)).to.equal('2025-06-09');
    });
  });
});
