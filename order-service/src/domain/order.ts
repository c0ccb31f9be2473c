import type { Decider } from '@shop/common';
import type { Address, Customer, FulfilmentPart, OrderCancelled, OrderEvent, OrderLine, OrderPlaced } from './events.ts';

/** What the order service has read from shipping's feed: when the goods left, if they did. */
export interface Fulfilment {
  readonly dispatchedAt: string | null;
  readonly downloadsDeliveredAt: string | null;
}

/** The state of one order, folded from its events. */
export type Order =
  | { readonly status: 'none' }
  | { readonly status: 'placed'; readonly placed: OrderPlaced; readonly fulfilment: Fulfilment }
  | { readonly status: 'cancelled'; readonly placed: OrderPlaced; readonly cancelled: OrderCancelled; readonly fulfilment: Fulfilment };

export const initialOrder: Order = { status: 'none' };

const NOTHING_SENT: Fulfilment = { dispatchedAt: null, downloadsDeliveredAt: null };

export function evolve(state: Order, event: OrderEvent): Order {
  switch (event.type) {
    case 'OrderPlaced':
      return { status: 'placed', placed: event, fulfilment: NOTHING_SENT };
    case 'OrderCancelled':
      return state.status === 'placed' ? { status: 'cancelled', placed: state.placed, cancelled: event, fulfilment: state.fulfilment } : state;
    case 'OrderFulfilmentNoted': {
      if (state.status === 'none') return state;
      const key = event.part === 'dispatched' ? 'dispatchedAt' : 'downloadsDeliveredAt';
      return { ...state, fulfilment: { ...state.fulfilment, [key]: event.happenedAt } };
    }
    default:
      return assertNever(event);
  }
}

/**
 * The first of the goods to leave, if any: from then on the order cannot be cancelled. An order
 * with a parcel and downloads becomes uncancellable at whichever came first.
 */
export function firstFulfilment(f: Fulfilment): { readonly part: FulfilmentPart; readonly at: string } | undefined {
  const sent = [
    ...(f.dispatchedAt !== null ? [{ part: 'dispatched' as const, at: f.dispatchedAt }] : []),
    ...(f.downloadsDeliveredAt !== null ? [{ part: 'downloads-delivered' as const, at: f.downloadsDeliveredAt }] : []),
  ];
  return sent.sort((a, b) => Date.parse(a.at) - Date.parse(b.at))[0];
}

export interface PlaceOrder {
  readonly type: 'PlaceOrder';
  readonly orderId: string;
  readonly at: string;
  readonly customer: Customer;
  readonly currency: string;
  readonly lines: readonly OrderLine[];
  readonly shippingAddress: Address | null;
}

export interface CancelOrder {
  readonly type: 'CancelOrder';
  readonly orderId: string;
  readonly at: string;
  readonly reason: string | null;
}

/** Shipping published that part of the order left (read from its feed by the order service). */
export interface NoteFulfilment {
  readonly type: 'NoteFulfilment';
  readonly orderId: string;
  readonly part: FulfilmentPart;
  /** When shipping says it happened. */
  readonly happenedAt: string;
  /** When the order service read it. */
  readonly at: string;
}

export type OrderCommand = PlaceOrder | CancelOrder | NoteFulfilment;

export type Rejection =
  | { readonly reason: 'not-found' | 'already-placed' | 'already-cancelled' }
  /** The goods (or the first of them) left at `at`: too late to cancel. */
  | { readonly reason: 'fulfilled'; readonly part: FulfilmentPart; readonly at: string };

export type Decision =
  | { readonly ok: true; readonly events: readonly OrderEvent[] }
  | ({ readonly ok: false } & Rejection);

/**
 * Decides what a command means for an order. Pure. The cancel rule: an order can be cancelled
 * until its parcel is dispatched or its downloads are delivered, as far as the order service has
 * read shipping's feed. A cancellation accepted before that read (the race) stands: shipping then
 * publishes DispatchedBeforeCancellation and billing refunds in full (see the README).
 */
export function decide(command: OrderCommand, state: Order): Decision {
  switch (command.type) {
    case 'PlaceOrder': {
      if (state.status !== 'none') return { ok: false, reason: 'already-placed' };
      const { type: _t, at, ...rest } = command;
      return { ok: true, events: [{ type: 'OrderPlaced', placedAt: at, ...rest }] };
    }
    case 'CancelOrder': {
      if (state.status === 'none') return { ok: false, reason: 'not-found' };
      if (state.status === 'cancelled') return { ok: false, reason: 'already-cancelled' };
      const sent = firstFulfilment(state.fulfilment);
      if (sent) return { ok: false, reason: 'fulfilled', part: sent.part, at: sent.at };
      return { ok: true, events: [{ type: 'OrderCancelled', orderId: command.orderId, cancelledAt: command.at, reason: command.reason }] };
    }
    case 'NoteFulfilment': {
      // Shipping acts only on orders it read from this feed, so an unknown order is someone
      // else's (another shop's shipping feed): nothing to note. A repeat changes nothing.
      if (state.status === 'none') return { ok: true, events: [] };
      const known = command.part === 'dispatched' ? state.fulfilment.dispatchedAt : state.fulfilment.downloadsDeliveredAt;
      if (known !== null) return { ok: true, events: [] };
      return { ok: true, events: [{ type: 'OrderFulfilmentNoted', orderId: command.orderId, part: command.part, happenedAt: command.happenedAt }] };
    }
    default:
      return assertNever(command);
  }
}

/** The order's rules as one decider, for the command handler and the tests. */
export const orderDecider: Decider<Order, OrderCommand, OrderEvent, Decision> = { initialState: initialOrder, evolve, decide };

export function orderTotalMinor(lines: readonly OrderLine[]): number {
  return lines.reduce((sum, l) => sum + l.quantity * l.unitPriceMinor, 0);
}

function assertNever(x: never): never {
  throw new Error(`Unexpected ${JSON.stringify(x)}`);
}
