import { expect } from 'chai';
import { displayAmount, formatAmount, isCurrency, minorDigits, parseAmount } from './money.ts';

describe('Money', () => {
  it('knows each currency\'s minor unit', () => {
    expect([minorDigits('GBP'), minorDigits('JPY'), minorDigits('BHD')]).to.deep.equal([2, 0, 3]);
  });

  it('parses decimal strings into integer minor units without floats', () => {
    expect(parseAmount('12.50', 2)).to.equal(1250);
    expect(parseAmount('0.1', 2)).to.equal(10);
    expect(parseAmount('4.99', 2)).to.equal(499);
    expect(parseAmount('1200', 0)).to.equal(1200);
    expect(parseAmount('1.005', 3)).to.equal(1005);
  });

  it('refuses amounts with too many decimals, signs, exponents or junk', () => {
    for (const bad of ['12.345', '-1.00', '1e3', ' 1.00', '1,00', '', '.5', '1.']) expect(parseAmount(bad, 2), bad).to.equal(undefined);
    expect(parseAmount('1.5', 0)).to.equal(undefined);
  });

  it('formats minor units back exactly', () => {
    expect(formatAmount(1250, 2)).to.equal('12.50');
    expect(formatAmount(5, 2)).to.equal('0.05');
    expect(formatAmount(1200, 0)).to.equal('1200');
    expect(formatAmount(-499, 2)).to.equal('-4.99');
  });

  it('displays amounts the currency\'s way', () => {
    expect(displayAmount(2999, 'GBP')).to.equal('£29.99');
    expect(displayAmount(120000, 'JPY')).to.equal('JP¥120,000');
  });

  it('accepts only ISO 4217 codes', () => {
    expect(isCurrency('GBP')).to.equal(true);
    expect(isCurrency('gbp')).to.equal(false);
    expect(isCurrency('XYZ')).to.equal(false);
  });
});
