import type { Address } from './addressFormat.ts';
import { obj, str, optStr } from '@shop/common/payload';

/**
 * What shipping reads from the order feed and the billing feed (contract v1), as a tolerant
 * reader: only the fields shipping uses are required; anything else is ignored.
 */

export interface OrderToFulfil {
  readonly orderId: string;
  readonly placedAt: string;
  readonly customer: { readonly name: string; readonly email: string };
  readonly lines: readonly { readonly sku: string; readonly name: string; readonly quantity: number; readonly delivery: 'physical' | 'digital' }[];
  readonly shippingAddress: Address | null;
}

export interface OrderPaid {
  readonly orderId: string;
  readonly invoiceId: string;
  readonly paidAt: string;
}

export interface OrderCancelled {
  readonly orderId: string;
  readonly cancelledAt: string;
  readonly reason: string | null;
}

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly errors: readonly string[] };

export function parseOrderPlaced(payload: unknown): Parsed<OrderToFulfil> {
  const errors: string[] = [];
  const p = obj(payload) ?? {};
  const c = obj(p['customer']) ?? {};
  const rawLines = Array.isArray(p['lines']) ? p['lines'] as unknown[] : [];
  if (rawLines.length === 0) errors.push('lines must be a non-empty array');
  const lines = rawLines.map((raw, i) => {
    const l = obj(raw) ?? {};
    const quantity = l['quantity'];
    if (typeof quantity !== 'number' || !Number.isSafeInteger(quantity) || quantity < 1) errors.push(`lines[${i}].quantity must be a positive whole number`);
    const delivery = l['delivery'];
    if (delivery !== 'physical' && delivery !== 'digital') errors.push(`lines[${i}].delivery must be "physical" or "digital"`);
    return { sku: str(l, 'sku', errors, `lines[${i}].`), name: str(l, 'name', errors, `lines[${i}].`), quantity: Number(quantity), delivery: delivery === 'digital' ? 'digital' as const : 'physical' as const };
  });
  let shippingAddress: Address | null = null;
  const a = obj(p['shippingAddress']);
  if (a) {
    const country = str(a, 'country', errors, 'shippingAddress.').toUpperCase();
    if (!/^[A-Z]{2}$/.test(country)) errors.push('shippingAddress.country must be an ISO 3166-1 alpha-2 code');
    shippingAddress = {
      line1: str(a, 'line1', errors, 'shippingAddress.'), line2: optStr(a, 'line2'), city: str(a, 'city', errors, 'shippingAddress.'),
      region: optStr(a, 'region'), postalCode: str(a, 'postalCode', errors, 'shippingAddress.'), country,
    };
  } else if (p['shippingAddress'] !== null && p['shippingAddress'] !== undefined) errors.push('shippingAddress must be an object or null');
  if (!shippingAddress && lines.some((l) => l.delivery === 'physical')) errors.push('an order with physical lines needs a shippingAddress');
  const value = {
    orderId: str(p, 'orderId', errors), placedAt: str(p, 'placedAt', errors),
    customer: { name: str(c, 'name', errors, 'customer.'), email: str(c, 'email', errors, 'customer.') }, lines, shippingAddress,
  };
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value };
}

export function parseOrderCancelled(payload: unknown): Parsed<OrderCancelled> {
  const errors: string[] = [];
  const p = obj(payload) ?? {};
  const value = { orderId: str(p, 'orderId', errors), cancelledAt: str(p, 'cancelledAt', errors), reason: typeof p['reason'] === 'string' ? p['reason'] : null };
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value };
}

export function parsePaymentReceived(payload: unknown): Parsed<OrderPaid> {
  const errors: string[] = [];
  const p = obj(payload) ?? {};
  const value = { orderId: str(p, 'orderId', errors), invoiceId: str(p, 'invoiceId', errors), paidAt: str(p, 'paidAt', errors) };
  if (value.paidAt && Number.isNaN(Date.parse(value.paidAt))) errors.push('paidAt must be an RFC 3339 date-time');
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value };
}
