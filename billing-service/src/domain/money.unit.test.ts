import { expect } from 'chai';
import { displayAmount, formatAmount, formatRate, minorDigits, parseAmount, percentOf } from './money.ts';

describe('Money', () => {
  it('knows each currency\'s minor units', () => {
    expect([minorDigits('GBP'), minorDigits('JPY'), minorDigits('KWD')]).to.deep.equal([2, 0, 3]);
  });

  it('parses decimal strings into exact minor units and refuses what is not money', () => {
    expect(parseAmount('12.50', 2)).to.equal(1250);
    expect(parseAmount('0.1', 2)).to.equal(10);
    expect(parseAmount('1200', 0)).to.equal(1200);
    expect(parseAmount('12.345', 2)).to.equal(undefined);
    expect(parseAmount('12.5', 0)).to.equal(undefined);
    expect(parseAmount('-1.00', 2)).to.equal(undefined);
    expect(parseAmount('1e3', 2)).to.equal(undefined);
    expect(parseAmount('999999999999999', 2)).to.equal(undefined);
  });

  it('formats minor units back to the contract\'s decimal strings', () => {
    expect([formatAmount(1250, 2), formatAmount(5, 2), formatAmount(1200, 0), formatAmount(1005, 3)]).to.deep.equal(['12.50', '0.05', '1200', '1.005']);
  });

  it('rounds a percentage half up to the minor unit', () => {
    expect(percentOf(833, 2000)).to.equal(167); // 166.6p
    expect(percentOf(1250, 2000)).to.equal(250);
    expect(percentOf(10, 2500)).to.equal(3); // 2.5p rounds up
    expect(percentOf(2999, 550)).to.equal(165); // 164.945p
  });

  it('shows amounts the way each locale writes them', () => {
    expect(displayAmount(123450, 'GBP', 'en-GB')).to.equal('£1,234.50');
    expect(displayAmount(123450, 'EUR', 'de-DE')).to.equal('1.234,50\u00a0€');
    expect(displayAmount(123450, 'EUR', 'fr-FR')).to.equal('1\u202f234,50\u00a0€');
    expect(displayAmount(1200, 'JPY', 'ja-JP')).to.equal('￥1,200');
    expect(displayAmount(123450, 'USD', 'en-US')).to.equal('$1,234.50');
  });

  it('writes rates as people do', () => {
    expect([formatRate(2000), formatRate(550), formatRate(0), formatRate(2550)]).to.deep.equal(['20%', '5.5%', '0%', '25.5%']);
  });
});
