/**
 * Postal address layouts, as each country writes them, for parcels sent from the UK: no country
 * line at home, the country's English name in capitals as the last line abroad (UPU practice).
 */

export interface Address {
  readonly line1: string;
  readonly line2?: string | undefined;
  readonly city: string;
  readonly region?: string | undefined;
  readonly postalCode: string;
  /** ISO 3166-1 alpha-2. */
  readonly country: string;
}

export const ORIGIN_COUNTRY = 'GB';

const countryNames = new Intl.DisplayNames('en-GB', { type: 'region', fallback: 'code' });

/** The postcode before the town, as in most of continental Europe: "10117 Berlin". */
const POSTCODE_FIRST = new Set(['AT', 'BE', 'CH', 'CZ', 'DE', 'DK', 'ES', 'FI', 'FR', 'GR', 'IS', 'IT', 'LU', 'NL', 'NO', 'PL', 'PT', 'SE', 'SI', 'SK']);
/** Town, region and postcode on one line, in capitals: "WASHINGTON DC 20500". */
const TOWN_REGION_POSTCODE = new Set(['US', 'CA', 'AU']);
/** Japanese script: hiragana, katakana, CJK ideographs, full-width forms. */
const JAPANESE = /[\u3040-\u30ff\u3400-\u9fff\uff00-\uffef]/;

/** The lines of the label, top to bottom. */
export function formatAddress(recipient: string, a: Address): string[] {
  const country = a.country.toUpperCase();
  const street = [a.line1, a.line2].filter(nonEmpty);
  const countryLine = country === ORIGIN_COUNTRY ? [] : [countryName(country)];
  if (country === 'GB') return [recipient, ...street, a.city.toUpperCase(), a.postalCode.toUpperCase()];
  if (country === 'JP') return [...japanese(recipient, a), ...countryLine];
  if (TOWN_REGION_POSTCODE.has(country)) {
    // Canada Post puts two spaces between the province and the postal code.
    const gap = country === 'CA' ? '  ' : ' ';
    const last = [a.city.toUpperCase(), a.region?.toUpperCase()].filter(nonEmpty).join(' ') + gap + a.postalCode.toUpperCase();
    return [recipient, ...street, last, ...countryLine];
  }
  if (POSTCODE_FIRST.has(country)) {
    // La Poste asks for the town in capitals.
    const town = country === 'FR' ? a.city.toUpperCase() : a.city;
    return [recipient, ...street, `${a.postalCode} ${town}`, ...(a.region ? [a.region] : []), ...countryLine];
  }
  return [recipient, ...street, a.city, ...[a.region, a.postalCode].filter(nonEmpty), ...countryLine];
}

/**
 * Written in Japanese, an address runs from the largest unit to the smallest and ends with the
 * addressee: 〒postcode, then prefecture, city and block, then the name with the honorific 様.
 * Written in Latin letters it runs the Western way, with prefecture and postcode together.
 */
function japanese(recipient: string, a: Address): string[] {
  if (JAPANESE.test([a.line1, a.line2, a.city, a.region].join(''))) {
    return [`〒${a.postalCode}`, [a.region, a.city, a.line1].filter(nonEmpty).join(''), ...(a.line2 ? [a.line2] : []), `${recipient} 様`];
  }
  return [recipient, ...[a.line1, a.line2].filter(nonEmpty), a.city, [a.region, a.postalCode].filter(nonEmpty).join(' ')];
}

export function countryName(code: string): string {
  const special: Record<string, string> = { US: 'UNITED STATES OF AMERICA' };
  return special[code] ?? (countryNames.of(code) ?? code).toUpperCase();
}

function nonEmpty(s: string | undefined | null): s is string {
  return typeof s === 'string' && s.trim() !== '';
}
