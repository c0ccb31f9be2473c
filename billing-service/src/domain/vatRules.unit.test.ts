import { expect } from 'chai';
import { type Consignment, EU_VAT_RATES, euroCentsOf, taxCategoryOf, vatRateFor, vatRateLabel, withinIoss } from './vatRules.ts';

/** A small parcel, well inside IOSS. */
const SMALL: Consignment = { goodsNetMinor: 2000, currency: 'EUR' };

function rate(category: Parameters<typeof vatRateFor>[0], country: string, consignment: Consignment = SMALL) {
  const found = vatRateFor(category, country, consignment);
  if (!found.ok) throw new Error(found.reason);
  return found.rate;
}

describe('VAT rules', () => {
  describe('product kinds', () => {
    it('reads books from the SKU and everything else from the delivery', () => {
      expect(taxCategoryOf({ sku: 'BOOK-1', delivery: 'physical' })).to.equal('printed-book');
      expect(taxCategoryOf({ sku: 'BOOK-1', delivery: 'digital' })).to.equal('e-book');
      expect(taxCategoryOf({ sku: 'ebook-7', delivery: 'digital' })).to.equal('e-book');
      expect(taxCategoryOf({ sku: 'MUG-3', delivery: 'physical' })).to.equal('goods');
      expect(taxCategoryOf({ sku: 'SOFT-9', delivery: 'digital' })).to.equal('digital');
    });
  });

  describe('to the United Kingdom', () => {
    it('charges 20% on goods and digital supplies', () => {
      expect(rate('goods', 'GB')).to.deep.equal({ basisPoints: 2000, treatment: 'standard', jurisdiction: 'GB' });
      expect(rate('digital', 'GB').basisPoints).to.equal(2000);
      expect(vatRateLabel(rate('goods', 'GB'))).to.equal('VAT 20%');
    });

    it('zero-rates printed books and e-books, whatever the order is worth', () => {
      expect(rate('printed-book', 'GB', { goodsNetMinor: 99_999_00, currency: 'GBP' })).to.deep.equal({ basisPoints: 0, treatment: 'zero-rated', jurisdiction: 'GB' });
      expect(rate('e-book', 'GB').basisPoints).to.equal(0);
      expect(vatRateLabel(rate('printed-book', 'GB'))).to.equal('VAT 0% (zero-rated)');
    });

    it('charges UK VAT on the Isle of Man, which is inside the UK VAT area', () => {
      expect(rate('goods', 'IM')).to.deep.equal({ basisPoints: 2000, treatment: 'standard', jurisdiction: 'GB' });
    });
  });

  describe('to the EU', () => {
    it('knows every member state', () => {
      expect(Object.keys(EU_VAT_RATES)).to.have.length(27);
    });

    it('charges the destination\'s standard rate on mugs and its book rate on books', () => {
      const cases: [string, number, number][] = [['PL', 2300, 500], ['FR', 2000, 550], ['IE', 2300, 0], ['DK', 2500, 2500], ['DE', 1900, 700], ['FI', 2550, 1350], ['LT', 2100, 500]];
      for (const [country, mug, book] of cases) {
        expect([rate('goods', country).basisPoints, rate('printed-book', country).basisPoints, rate('e-book', country).basisPoints], country).to.deep.equal([mug, book, book]);
      }
      expect(rate('e-book', 'FR')).to.deep.equal({ basisPoints: 550, treatment: 'reduced', jurisdiction: 'FR' });
      expect(vatRateLabel(rate('e-book', 'FR'))).to.equal('VAT 5.5% (FR)');
      expect(rate('digital', 'SE').basisPoints).to.equal(2500);
    });

    it('names a member\'s zero rate as zero-rated, and its standard rate on books as standard', () => {
      expect(rate('printed-book', 'IE')).to.deep.equal({ basisPoints: 0, treatment: 'zero-rated', jurisdiction: 'IE' });
      expect(vatRateLabel(rate('e-book', 'CZ'))).to.equal('VAT 0% (zero-rated, CZ)');
      expect(rate('printed-book', 'DK')).to.deep.equal({ basisPoints: 2500, treatment: 'standard', jurisdiction: 'DK' });
    });

    it('taxes e-books at the standard rate where the member does (Hungary), printed books at its book rate', () => {
      expect([rate('printed-book', 'HU').basisPoints, rate('e-book', 'HU').basisPoints]).to.deep.equal([500, 2700]);
    });

    it('charges French VAT in Monaco, which is inside the French VAT area', () => {
      expect(rate('goods', 'MC')).to.deep.equal({ basisPoints: 2000, treatment: 'standard', jurisdiction: 'FR' });
    });
  });

  describe('IOSS: goods to the EU', () => {
    it('charges VAT on a consignment of exactly EUR 150.00', () => {
      expect(withinIoss({ goodsNetMinor: 15000, currency: 'EUR' })).to.equal(true);
      expect(rate('goods', 'PL', { goodsNetMinor: 15000, currency: 'EUR' }).basisPoints).to.equal(2300);
    });

    it('charges none on EUR 150.01: the goods leave as exports and the customer pays the import VAT', () => {
      const over = { goodsNetMinor: 15001, currency: 'EUR' };
      expect(withinIoss(over)).to.equal(false);
      const r = rate('printed-book', 'PL', over);
      expect(r).to.deep.equal({ basisPoints: 0, treatment: 'export', jurisdiction: null, importVatDueIn: 'PL' });
      expect(vatRateLabel(r)).to.equal('No VAT charged: over EUR 150, import VAT payable by the customer (PL)');
    });

    it('still charges the destination\'s VAT on digital supplies in an order over the limit (OSS, not IOSS)', () => {
      expect(rate('e-book', 'PL', { goodsNetMinor: 50000, currency: 'EUR' })).to.deep.equal({ basisPoints: 500, treatment: 'reduced', jurisdiction: 'PL' });
    });

    it('values pounds and dollars in euros at its fixed rates, rounding up', () => {
      expect(euroCentsOf({ goodsNetMinor: 12295, currency: 'GBP' })).to.equal(15000); // 14,999.9 cents
      expect(withinIoss({ goodsNetMinor: 12295, currency: 'GBP' })).to.equal(true);
      expect(withinIoss({ goodsNetMinor: 12296, currency: 'GBP' })).to.equal(false);
      expect(withinIoss({ goodsNetMinor: 15306, currency: 'USD' })).to.equal(true);
      expect(withinIoss({ goodsNetMinor: 15307, currency: 'USD' })).to.equal(false);
    });

    it('sends goods priced in a currency it cannot value without IOSS', () => {
      expect(euroCentsOf({ goodsNetMinor: 100, currency: 'CHF' })).to.equal(null);
      expect(rate('goods', 'DE', { goodsNetMinor: 100, currency: 'CHF' }).importVatDueIn).to.equal('DE');
    });
  });

  describe('elsewhere', () => {
    it('exports goods to the United States zero-rated and leaves digital supplies outside the scope', () => {
      expect(rate('goods', 'US')).to.deep.equal({ basisPoints: 0, treatment: 'export', jurisdiction: null });
      expect(rate('digital', 'US').treatment).to.equal('outside-scope');
      expect(vatRateLabel(rate('goods', 'JP'))).to.equal('No VAT (zero-rated export)');
      expect(vatRateLabel(rate('e-book', 'JP'))).to.equal('No VAT (outside the scope of UK VAT)');
    });

    it('exports to Norway and Switzerland whatever the consignment is worth (IOSS is the EU\'s)', () => {
      for (const country of ['NO', 'CH']) expect(rate('printed-book', country, { goodsNetMinor: 99_999_00, currency: 'EUR' }).treatment).to.equal('export');
    });

    it('refuses what is not a country code', () => {
      expect(vatRateFor('goods', 'Narnia', SMALL).ok).to.equal(false);
    });
  });
});
