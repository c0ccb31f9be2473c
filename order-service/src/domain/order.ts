import type { Address, Customer, OrderCancelled, OrderEvent, OrderLine, OrderPlaced } from './events.ts';

/** The state of one order, folded from its events. */
export type Order =
  | { readonly status: 'none' }
  | { readonly status: 'placed'; readonly placed: OrderPlaced }
  | { readonly status: 'cancelled'; readonly placed: OrderPlaced; readonly cancelled: OrderCancelled };

export const initialOrder: Order = { status: 'none' };

export function evolve(state: Order, event: OrderEvent): Order {
  switch (event.type) {
    case 'OrderPlaced':
      return { status: 'placed', placed: event };
    case 'OrderCancelled':
      return state.status === 'placed' ? { status: 'cancelled', placed: state.placed, cancelled: event } : state;
    default:
      return assertNever(event);
  }
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

export type OrderCommand = PlaceOrder | CancelOrder;

export type Decision =
  | { readonly ok: true; readonly events: readonly OrderEvent[] }
  | { readonly ok: false; readonly reason: 'not-found' | 'already-placed' | 'already-cancelled' };

/** Decides what a command means for an order. Pure. */
export function decide(command: OrderCommand, state: Order): Decision {
  switch (command.type) {
    case 'PlaceOrder': {
      if (state.status !== 'none') return { ok: false, reason: 'already-placed' };
      const { type: _t, at, ...rest } = command;
      return { ok: true, events: [{ type: 'OrderPlaced', placedAt: at, ...rest }] };
    }
    case 'CancelOrder':
      if (state.status === 'none') return { ok: false, reason: 'not-found' };
      if (state.status === 'cancelled') return { ok: false, reason: 'already-cancelled' };
      return { ok: true, events: [{ type: 'OrderCancelled', orderId: command.orderId, cancelledAt: command.at, reason: command.reason }] };
    default:
      return assertNever(command);
  }
}

export function orderTotalMinor(lines: readonly OrderLine[]): number {
  return lines.reduce((sum, l) => sum + l.quantity * l.unitPriceMinor, 0);
}

function assertNever(x: never): never {
  throw new Error(`Unexpected ${JSON.stringify(x)}`);
}
