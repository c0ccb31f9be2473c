import type { Address, Customer, Delivery, OrderLine } from './events.ts';
import { isCurrency, minorDigits, parseAmount } from '@shop/common/money';
import { isCountryCode } from './countryCodes.ts';

export interface OrderRequest {
  readonly customer: Customer;
  readonly currency: string;
  readonly lines: readonly OrderLine[];
  readonly shippingAddress: Address | null;
}

/** One thing wrong with a request body, located by a JSON Pointer (RFC 6901). */
export interface FieldError {
  readonly pointer: string;
  readonly detail: string;
}

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly errors: readonly FieldError[] };

const MAX_LINES = 100;
/** The largest order total, in minor units (pence, cents): 10^12, well inside 2^53 and billing's limit. */
export const MAX_ORDER_TOTAL_MINOR = 1_000_000_000_000n;

/** Checks a `POST /orders` body and turns it into domain values, reporting every problem at once. */
export function parseOrderRequest(body: unknown): Parsed<OrderRequest> {
  const errors: FieldError[] = [];
  const fail = (pointer: string, detail: string): undefined => { errors.push({ pointer, detail }); return undefined; };
  if (!isObject(body)) return { ok: false, errors: [{ pointer: '', detail: 'must be a JSON object' }] };

  const customer = isObject(body['customer']) ? body['customer'] : fail('/customer', 'is required: {"name", "email"}');
  const name = customer && text(customer['name'], '/customer/name', 200, fail);
  const email = customer && text(customer['email'], '/customer/email', 254, fail);
  if (email && !/^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:"]+$/.test(email)) fail('/customer/email', 'must be an email address');

  const currencyRaw = body['currency'];
  const currency = typeof currencyRaw === 'string' && isCurrency(currencyRaw) ? currencyRaw : fail('/currency', 'must be an ISO 4217 currency code such as "GBP"');
  const digits = currency ? minorDigits(currency) : 2;

  const linesRaw = body['lines'];
  const lines: OrderLine[] = [];
  if (!Array.isArray(linesRaw) || linesRaw.length === 0 || linesRaw.length > MAX_LINES) {
    fail('/lines', `must be a list of 1 to ${MAX_LINES} lines`);
  } else {
    linesRaw.forEach((raw: unknown, i) => {
      const at = `/lines/${i}`;
      if (!isObject(raw)) { fail(at, 'must be an object'); return; }
      const sku = text(raw['sku'], `${at}/sku`, 64, fail);
      if (sku && !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(sku)) fail(`${at}/sku`, 'may contain only letters, digits, ".", "_" and "-"');
      const lineName = text(raw['name'], `${at}/name`, 200, fail);
      const q = raw['quantity'];
      const quantity = Number.isInteger(q) && (q as number) >= 1 && (q as number) <= 10_000 ? (q as number) : fail(`${at}/quantity`, 'must be a whole number from 1 to 10000');
      const priceRaw = raw['unitPrice'];
      const unitPriceMinor = typeof priceRaw === 'string' ? parseAmount(priceRaw, digits) : undefined;
      if (unitPriceMinor === undefined) {
        fail(`${at}/unitPrice`, typeof priceRaw === 'number'
          ? `must be a decimal string such as "12.50", not a JSON number (money is never a float)`
          : `must be a decimal string with at most ${digits} decimals${currency ? ` for ${currency}` : ''}`);
      }
      const delivery = raw['delivery'] === 'physical' || raw['delivery'] === 'digital' ? (raw['delivery'] as Delivery) : fail(`${at}/delivery`, 'must be "physical" or "digital"');
      if (sku && lineName && quantity && unitPriceMinor !== undefined && delivery) lines.push({ sku, name: lineName, quantity, unitPriceMinor, delivery });
    });
  }

  // Totals are summed exactly (bigint) and kept well inside what every reader can hold: the feed
  // publishes them as decimal strings, and billing refuses more than 10^14 minor units.
  const total = lines.reduce((sum, l) => sum + BigInt(l.quantity) * BigInt(l.unitPriceMinor), 0n);
  if (total > MAX_ORDER_TOTAL_MINOR) fail('/lines', `the order total must be at most ${MAX_ORDER_TOTAL_MINOR} in minor units of the currency`);

  const needsAddress = lines.some((l) => l.delivery === 'physical');
  const addrRaw = body['shippingAddress'];
  let shippingAddress: Address | null = null;
  if (addrRaw !== undefined && addrRaw !== null) {
    shippingAddress = parseAddress(addrRaw, fail) ?? null;
  } else if (needsAddress) {
    fail('/shippingAddress', 'is required when any line is delivered physically');
  }

  if (errors.length > 0 || !name || !email || !currency) return { ok: false, errors };
  return { ok: true, value: { customer: { name, email }, currency, lines, shippingAddress } };
}

function parseAddress(raw: unknown, fail: (p: string, d: string) => undefined): Address | undefined {
  if (!isObject(raw)) return fail('/shippingAddress', 'must be an object');
  const at = '/shippingAddress';
  const line1 = text(raw['line1'], `${at}/line1`, 200, fail);
  const line2 = optionalText(raw['line2'], `${at}/line2`, 200, fail);
  const city = text(raw['city'], `${at}/city`, 100, fail);
  const region = optionalText(raw['region'], `${at}/region`, 100, fail);
  const postalCode = text(raw['postalCode'], `${at}/postalCode`, 20, fail);
  const c = raw['country'];
  const country = typeof c === 'string' && isCountryCode(c) ? c : fail(`${at}/country`, 'must be an ISO 3166-1 alpha-2 country code such as "GB"');
  if (!line1 || !city || !postalCode || !country) return undefined;
  return { line1, ...(line2 ? { line2 } : {}), city, ...(region ? { region } : {}), postalCode, country };
}

function text(value: unknown, pointer: string, max: number, fail: (p: string, d: string) => undefined): string | undefined {
  if (typeof value !== 'string' || value.trim() === '') return fail(pointer, 'is required and must be a non-empty string');
  const trimmed = value.trim();
  if (trimmed.length > max) return fail(pointer, `must be at most ${max} characters`);
  return trimmed;
}

function optionalText(value: unknown, pointer: string, max: number, fail: (p: string, d: string) => undefined): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  return text(value, pointer, max, fail);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
