/**
 * Money is integer minor units (pence, cents, yen) of one currency; never a float. Products of
 * amounts and rates are taken in bigint so no intermediate value can lose precision.
 */

const SUPPORTED = new Set(Intl.supportedValuesOf('currency'));

export function isCurrency(code: string): boolean {
  return /^[A-Z]{3}$/.test(code) && SUPPORTED.has(code);
}

/** How many decimal digits the currency's minor unit has (GBP 2, JPY 0, KWD 3). */
export function minorDigits(currency: string): number {
  return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
}

/** The largest amount billing accepts, in minor units: far above any order, far below 2^53 / 10^4. */
export const MAX_MINOR = 100_000_000_000_000;

/**
 * Parses a non-negative decimal string ("12.50", "1200", "0.5") into minor units, or undefined
 * when it is malformed, has more decimals than the currency allows, or is absurdly large.
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

/** Formats minor units for people with the locale's conventions: "£1,234.50", "1.234,50 €", "￥1,200". */
export function displayAmount(minor: number, currency: string, locale: string): string {
  // An exact decimal string (Intl.NumberFormat v3), so Intl never sees a binary float.
  const exact = formatAmount(minor, minorDigits(currency)) as `${number}`;
  return new Intl.NumberFormat(locale, { style: 'currency', currency }).format(exact);
}

/**
 * `amount * basisPoints / 10000`, rounded half up to a whole minor unit (HMRC accepts rounding
 * the VAT of each rate to the nearest penny; half a penny rounds up).
 */
export function percentOf(amountMinor: number, basisPoints: number): number {
  if (amountMinor < 0 || basisPoints < 0) throw new RangeError('percentOf takes non-negative values');
  return Number((BigInt(amountMinor) * BigInt(basisPoints) + 5000n) / 10000n);
}

/** A rate in basis points as people write it: 2000 is "20%", 550 is "5.5%". */
export function formatRate(basisPoints: number): string {
  const whole = Math.trunc(basisPoints / 100);
  const frac = (basisPoints % 100).toString().padStart(2, '0').replace(/0+$/, '');
  return frac ? `${whole}.${frac}%` : `${whole}%`;
}
