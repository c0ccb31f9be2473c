/** Money is integer minor units (pence, cents, yen) plus a currency; never a float. */

const SUPPORTED = new Set(Intl.supportedValuesOf('currency'));

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

// Building an Intl.NumberFormat costs about 100 µs, far more than using one, and an order
// needs a dozen: keep them (a few currencies and locales in practice; bounded all the same).
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

/**
 * Parses a decimal string such as "12.50" into minor units, or undefined when it is not a
 * non-negative amount with at most the currency's number of decimals.
 */
export function parseAmount(text: string, digits: number): number | undefined {
  const m = /^(\d{1,12})(?:\.(\d+))?$/.exec(text);
  if (!m) return undefined;
  const frac = m[2] ?? '';
  if (frac.length > digits) return undefined;
  const minor = Number(m[1]) * 10 ** digits + Number(frac.padEnd(digits, '0') || '0');
  return Number.isSafeInteger(minor) ? minor : undefined;
}

/** Formats minor units as a plain decimal string: 1250 with 2 digits is "12.50". */
export function formatAmount(minor: number, digits: number): string {
  const sign = minor < 0 ? '-' : '';
  const abs = Math.abs(minor).toString().padStart(digits + 1, '0');
  return digits === 0 ? `${sign}${abs}` : `${sign}${abs.slice(0, -digits)}.${abs.slice(-digits)}`;
}

/** Formats minor units for people, in the currency's own way: "£12.50", "¥1,200". */
export function displayAmount(minor: number, currency: string, locale = 'en-GB'): string {
  const digits = minorDigits(currency);
  // An exact decimal string, so Intl never sees a binary float.
  return currencyFormat(locale, currency).format(formatAmount(minor, digits) as unknown as number);
}
