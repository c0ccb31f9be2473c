import { expect } from 'chai';
import { displayAmount, formatAmount, isCurrency, minorDigits, parseAmount } from './money.ts';

describe('Money', () => {
  it('knows each currency\'s minor unit', () => {
    expect([minorDigits('GBP'), minorDigits('JPY'), minorDigits('BHD'), minorDigits('KWD')]).to.deep.equal([2, 0, 3, 3]);
  });

  it('parses decimal strings into integer minor units without floats', () => {
    expect(parseAmount('12.50', 2)).to.equal(1250);
    expect(parseAmount('0.1', 2)).to.equal(10);
    expect(parseAmount('4.99', 2)).to.equal(499);
    expect(parseAmount('1200', 0)).to.equal(1200);
    expect(parseAmount('1.005', 3)).to.equal(1005);
  });

  it('refuses amounts with too many decimals, signs, exponents, junk or absurd size', () => {
    for (const bad of ['12.345', '-1.00', '1e3', ' 1.00', '1,00', '', '.5', '1.', '999999999999999']) expect(parseAmount(bad, 2), bad).to.equal(undefined);
    expect(parseAmount('1.5', 0)).to.equal(undefined);
  });

  it('formats minor units back exactly', () => {
    expect([formatAmount(1250, 2), formatAmount(5, 2), formatAmount(1200, 0), formatAmount(1005, 3), formatAmount(-499, 2)])
      .to.deep.equal(['12.50', '0.05', '1200', '1.005', '-4.99']);
  });

  it('displays amounts the way each locale writes them', () => {
    expect(displayAmount(2999, 'GBP')).to.equal('£29.99');
    expect(displayAmount(120000, 'JPY')).to.equal('JP¥120,000');
    expect(displayAmount(123450, 'GBP', 'en-GB')).to.equal('£1,234.50');
    expect(displayAmount(123450, 'EUR', 'de-DE')).to.equal('1.234,50\u00a0€');
    expect(displayAmount(123450, 'EUR', 'fr-FR')).to.equal('1\u202f234,50\u00a0€');
    expect(displayAmount(1200, 'JPY', 'ja-JP')).to.equal('￥1,200');
    expect(displayAmount(123450, 'USD', 'en-US')).to.equal('$1,234.50');
  });

  it('accepts only ISO 4217 codes', () => {
    expect([isCurrency('GBP'), isCurrency('gbp'), isCurrency('XYZ')]).to.deep.equal([true, false, false]);
  });
});
