/**
 * Billing's VAT rules, for a shop established in the United Kingdom selling to consumers.
 *
 * - To the UK (and the Isle of Man, inside the UK VAT area): UK VAT. Standard 20%; printed books
 *   and e-books (e-publications, since 1 May 2020) are zero-rated.
 * - To an EU member state (and Monaco, inside the French VAT area): that member's VAT for the kind
 *   of product. Digital supplies, e-books among them, through the non-Union OSS, always. Goods
 *   through IOSS when the consignment's intrinsic value is at most EUR 150; above that no VAT is
 *   charged here: the goods leave as UK exports and the customer pays the import VAT (and any duty
 *   or carrier's fee) on delivery, as IOSS cannot be used for them.
 * - Anywhere else: goods leave as zero-rated exports; digital supplies to consumers abroad are
 *   outside the scope of UK VAT. Local taxes (US sales taxes, Norwegian, Canadian, Australian,
 *   New Zealand or Japanese VAT/GST) are not collected: the order service sells only where the
 *   shop is below the threshold at which a foreign seller must collect them (see the README).
 *
 * Rates are those in force on 1 January 2026 (source and date in the README). Prices in orders
 * are net: VAT is added on top.
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
  /** Goods to the EU above the IOSS limit: the member state whose import VAT the customer pays on delivery. */
  readonly importVatDueIn?: string;
}

/** What an order sends as one parcel: its physical lines' net value, in the order's currency. */
export interface Consignment {
  readonly goodsNetMinor: number;
  readonly currency: string;
}

/** The kind of product a line is, by billing's catalogue convention: SKUs `BOOK-…` and `EBOOK-…` are books. */
export function taxCategoryOf(line: { readonly sku: string; readonly delivery: Delivery }): TaxCategory {
  const sku = line.sku.toUpperCase();
  if (sku.startsWith('EBOOK-')) return 'e-book';
  if (sku.startsWith('BOOK-')) return line.delivery === 'digital' ? 'e-book' : 'printed-book';
  return line.delivery === 'digital' ? 'digital' : 'goods';
}

/** A country's VAT rates for what the shop sells, in basis points. */
export interface CountryRates {
  readonly standard: number;
  readonly printedBooks: number;
  readonly eBooks: number;
}

const rates = (standard: number, printedBooks: number, eBooks = printedBooks): CountryRates => ({ standard, printedBooks, eBooks });

const UK: CountryRates = rates(2000, 0);

/**
 * Every EU member state: standard rate, rate for printed books, rate for e-books (which follow
 * printed books everywhere but Hungary, whose e-books stay at the standard rate). Mugs and other
 * goods and digital supplies take the standard rate. In force on 1 January 2026; see the README.
 */
export const EU_VAT_RATES: Readonly<Record<string, CountryRates>> = {
  AT: rates(2000, 1000), BE: rates(2100, 600), BG: rates(2000, 900), CY: rates(1900, 300),
  CZ: rates(2100, 0), DE: rates(1900, 700), DK: rates(2500, 2500), EE: rates(2400, 900),
  ES: rates(2100, 400), FI: rates(2550, 1350), FR: rates(2000, 550), GR: rates(2400, 600),
  HR: rates(2500, 500), HU: rates(2700, 500, 2700), IE: rates(2300, 0), IT: rates(2200, 400),
  LT: rates(2100, 500), LU: rates(1700, 300), LV: rates(2100, 500), MT: rates(1800, 500),
  NL: rates(2100, 900), PL: rates(2300, 500), PT: rates(2300, 600), RO: rates(2100, 1100),
  SE: rates(2500, 600), SI: rates(2200, 500), SK: rates(2300, 500),
};

/** Places with their own country code inside another's VAT area. */
const VAT_AREA_OF: Readonly<Record<string, string>> = { IM: 'GB', MC: 'FR' };

/** IOSS covers consignments of an intrinsic value up to EUR 150.00. */
export const IOSS_LIMIT_EURO_CENTS = 15_000;

