import { expect } from 'chai';
import { adaOrder } from '../testing/adaOrder.ts';
import { isCountryCode } from './countryCodes.ts';
import { parseOrderRequest } from './parseOrderRequest.ts';
import { DEFAULT_SHIP_TO_COUNTRIES, checkDestination } from './shipToCountries.ts';

const SHIP_TO = new Set(DEFAULT_SHIP_TO_COUNTRIES);

function to(country: string | null) {
  const parsed = parseOrderRequest(country === null
    ? { ...adaOrder, lines: [adaOrder.lines[1]], shippingAddress: null }
    : { ...adaOrder, shippingAddress: { ...adaOrder.shippingAddress, country } });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return parsed.value;
}

describe('Where the shop ships', () => {
  it('accepts an order to a country in SHIP_TO_COUNTRIES', () => {
    for (const country of ['GB', 'PL', 'DK', 'IE', 'FR', 'US', 'JP']) expect(checkDestination(to(country), SHIP_TO), country).to.equal(null);
  });

  it('refuses an order to any other country, naming it and the setting', () => {
    expect(checkDestination(to('BR'), SHIP_TO)).to.deep.equal({ pointer: '/shippingAddress/country', detail: 'the shop does not ship to Brazil (BR): it is not in SHIP_TO_COUNTRIES' });
    expect(checkDestination(to('PL'), new Set(['GB']))?.detail).to.match(/Poland \(PL\)/);
  });

  it('lets a digital-only order without an address through: it names no country', () => {
    expect(checkDestination(to(null), new Set(['US']))).to.equal(null);
  });

  it('knows country codes from aliases and regions that are not countries', () => {
    for (const code of ['GB', 'PL', 'GR', 'NO']) expect(isCountryCode(code), code).to.equal(true);
    for (const code of ['UK', 'EU', 'UN', 'EL', 'XX', 'ZZ', 'QO', 'SU', 'DD', 'gb', 'GBR']) expect(isCountryCode(code), code).to.equal(false);
  });
});
