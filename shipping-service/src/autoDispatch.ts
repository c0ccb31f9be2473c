import { randomInt } from 'node:crypto';
import type { Logger } from '@shop/common';
import type { PgShippingStore } from './db/pgShippingStore.ts';
import type { ShippingStore } from './db/shippingStore.ts';

/** A tracking number in the Royal Mail shape: two letters, nine digits, GB. */
export function demoTrackingNumber(): string {
  return `RM${String(randomInt(0, 1_000_000_000)).padStart(9, '0')}GB`;
}

/**
 * For demos: dispatches every shipment scheduled at least `delaySeconds` ago. Returns how many
 * left. Each dispatch is its own transaction, so a failure leaves the others done.
 */
export function dispatchDue(shipping: ShippingStore, now: Date, delaySeconds: number, logger: Logger, tracking: () => string = demoTrackingNumber): number {
  let sent = 0;
  const before = new Date(now.getTime() - delaySeconds * 1000).toISOString();
  for (const orderId of shipping.dueForDispatch(before)) {
    const d = shipping.handle({ type: 'Dispatch', orderId, carrier: null, trackingNumber: tracking(), at: now.toISOString() });
    if (d.ok) sent++;
    else logger.warn('auto-dispatch skipped', { orderId, reason: d.reason });
  }
  if (sent > 0) logger.info('auto-dispatched', { count: sent });
  return sent;
}

/** dispatchDue on PostgreSQL (each dispatch its own transaction; a lost race with another instance is skipped). */
export async function dispatchDuePg(shipping: PgShippingStore, now: Date, delaySeconds: number, logger: Logger, tracking: () => string = demoTrackingNumber): Promise<number> {
  let sent = 0;
  const before = new Date(now.getTime() - delaySeconds * 1000).toISOString();
  for (const orderId of await shipping.dueForDispatch(before)) {
    const d = await shipping.handle({ type: 'Dispatch', orderId, carrier: null, trackingNumber: tracking(), at: now.toISOString() });
    if (d.ok) sent++;
    else logger.warn('auto-dispatch skipped', { orderId, reason: d.reason });
  }
  if (sent > 0) logger.info('auto-dispatched', { count: sent });
  return sent;
}
