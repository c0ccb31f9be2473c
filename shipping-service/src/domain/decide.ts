import type { Decider } from '@shop/common';
import { estimateDelivery } from './deliveryEstimate.ts';
import { downloadsExpireAt } from './downloadExpiry.ts';
import type { ShippingEvent } from './events.ts';
import { type ShippingState, evolve, initialState } from './evolve.ts';
import type { OrderCancelled, OrderPaid, OrderToFulfil } from './feedContracts.ts';
import { shipmentIdFor } from './shipmentId.ts';

export type ShippingCommand =
  | { readonly type: 'NoteOrder'; readonly order: OrderToFulfil; readonly at: string }
  | { readonly type: 'NotePayment'; readonly payment: OrderPaid; readonly at: string }
  | { readonly type: 'NoteCancellation'; readonly cancellation: OrderCancelled; readonly at: string }
  | { readonly type: 'Dispatch'; readonly orderId: string; readonly carrier: string | null; readonly trackingNumber: string | null; readonly at: string };

/** What comes from the edge: new ids and the shop's time zone (SHOP_TIME_ZONE). */
export interface DecideContext {
  readonly newId: () => string;
  readonly shopTimeZone: string;
}

export type Rejection = 'not-found' | 'not-scheduled' | 'already-dispatched' | 'cancelled';

export type Decision = { readonly ok: true; readonly events: readonly ShippingEvent[] } | { readonly ok: false; readonly reason: Rejection };

/** How long download links stay valid: to the end of the 30th day after they are given, on the shop's calendar. */
export const DOWNLOAD_DAYS = 30;

/**
 * Shipping's rules. Facts from the order and billing feeds are noted whatever their order of
 * arrival; once an order is both known and paid (and not cancelled), its physical lines get a
 * shipment and its digital lines get download links, each exactly once.
 */
export function decide(command: ShippingCommand, state: ShippingState, ctx: DecideContext): Decision {
  switch (command.type) {
    case 'NoteOrder':
      if (state.order) return ok([]);
      return ok(withFulfilment(state, [{ type: 'OrderNoted', order: command.order }], command.at, ctx));
    case 'NotePayment':
      if (state.paid) return ok([]);
      return ok(withFulfilment(state, [{ type: 'PaymentNoted', ...command.payment }], command.at, ctx));
    case 'NoteCancellation': {
      if (state.cancelled) return ok([]);
      const { orderId, cancelledAt, reason } = command.cancellation;
      const events: ShippingEvent[] = [{ type: 'CancellationNoted', orderId, cancelledAt, reason }];
      // A parcel already handed to the carrier cannot be called back; one still in the warehouse can.
      if (state.shipment?.status === 'scheduled') events.push({ type: 'ShipmentCancelled', orderId, shipmentId: state.shipment.shipmentId, cancelledAt: command.at, reason });
      // The race: the order service accepted the cancellation before it read that the goods had
      // left. The cancellation stands (billing refunds in full); what already left is told, once,
      // with what the customer should do with it.
      const dispatched = state.shipment?.status === 'dispatched' ? state.shipment : null;
      if (dispatched || state.digital) {
        events.push({
          type: 'DispatchedBeforeCancellation', orderId, cancelledAt, notedAt: command.at,
          shipment: dispatched ? { shipmentId: dispatched.shipmentId, dispatchedAt: dispatched.dispatchedAt ?? command.at } : null,
          downloadsReadyAt: state.digital?.readyAt ?? null,
        });
      }
      return ok(events);
    }
    case 'Dispatch': {
      const s = state.shipment;
      if (!s) return { ok: false, reason: state.order ? 'not-scheduled' : 'not-found' };
      if (s.status === 'dispatched') return { ok: false, reason: 'already-dispatched' };
      if (s.status === 'cancelled') return { ok: false, reason: 'cancelled' };
      return ok([{
        type: 'ShipmentDispatched', orderId: s.orderId, shipmentId: s.shipmentId, dispatchedAt: command.at,
        carrier: command.carrier ?? s.carrier, trackingNumber: command.trackingNumber,
      }]);
    }
    default:
      return assertNever(command);
  }
}

function withFulfilment(state: ShippingState, noted: ShippingEvent[], at: string, ctx: DecideContext): ShippingEvent[] {
  const s = noted.reduce(evolve, state);
  if (!s.order || !s.paid || s.cancelled) return noted;
  const { order } = s;
  const events = [...noted];
  const physical = order.lines.filter((l) => l.delivery === 'physical');
  if (physical.length > 0 && !s.shipment && order.shippingAddress) {
    // The promise counts from the payment, not from when shipping heard of it: read late (an
    // outage, a replay, the order arriving after its payment) it is the same promise.
    const estimate = estimateDelivery(new Date(s.paid.paidAt), order.shippingAddress.country, ctx.shopTimeZone);
    events.push({
      type: 'ShipmentScheduled', orderId: order.orderId, shipmentId: shipmentIdFor(order.orderId), scheduledAt: at,
      recipient: order.customer.name, address: order.shippingAddress, items: physical.map(item),
      carrier: estimate.carrier, service: estimate.service, dispatchDate: estimate.dispatchDate, estimatedDelivery: estimate.estimatedDelivery,
    });
  }
  const digital = order.lines.filter((l) => l.delivery === 'digital');
  if (digital.length > 0 && !s.digital) {
    events.push({
      type: 'DigitalDeliveryReady', orderId: order.orderId, readyAt: at,
      // The day the email promises is the promise: the links work to its end, in the shop's zone.
      expiresAt: downloadsExpireAt(at, DOWNLOAD_DAYS, ctx.shopTimeZone),
      // No token: the links are signed (downloads/downloadLinks.ts).
      downloads: digital.map(item),
    });
  }
  return events;
}

/** Shipping's rules as one decider, with what comes from the edge bound in, for the command handler and the tests. */
export function shippingDecider(ctx: DecideContext): Decider<ShippingState, ShippingCommand, ShippingEvent, Decision> {
  return { initialState, evolve, decide: (command, state) => decide(command, state, ctx) };
}

function item(l: { sku: string; name: string; quantity: number }) {
  return { sku: l.sku, name: l.name, quantity: l.quantity };
}

function ok(events: readonly ShippingEvent[]): Decision {
  return { ok: true, events };
}

function assertNever(x: never): never {
  throw new Error(`Unexpected ${JSON.stringify(x)}`);
}
