/**
 * Billing's VAT rules, for a shop established in the United Kingdom selling to consumers.
 *
 * - To the UK: UK VAT. Standard 20%; printed books and e-books (e-publications, since
 *   1 May 2020) are zero-rated.
 * - To a modelled EU country: that country's rate, as collected through IOSS (goods) and the
 *   non-Union OSS (digital supplies), both at the destination's rate for the kind of product.
 * - Anywhere else: goods leave as zero-rated exports; digital supplies to consumers abroad are
 *   outside the scope of UK VAT. Local sales taxes (US states, Japanese consumption tax) are
 *   not collected by this shop.
 *
 * Rates are those in force in 2025. Prices in orders are net: VAT is added on top.
 */

import { formatRate } from './money.ts';

export type TaxCategory = 'goods' | 'digital' | 'printed-book' | 'e-book';
export type Delivery = 'physical' | 'digital';

export type VatTreatment = 'standard' | 'reduced' | 'zero-rated' | 'export' | 'outside-scope';

export interface VatRate {
  /** Basis points: 2000 is 20%, 550 is 5.5%. */
  readonly basisPoints: number;
  readonly treatment: VatTreatment;
  /** Where the tax is due, ISO 3166-1 alpha-2 (GB for UK VAT), or null when none is charged. */
  readonly jurisdiction: string | null;
}

/** The kind of product a line is, by billing's catalogue convention: SKUs `BOOK-…` and `EBOOK-…` are books. */
export function taxCategoryOf(line: { readonly sku: string; readonly delivery: Delivery }): TaxCategory {
  const sku = line.sku.toUpperCase();
  if (sku.startsWith('EBOOK-')) return 'e-book';
  if (sku.startsWith('BOOK-')) return line.delivery === 'digital' ? 'e-book' : 'printed-book';
  return line.delivery === 'digital' ? 'digital' : 'goods';
}

/** Standard rate and the reduced rate for books (printed and electronic alike) in basis points. */
interface CountryRates { readonly standard: number; readonly books: number }

const UK: CountryRates = { standard: 2000, books: 0 };

/** EU members billing models; an order to another member state is refused until it is added. */
const EU_RATES: Readonly<Record<string, CountryRates>> = {
  AT: { standard: 2000, books: 1000 },
  DE: { standard: 1900, books: 700 },
  DK: { standard: 2500, books: 2500 },
  ES: { standard: 2100, books: 400 },
  FR: { standard: 2000, books: 550 },
  IT: { standard: 2200, books: 400 },
  NL: { standard: 2100, books: 900 },
  SE: { standard: 2500, books: 600 },
};

const EU_MEMBERS = new Set(['AT', 'BE', 'BG', 'HR', 'CY', 'CZ', 'DK', 'EE', 'FI', 'FR', 'DE', 'GR', 'HU', 'IE', 'IT', 'LV', 'LT', 'LU', 'MT', 'NL', 'PL', 'PT', 'RO', 'SK', 'SI', 'ES', 'SE']);

export type VatLookup = { readonly ok: true; readonly rate: VatRate } | { readonly ok: false; readonly reason: string };

/** The VAT due on one kind of product sent (or supplied) to a destination country. */
export function vatRateFor(category: TaxCategory, destination: string): VatLookup {
  const country = destination.toUpperCase();
  if (country === 'GB') return { ok: true, rate: domestic(UK, category, 'GB') };
  const eu = EU_RATES[country];
  if (eu) return { ok: true, rate: domestic(eu, category, country) };
  if (EU_MEMBERS.has(country)) return { ok: false, reason: `VAT for the EU member ${country} is not modelled yet` };
  if (!/^[A-Z]{2}$/.test(country)) return { ok: false, reason: `"${destination}" is not an ISO 3166-1 alpha-2 country code` };
  const exported = category === 'goods' || category === 'printed-book';
  return { ok: true, rate: { basisPoints: 0, treatment: exported ? 'export' : 'outside-scope', jurisdiction: null } };
}

function domestic(rates: CountryRates, category: TaxCategory, jurisdiction: string): VatRate {
  const isBook = category === 'printed-book' || category === 'e-book';
  const bp = isBook ? rates.books : rates.standard;
  const treatment: VatTreatment = bp === rates.standard ? 'standard' : bp === 0 ? 'zero-rated' : 'reduced';
  return { basisPoints: bp, treatment, jurisdiction };
}

/** How an invoice names a rate, e.g. "VAT 20%", "VAT 0% (zero-rated)", "No VAT (export)". */
export function vatRateLabel(rate: VatRate): string {
  switch (rate.treatment) {
    case 'standard':
    case 'reduced':
      return `VAT ${formatRate(rate.basisPoints)}${rate.jurisdiction && rate.jurisdiction !== 'GB' ? ` (${rate.jurisdiction})` : ''}`;
    case 'zero-rated':
      return `VAT 0% (zero-rated${rate.jurisdiction && rate.jurisdiction !== 'GB' ? `, ${rate.jurisdiction}` : ''})`;
    case 'export':
      return 'No VAT (zero-rated export)';
    case 'outside-scope':
      return 'No VAT (outside the scope of UK VAT)';
    default:
      return assertNever(rate.treatment);
  }
}

function assertNever(x: never): never {
  throw new Error(`Unexpected ${JSON.stringify(x)}`);
}
