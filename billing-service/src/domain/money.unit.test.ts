import { expect } from 'chai';
import { formatRate, percentOf } from './money.ts';

describe('Billing money', () => {
  it('rounds a percentage half up to the minor unit', () => {
    expect(percentOf(833, 2000)).to.equal(167); // 166.6p
    expect(percentOf(1250, 2000)).to.equal(250);
    expect(percentOf(10, 2500)).to.equal(3); // 2.5p rounds up
    expect(percentOf(2999, 550)).to.equal(165); // 164.945p
  });

  it('writes rates as people do', () => {
    expect([formatRate(2000), formatRate(550), formatRate(0), formatRate(2550)]).to.deep.equal(['20%', '5.5%', '0%', '25.5%']);
  });
});
