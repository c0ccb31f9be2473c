/**
 * Money as every service holds it: integer minor units (pence, cents, yen) of one currency,
 * never a float, written in feeds and APIs as decimal strings. Pure, no I/O: domain code may
 * import it (`@shop/common/money`).
 */

const SUPPORTED = new Set(Intl.supportedValuesOf('currency'));

/** True for an ISO 4217 code this runtime knows, such as "GBP". */
export function isCurrency(code: string): boolean {
  return /^[A-Z]{3}$/.test(code) && SUPPORTED.has(code);
}

/** How many decimal digits the currency's minor unit has (GBP 2, JPY 0, BHD 3). */
export function minorDigits(currency: string): number {
  let d = digitsOf.get(currency);
  if (d === undefined) {
    d = currencyFormat('en', currency).resolvedOptions().maximumFractionDigits ?? 2;
    digitsOf.set(currency, d);
  }
  return d;
}

/** The largest amount accepted anywhere, in minor units: far above any order, far below 2^53 / 10^4. */
export const MAX_MINOR = 100_000_000_000_000;

/**
 * Parses a non-negative decimal string ("12.50", "1200", "0.5") into minor units, or undefined
 * when it is malformed, has more decimals than the currency allows, or exceeds MAX_MINOR.
 */
export function parseAmount(text: string, digits: number): number | undefined {
  const m = /^(\d{1,15})(?:\.(\d+))?$/.exec(text);
  if (!m) return undefined;
  const frac = m[2] ?? '';
  if (frac.length > digits) return undefined;
  const minor = BigInt(m[1]!) * 10n ** BigInt(digits) + BigInt(frac.padEnd(digits, '0') || '0');
  return minor <= BigInt(MAX_MINOR) ? Number(minor) : undefined;
}

/** Minor units as a plain decimal string with the currency's digits: 1250 (2 digits) is "12.50". */
export function formatAmount(minor: number, digits: number): string {
  const sign = minor < 0 ? '-' : '';
  const abs = Math.abs(minor).toString().padStart(digits + 1, '0');
  return digits === 0 ? `${sign}${abs}` : `${sign}${abs.slice(0, -digits)}.${abs.slice(-digits)}`;
}

/** Minor units for people, the locale's way: "£1,234.50", "1.234,50 €", "￥1,200". */
export function displayAmount(minor: number, currency: string, locale = 'en-GB'): string {
  // An exact decimal string (Intl.NumberFormat v3), so Intl never sees a binary float.
  const exact = formatAmount(minor, minorDigits(currency)) as `${number}`;
  return currencyFormat(locale, currency).format(exact);
}

// Building an Intl.NumberFormat costs about 100 us, far more than using one, and one feed entry
// formats a dozen amounts: keep them (a few currencies and locales in practice; bounded anyway).
const formats = new Map<string, Intl.NumberFormat>();
const digitsOf = new Map<string, number>();

function currencyFormat(locale: string, currency: string): Intl.NumberFormat {
  const key = `${locale}|${currency}`;
  let f = formats.get(key);
  if (!f) {
    f = new Intl.NumberFormat(locale, { style: 'currency', currency });
    if (formats.size >= 1000) { formats.clear(); digitsOf.clear(); }
    formats.set(key, f);
  }
  return f;
}
