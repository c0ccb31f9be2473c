import { CARD_BRANDS, type CardBrand, type CardMethod } from './events.ts';

export interface PaymentBody {
  readonly orderId: string;
  readonly method: CardMethod;
  /** The amount the payer expects to pay, as a decimal string, if stated. */
  readonly amount: string | null;
}

export interface FieldError { readonly pointer: string; readonly detail: string }

export type ParsedPayment = { readonly ok: true; readonly value: PaymentBody } | { readonly ok: false; readonly errors: readonly FieldError[] };

/**
 * Validates `POST /payments`. Only card payments are modelled, and only the brand and last four
 * digits are accepted: a full card number is refused, never stored.
 */
export function parsePaymentRequest(body: unknown): ParsedPayment {
  const errors: FieldError[] = [];
  const b = isObject(body) ? body : (errors.push({ pointer: '', detail: 'must be a JSON object' }), {});
  const orderId = b['orderId'];
  if (typeof orderId !== 'string' || !/^[\x21-\x7e]{1,100}$/.test(orderId)) errors.push({ pointer: '/orderId', detail: 'must be an order id' });
  const m = isObject(b['method']) ? b['method'] : undefined;
  if (!m) errors.push({ pointer: '/method', detail: 'must be an object such as {"type":"card","brand":"visa","last4":"4242"}' });
  else {
    if (m['type'] !== 'card') errors.push({ pointer: '/method/type', detail: 'must be "card" (the only method billing takes)' });
    if (typeof m['brand'] !== 'string' || !(m['brand'] in CARD_BRANDS)) errors.push({ pointer: '/method/brand', detail: `must be one of ${Object.keys(CARD_BRANDS).join(', ')}` });
    if (typeof m['last4'] !== 'string' || !/^\d{4}$/.test(m['last4'])) errors.push({ pointer: '/method/last4', detail: 'must be exactly four digits' });
    if ('number' in m || 'cvc' in m || 'pan' in m) errors.push({ pointer: '/method', detail: 'must not carry a card number or security code' });
  }
  const amount = b['amount'];
  if (amount !== undefined && (typeof amount !== 'string' || !/^\d{1,15}(\.\d{1,4})?$/.test(amount))) errors.push({ pointer: '/amount', detail: 'must be a decimal string such as "30.99"' });
  if (errors.length > 0 || !m) return { ok: false, errors };
  return {
    ok: true,
    value: {
      orderId: orderId as string,
      method: { type: 'card', brand: m['brand'] as CardBrand, last4: m['last4'] as string },
      amount: typeof amount === 'string' ? amount : null,
    },
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
