import { isCurrency, minorDigits, parseAmount } from '@shop/common/money';
import type { Delivery } from './vatRules.ts';
import { obj, str } from '@shop/common/payload';

/**
 * What billing reads from the order feed (contract v1), as a tolerant reader: only the fields
 * billing uses are required, anything else is ignored. Amounts are checked, never trusted.
 */
export interface PlacedOrder {
  readonly orderId: string;
  readonly placedAt: string;
  readonly customer: { readonly name: string; readonly email: string };
  readonly currency: string;
  readonly lines: readonly OrderLine[];
  /** Where physical goods go, ISO 3166-1 alpha-2, or null for a digital-only order. */
  readonly destination: string | null;
}

export interface OrderLine {
  readonly sku: string;
  readonly name: string;
  readonly quantity: number;
  readonly unitPriceMinor: number;
  readonly delivery: Delivery;
}

export interface CancelledOrder {
  readonly orderId: string;
  readonly cancelledAt: string;
  readonly reason: string | null;
}

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly errors: readonly string[] };

export function parseOrderPlaced(payload: unknown): Parsed<PlacedOrder> {
  const errors: string[] = [];
  const p = obj(payload) ?? {};
  const orderId = str(p, 'orderId', errors);
  const placedAt = str(p, 'placedAt', errors);
  const c = obj(p['customer']);
  if (!c) errors.push('customer must be an object');
  const customer = { name: c ? str(c, 'name', errors, 'customer.') : '', email: c ? str(c, 'email', errors, 'customer.') : '' };
  const currency = str(p, 'currency', errors);
  const currencyOk = isCurrency(currency);
  if (currency && !currencyOk) errors.push(`currency "${currency}" is not an ISO 4217 code`);
  const digits = currencyOk ? minorDigits(currency) : 2;
  const rawLines = Array.isArray(p['lines']) ? p['lines'] as unknown[] : [];
  if (rawLines.length === 0) errors.push('lines must be a non-empty array');
  const lines = rawLines.map((raw, i) => parseLine(raw, i, digits, errors));
  const subtotal = typeof p['subtotal'] === 'string' ? parseAmount(p['subtotal'], digits) : undefined;
  const sum = lines.reduce((s, l) => s + l.quantity * l.unitPriceMinor, 0);
  if (subtotal === undefined) errors.push('subtotal must be a decimal amount');
  else if (errors.length === 0 && subtotal !== sum) errors.push('subtotal is not the sum of the line totals');
  let destination: string | null = null;
  const addr = p['shippingAddress'];
  if (addr !== null && addr !== undefined) {
    const a = obj(addr);
    destination = a ? str(a, 'country', errors, 'shippingAddress.').toUpperCase() : null;
    if (!a) errors.push('shippingAddress must be an object or null');
  }
  if (lines.some((l) => l.delivery === 'physical') && destination === null) errors.push('an order with physical lines needs a shippingAddress');
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value: { orderId, placedAt, customer, currency, lines, destination } };
}

export function parseOrderCancelled(payload: unknown): Parsed<CancelledOrder> {
  const errors: string[] = [];
  const p = obj(payload) ?? {};
  const orderId = str(p, 'orderId', errors);
  const cancelledAt = str(p, 'cancelledAt', errors);
  const reason = typeof p['reason'] === 'string' ? p['reason'] : null;
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value: { orderId, cancelledAt, reason } };
}

function parseLine(raw: unknown, i: number, digits: number, errors: string[]): OrderLine {
  const l = obj(raw) ?? {};
  const at = `lines[${i}].`;
  const quantity = l['quantity'];
  if (typeof quantity !== 'number' || !Number.isSafeInteger(quantity) || quantity < 1) errors.push(`${at}quantity must be a positive whole number`);
  const unitPrice = typeof l['unitPrice'] === 'string' ? parseAmount(l['unitPrice'], digits) : undefined;
  if (unitPrice === undefined) errors.push(`${at}unitPrice must be a decimal amount`);
  const lineTotal = typeof l['lineTotal'] === 'string' ? parseAmount(l['lineTotal'], digits) : undefined;
  const q = typeof quantity === 'number' ? quantity : 0;
  if (lineTotal !== undefined && unitPrice !== undefined && lineTotal !== q * unitPrice) errors.push(`${at}lineTotal is not quantity x unitPrice`);
  const delivery = l['delivery'];
  if (delivery !== 'physical' && delivery !== 'digital') errors.push(`${at}delivery must be "physical" or "digital"`);
  return { sku: str(l, 'sku', errors, at), name: str(l, 'name', errors, at), quantity: q, unitPriceMinor: unitPrice ?? 0, delivery: delivery === 'digital' ? 'digital' : 'physical' };
}