/**
 * Fixed rates for valuing a consignment in euros against the IOSS limit: euro cents per minor
 * unit, as a fraction. Set at or above the highest ECB reference rate of 2025 (GBP 1 = EUR 1.22,
 * USD 1 = EUR 0.98) and rounded up, so a consignment is never valued below its worth: one near
 * the limit may go without IOSS (lawful: IOSS is optional), never the reverse. Another currency
 * cannot be valued, so its goods go without IOSS.
 */
const EURO_CENTS_PER_MINOR: Readonly<Record<string, readonly [bigint, bigint]>> = {
  EUR: [1n, 1n],
  GBP: [122n, 100n],
  USD: [98n, 100n],
};

/** A consignment's value in euro cents (rounded up), or null when its currency has no fixed rate here. */
export function euroCentsOf(consignment: Consignment): number | null {
  const rate = EURO_CENTS_PER_MINOR[consignment.currency];
  if (!rate) return null;
  const [cents, perMinor] = rate;
  return Number((BigInt(consignment.goodsNetMinor) * cents + perMinor - 1n) / perMinor);
}

/** Whether goods to the EU can go through IOSS: a consignment of at most EUR 150. */
export function withinIoss(consignment: Consignment): boolean {
  const euros = euroCentsOf(consignment);
  return euros !== null && euros <= IOSS_LIMIT_EURO_CENTS;
}

export type VatLookup = { readonly ok: true; readonly rate: VatRate } | { readonly ok: false; readonly reason: string };

/**
 * The VAT due on one kind of product sent (or supplied) to a destination country, as part of
 * an order whose goods make up `consignment`.
 */
export function vatRateFor(category: TaxCategory, destination: string, consignment: Consignment): VatLookup {
  const named = destination.toUpperCase();
  if (!/^[A-Z]{2}$/.test(named)) return { ok: false, reason: `"${destination}" is not an ISO 3166-1 alpha-2 country code` };
  const country = VAT_AREA_OF[named] ?? named;
  if (country === 'GB') return { ok: true, rate: rateOf(UK, category, 'GB') };
  const member = EU_VAT_RATES[country];
  const isGoods = category === 'goods' || category === 'printed-book';
  if (member) {
    if (isGoods && !withinIoss(consignment)) {
      return { ok: true, rate: { basisPoints: 0, treatment: 'export', jurisdiction: null, importVatDueIn: country } };
    }
    return { ok: true, rate: rateOf(member, category, country) };
  }
  return { ok: true, rate: { basisPoints: 0, treatment: isGoods ? 'export' : 'outside-scope', jurisdiction: null } };
}

function rateOf(rates: CountryRates, category: TaxCategory, jurisdiction: string): VatRate {
  const bp = category === 'printed-book' ? rates.printedBooks : category === 'e-book' ? rates.eBooks : rates.standard;
  const treatment: VatTreatment = bp === rates.standard ? 'standard' : bp === 0 ? 'zero-rated' : 'reduced';
  return { basisPoints: bp, treatment, jurisdiction };
}

/**
 * How an invoice names a rate, e.g. "VAT 20%", "VAT 5% (PL)", "VAT 0% (zero-rated)",
 * "No VAT (zero-rated export)", or for goods above the IOSS limit who pays the import VAT.
 */
export function vatRateLabel(rate: VatRate): string {
  const abroad = rate.jurisdiction && rate.jurisdiction !== 'GB' ? rate.jurisdiction : null;
  switch (rate.treatment) {
    case 'standard':
    case 'reduced':
      return `VAT ${formatRate(rate.basisPoints)}${abroad ? ` (${abroad})` : ''}`;
    case 'zero-rated':
      return `VAT 0% (zero-rated${abroad ? `, ${abroad}` : ''})`;
    case 'export':
      return rate.importVatDueIn
        ? `No VAT charged: over EUR ${IOSS_LIMIT_EURO_CENTS / 100}, import VAT payable by the customer (${rate.importVatDueIn})`
        : 'No VAT (zero-rated export)';
    case 'outside-scope':
      return 'No VAT (outside the scope of UK VAT)';
    default:
      return assertNever(rate.treatment);
  }
}

function assertNever(x: never): never {
  throw new Error(`Unexpected ${JSON.stringify(x)}`);
}
