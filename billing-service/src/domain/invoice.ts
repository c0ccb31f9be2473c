import { percentOf } from './money.ts';
import type { OrderLine, PlacedOrder } from './orderContract.ts';
import { type Consignment, type Delivery, type TaxCategory, type VatRate, taxCategoryOf, vatRateFor, vatRateLabel } from './vatRules.ts';

/** One invoiced line. Amounts are minor units of the invoice currency. */
export interface InvoiceLine {
  readonly sku: string;
  readonly name: string;
  readonly quantity: number;
  readonly unitPriceMinor: number;
  readonly netMinor: number;
  readonly delivery: Delivery;
  readonly taxCategory: TaxCategory;
  readonly rate: VatRate;
  readonly rateLabel: string;
}

/** The VAT of all lines taxed alike, computed on their summed net (one rounding per rate). */
export interface VatBand {
  readonly label: string;
  readonly rate: VatRate;
  readonly netMinor: number;
  readonly vatMinor: number;
}

export interface Invoice {
  readonly invoiceId: string;
  readonly orderId: string;
  readonly issuedAt: string;
  readonly customer: { readonly name: string; readonly email: string };
  readonly currency: string;
  /** The BCP 47 locale amounts and dates are shown in, chosen by the customer's country. */
  readonly locale: string;
  /** The country whose rules set the VAT: the delivery address, or GB for a digital-only order. */
  readonly taxCountry: string;
  readonly lines: readonly InvoiceLine[];
  readonly bands: readonly VatBand[];
  readonly netMinor: number;
  readonly vatMinor: number;
  readonly totalMinor: number;
}

export type InvoiceResult = { readonly ok: true; readonly invoice: Invoice } | { readonly ok: false; readonly reason: string };

/**
 * Prices an order. A digital-only order has no address; billing then assumes a UK customer
 * (a real shop would collect evidence of the customer's location). The order's physical lines
 * travel as one consignment, whose value decides whether goods to the EU go through IOSS.
 */
export function buildInvoice(order: PlacedOrder, invoiceId: string, issuedAt: string): InvoiceResult {
  const taxCountry = order.destination ?? 'GB';
  const consignment: Consignment = {
    goodsNetMinor: order.lines.filter((l) => l.delivery === 'physical').reduce((s, l) => s + l.quantity * l.unitPriceMinor, 0),
    currency: order.currency,
  };
  const lines: InvoiceLine[] = [];
  for (const l of order.lines) {
    const priced = priceLine(l, taxCountry, consignment);
    if (!priced.ok) return priced;
    lines.push(priced.line);
  }
  const bands = bandsOf(lines);
  const netMinor = lines.reduce((s, l) => s + l.netMinor, 0);
  const vatMinor = bands.reduce((s, b) => s + b.vatMinor, 0);
  return {
    ok: true,
    invoice: {
      invoiceId, orderId: order.orderId, issuedAt, customer: order.customer, currency: order.currency,
      locale: localeFor(taxCountry), taxCountry, lines, bands, netMinor, vatMinor, totalMinor: netMinor + vatMinor,
    },
  };
}

function priceLine(l: OrderLine, country: string, consignment: Consignment): { ok: true; line: InvoiceLine } | { ok: false; reason: string } {
  const taxCategory = taxCategoryOf(l);
  const found = vatRateFor(taxCategory, country, consignment);
  if (!found.ok) return found;
  return {
    ok: true,
    line: {
      sku: l.sku, name: l.name, quantity: l.quantity, unitPriceMinor: l.unitPriceMinor, netMinor: l.quantity * l.unitPriceMinor,
      delivery: l.delivery, taxCategory, rate: found.rate, rateLabel: vatRateLabel(found.rate),
    },
  };
}

/** Groups lines by rate label, highest rate first; each band's VAT is rounded once. */
function bandsOf(lines: readonly InvoiceLine[]): VatBand[] {
  const byLabel = new Map<string, { rate: VatRate; net: number }>();
  for (const l of lines) {
    const band = byLabel.get(l.rateLabel) ?? { rate: l.rate, net: 0 };
    band.net += l.netMinor;
    byLabel.set(l.rateLabel, band);
  }
  return [...byLabel.entries()]
    .map(([label, b]) => ({ label, rate: b.rate, netMinor: b.net, vatMinor: percentOf(b.net, b.rate.basisPoints) }))
    .sort((a, b) => b.rate.basisPoints - a.rate.basisPoints || a.label.localeCompare(b.label));
}

const LOCALES: Readonly<Record<string, string>> = {
  GB: 'en-GB', IE: 'en-IE', US: 'en-US', CA: 'en-CA', AU: 'en-AU', NZ: 'en-NZ',
  AT: 'de-AT', DE: 'de-DE', DK: 'da-DK', ES: 'es-ES', FR: 'fr-FR', IT: 'it-IT', NL: 'nl-NL', SE: 'sv-SE', JP: 'ja-JP',
  BG: 'bg-BG', CZ: 'cs-CZ', EE: 'et-EE', FI: 'fi-FI', GR: 'el-GR', HR: 'hr-HR', HU: 'hu-HU', LT: 'lt-LT', LV: 'lv-LV',
  NO: 'nb-NO', PL: 'pl-PL', PT: 'pt-PT', RO: 'ro-RO', SI: 'sl-SI', SK: 'sk-SK',
};

/** The locale an invoice to this country is written in (British English where not listed). */
export function localeFor(country: string): string {
  return LOCALES[country] ?? 'en-GB';
}
