/**
 * ISO 3166-1 alpha-2 country codes, as the runtime's CLDR data knows them. CLDR also names
 * regions that are not countries (EU, UN, the user-assigned QM-QZ and XA-XZ) and keeps old or
 * reserved codes as aliases (UK for GB, SU for RU, DD for DE): neither is a destination.
 */

const REGIONS = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' });

/** ISO 3166-1's exceptionally reserved codes: not countries of their own (UK is GB, EU a union). */
const RESERVED = new Set(['AC', 'CP', 'CQ', 'DG', 'EA', 'EU', 'EZ', 'FX', 'IC', 'SU', 'TA', 'UK', 'UN']);

/** Codes people write for a country whose ISO code is another. */
const MEANT: Readonly<Record<string, string>> = { UK: 'GB', EL: 'GR' };

/** Whether `code` is an assigned ISO 3166-1 alpha-2 country code, in capitals: "GB", "PL", "US". */
export function isCountryCode(code: string): boolean {
  if (!/^[A-Z]{2}$/.test(code) || RESERVED.has(code) || code === 'AA' || code === 'ZZ' || /^(Q[M-Z]|X[A-Z])$/.test(code)) return false;
  return REGIONS.of(code) !== undefined && Intl.getCanonicalLocales(`und-${code}`)[0] === `und-${code}`;
}

/** The English name of a country code: "Poland" for PL. */
export function countryName(code: string): string {
  return REGIONS.of(code) ?? code;
}

/** The country code someone probably meant by a code that is not one ("GB" for "UK"), if any. */
export function meantCountryCode(code: string): string | undefined {
  return MEANT[code.toUpperCase()];
}
