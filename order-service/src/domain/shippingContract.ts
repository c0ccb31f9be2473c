import { obj, str } from '@shop/common/payload';
import type { FulfilmentPart } from './events.ts';

/**
 * What the order service reads from the shipping feed (contract v1), as a tolerant reader: the
 * two entries that end the right to cancel, and of them only the order and the time.
 */
export interface FulfilmentRead {
  readonly orderId: string;
  readonly part: FulfilmentPart;
  readonly happenedAt: string;
}

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly errors: readonly string[] };

/** The entry types that matter here, and the payload field saying when each happened. */
const FULFILMENT_TYPES: Readonly<Record<string, { readonly part: FulfilmentPart; readonly at: string }>> = {
  ShipmentDispatched: { part: 'dispatched', at: 'dispatchedAt' },
  DigitalDeliveryReady: { part: 'downloads-delivered', at: 'readyAt' },
};

/** `undefined` for entry types the order service does not act on. */
export function parseFulfilment(type: string, payload: unknown): Parsed<FulfilmentRead> | undefined {
  const kind = FULFILMENT_TYPES[type];
  if (!kind) return undefined;
  const errors: string[] = [];
  const p = obj(payload) ?? {};
  const orderId = str(p, 'orderId', errors);
  const happenedAt = str(p, kind.at, errors);
  if (happenedAt && Number.isNaN(Date.parse(happenedAt))) errors.push(`${kind.at} must be an RFC 3339 date-time`);
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value: { orderId, part: kind.part, happenedAt } };
}
