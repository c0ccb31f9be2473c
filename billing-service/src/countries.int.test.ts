import { expect } from 'chai';
import { readFeedDocument } from '@shop/common';
import { call, tempDir } from '@shop/common/testing';
import { DEFAULT_SHIP_TO_COUNTRIES, EU_MEMBERS } from '../../order-service/src/domain/shipToCountries.ts';
import { type RunningOrderService, startOrderService } from '../../order-service/src/testing/startOrderService.ts';
import { EU_VAT_RATES, vatRateFor } from './domain/vatRules.ts';
import { type RunningBillingService, startBillingService } from './testing/startBillingService.ts';

const CARD = { type: 'card', brand: 'visa', last4: '4242' };
const customer = { name: 'Ada Lovelace', email: 'ada@example.com' };
const bookAndMug = (currency: string, book: string, mug: string) => ({
  customer, currency,
  lines: [
    { sku: 'BOOK-1', name: 'Notes on the Analytical Engine', quantity: 1, unitPrice: book, delivery: 'physical' },
    { sku: 'MUG-3', name: 'Difference Engine mug', quantity: 1, unitPrice: mug, delivery: 'physical' },
  ],
});

/**
 * The order service and billing, both real, joined only by the order feed: orders to countries
 * billing used to park (Poland, Denmark) and an export (the US) are invoiced, with the right VAT.
 */
describe('Orders to every country the shop sells to', function () {
  this.timeout(20_000);
  const dir = tempDir();
  let orders: RunningOrderService;
  let billing: RunningBillingService;

  before(async () => {
    orders = await startOrderService(`${dir.path}/orders`);
    billing = await startBillingService(`${dir.path}/billing`, { ORDER_FEED_URL: `${orders.url}/feed` });
  });
  after(async () => {
    await billing.close();
    await orders.close();
    dir.remove();
  });

  it('are invoiced in billing\'s feed with the destination\'s VAT, and can be paid', async () => {
    const placed: Record<string, string> = {};
    const bodies = {
      PL: { ...bookAndMug('EUR', '20.00', '10.00'), shippingAddress: { line1: 'ul. Marszałkowska 1', city: 'Warszawa', postalCode: '00-001', country: 'PL' } },
      DK: { ...bookAndMug('EUR', '20.00', '10.00'), shippingAddress: { line1: 'Strøget 1', city: 'København K', postalCode: '1160', country: 'DK' } },
      US: { ...bookAndMug('USD', '20.00', '10.00'), shippingAddress: { line1: '1600 Pennsylvania Ave NW', city: 'Washington', region: 'DC', postalCode: '20500', country: 'US' } },
    };
    for (const [country, body] of Object.entries(bodies)) {
      const r = await call('POST', `${orders.url}/orders`, body);
      expect(r.status, r.body).to.equal(201);
      placed[country] = r.json()['id'] as string;
    }

    expect(await billing.orderFeed.pollOnce()).to.deep.include({ kind: 'read', processed: 3 });
    expect(billing.orderFeed.status().parked).to.deep.equal([]);

    const feed = readFeedDocument((await call('GET', `${billing.url}/feed`)).body);
    const invoiceOf = (country: string) => {
      const entry = feed.entries.find((e) => e.type === 'InvoiceIssued' && e.orderId === placed[country]);
      if (!entry) throw new Error(`no invoice for the order to ${country}`);
      const p = entry.payload;
      return { taxCountry: p['taxCountry'], vat: (p['vat'] as Record<string, string>[]).map((b) => [b['label'], b['vat']]), total: p['total'] };
    };
    expect(invoiceOf('PL')).to.deep.equal({ taxCountry: 'PL', vat: [['VAT 23% (PL)', '2.30'], ['VAT 5% (PL)', '1.00']], total: '33.30' });
    expect(invoiceOf('DK')).to.deep.equal({ taxCountry: 'DK', vat: [['VAT 25% (DK)', '7.50']], total: '37.50' });
    expect(invoiceOf('US')).to.deep.equal({ taxCountry: 'US', vat: [['No VAT (zero-rated export)', '0.00']], total: '30.00' });

    const paid = await call('POST', `${billing.url}/payments`, { orderId: placed['PL'], method: CARD }, { 'idempotency-key': 'pay-poland' });
    expect(paid.status, paid.body).to.equal(201);
    expect(paid.json()).to.deep.include({ amount: '33.30', currency: 'EUR' });
  });

  it('are every one invoiceable by billing, and the EU members with their own VAT', () => {
    expect([...EU_MEMBERS].sort()).to.deep.equal(Object.keys(EU_VAT_RATES).sort());
    const parcel = { goodsNetMinor: 3000, currency: 'EUR' };
    for (const country of DEFAULT_SHIP_TO_COUNTRIES) {
      const found = vatRateFor('goods', country, parcel);
      if (!found.ok) throw new Error(`${country}: ${found.reason}`);
      const expected = country === 'GB' || country in EU_VAT_RATES ? country : null;
      expect(found.rate.jurisdiction, country).to.equal(expected);
    }
  });
});
