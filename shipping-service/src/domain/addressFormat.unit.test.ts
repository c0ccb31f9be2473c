import { expect } from 'chai';
import { formatAddress } from './addressFormat.ts';

describe('Address formats', () => {
  it('writes a UK address with the post town and postcode in capitals and no country', () => {
    expect(formatAddress('Ada Lovelace', { line1: "12 St James's Square", city: 'London', postalCode: 'sw1y 4jh', country: 'GB' }))
      .to.deep.equal(['Ada Lovelace', "12 St James's Square", 'LONDON', 'SW1Y 4JH']);
  });

  it('writes a US address with town, state and ZIP on one line', () => {
    expect(formatAddress('Grace Hopper', { line1: '1600 Pennsylvania Ave NW', line2: 'Suite 1', city: 'Washington', region: 'DC', postalCode: '20500', country: 'US' }))
      .to.deep.equal(['Grace Hopper', '1600 Pennsylvania Ave NW', 'Suite 1', 'WASHINGTON DC 20500', 'UNITED STATES OF AMERICA']);
  });

  it('writes a Japanese address in Japanese order: postcode, prefecture to block, then the name with 様', () => {
    expect(formatAddress('山田太郎', { line1: '千代田1-1', city: '千代田区', region: '東京都', postalCode: '100-8111', country: 'JP' }))
      .to.deep.equal(['〒100-8111', '東京都千代田区千代田1-1', '山田太郎 様', 'JAPAN']);
  });

  it('writes a Japanese address in Latin letters the Western way', () => {
    expect(formatAddress('Taro Yamada', { line1: '1-1 Chiyoda', city: 'Chiyoda-ku', region: 'Tokyo', postalCode: '100-8111', country: 'JP' }))
      .to.deep.equal(['Taro Yamada', '1-1 Chiyoda', 'Chiyoda-ku', 'Tokyo 100-8111', 'JAPAN']);
  });

  it('puts the postcode before the town in Germany, and the town in capitals in France', () => {
    expect(formatAddress('Emmy Noether', { line1: 'Unter den Linden 1', city: 'Berlin', postalCode: '10117', country: 'DE' })).to.deep.equal(['Emmy Noether', 'Unter den Linden 1', '10117 Berlin', 'GERMANY']);
    expect(formatAddress('Marie Curie', { line1: '1 rue Pierre et Marie Curie', city: 'Paris', postalCode: '75005', country: 'FR' }).slice(-2)).to.deep.equal(['75005 PARIS', 'FRANCE']);
  });

  it('separates the Canadian province and postal code with two spaces', () => {
    expect(formatAddress('A', { line1: '24 Sussex Dr', city: 'Ottawa', region: 'ON', postalCode: 'K1M 1M4', country: 'CA' })[2]).to.equal('OTTAWA ON  K1M 1M4');
  });
});
