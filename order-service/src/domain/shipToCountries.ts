import type { FieldError, OrderRequest } from './parseOrderRequest.ts';
import { countryName } from './countryCodes.ts';

/** The 27 member states of the European Union. */
export const EU_MEMBERS = [
  'AT', 'BE', 'BG', 'CY', 'CZ', 'DE', 'DK', 'EE', 'ES', 'FI', 'FR', 'GR', 'HR', 'HU',
  'IE', 'IT', 'LT', 'LU', 'LV', 'MT', 'NL', 'PL', 'PT', 'RO', 'SE', 'SI', 'SK',
] as const;

/**
 * Where the shop sells by default (SHIP_TO_COUNTRIES): the UK, the EU, and countries billing
 * invoices as zero-rated exports because the shop sells there below the threshold at which a
 * foreign seller must collect their tax (see billing's README): the US, Norway, Canada,
 * Australia, New Zealand and Japan.
 */
export const DEFAULT_SHIP_TO_COUNTRIES: readonly string[] = Object.freeze(['GB', ...EU_MEMBERS, 'US', 'NO', 'CA', 'AU', 'NZ', 'JP']);

/**
 * Refuses an order to a country the shop does not sell to. The country is the shipping
 * address's, which billing also taxes by; a digital-only order without an address names no
 * country (the API has no billing country), so it passes, and billing treats it as a UK sale.
 */
export function checkDestination(order: Pick<OrderRequest, 'shippingAddress'>, shipTo: ReadonlySet<string>): FieldError | null {
  const country = order.shippingAddress?.country;
  if (country === undefined || shipTo.has(country)) return null;
  return { pointer: '/shippingAddress/country', detail: `the shop does not ship to ${countryName(country)} (${country}): it is not in SHIP_TO_COUNTRIES` };
}
