import { expect } from 'chai';
import { taxCategoryOf, vatRateFor, vatRateLabel } from './vatRules.ts';

function rate(category: Parameters<typeof vatRateFor>[0], country: string) {
  const found = vatRateFor(category, country);
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

    it('zero-rates printed books and e-books', () => {
      expect(rate('printed-book', 'GB')).to.deep.equal({ basisPoints: 0, treatment: 'zero-rated', jurisdiction: 'GB' });
      expect(rate('e-book', 'GB').basisPoints).to.equal(0);
      expect(vatRateLabel(rate('printed-book', 'GB'))).to.equal('VAT 0% (zero-rated)');
    });
  });

  describe('to the EU', () => {
    it('charges the destination\'s standard and book rates', () => {
      expect(rate('goods', 'DE').basisPoints).to.equal(1900);
      expect(rate('printed-book', 'DE').basisPoints).to.equal(700);
      expect(rate('e-book', 'FR')).to.deep.equal({ basisPoints: 550, treatment: 'reduced', jurisdiction: 'FR' });
      expect(rate('digital', 'SE').basisPoints).to.equal(2500);
      expect(vatRateLabel(rate('e-book', 'FR'))).to.equal('VAT 5.5% (FR)');
    });

    it('treats a country with no reduced book rate as standard', () => {
      expect(rate('printed-book', 'DK')).to.deep.equal({ basisPoints: 2500, treatment: 'standard', jurisdiction: 'DK' });
    });

    it('refuses a member state whose rates are not modelled rather than guessing', () => {
      const found = vatRateFor('goods', 'PL');
      expect(found.ok).to.equal(false);
      if (!found.ok) expect(found.reason).to.match(/PL is not modelled/);
    });
  });

  describe('elsewhere', () => {
    it('exports goods to the United States zero-rated and leaves digital supplies outside the scope', () => {
      expect(rate('goods', 'US')).to.deep.equal({ basisPoints: 0, treatment: 'export', jurisdiction: null });
      expect(rate('digital', 'US').treatment).to.equal('outside-scope');
      expect(vatRateLabel(rate('goods', 'JP'))).to.equal('No VAT (zero-rated export)');
      expect(vatRateLabel(rate('e-book', 'JP'))).to.equal('No VAT (outside the scope of UK VAT)');
    });

    it('refuses what is not a country code', () => {
      expect(vatRateFor('goods', 'Narnia').ok).to.equal(false);
    });
  });
});
