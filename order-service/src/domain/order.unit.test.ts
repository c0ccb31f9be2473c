import { expect } from 'chai';
import type { OrderEvent, OrderPlaced } from './events.ts';
import { type Decision, type OrderCommand, decide, evolve, initialOrder } from './order.ts';

/** given events, when a command, then the decision. */
function given(...events: OrderEvent[]) {
  const state = events.reduce(evolve, initialOrder);
  return { when: (command: OrderCommand): { then: (expected: Decision) => void } => ({ then: (expected) => expect(decide(command, state)).to.deep.equal(expected) }) };
}

const placed: OrderPlaced = {
  type: 'OrderPlaced', orderId: 'ORD-1', placedAt: '2026-11-20T10:00:00.000Z',
  customer: { name: 'Ada Lovelace', email: 'ada@example.com' }, currency: 'GBP',
  lines: [{ sku: 'BOOK-1', name: 'Notes', quantity: 2, unitPriceMinor: 1250, delivery: 'physical' }],
  shippingAddress: { line1: '12 St James\'s Square', city: 'London', postalCode: 'SW1Y 4JH', country: 'GB' },
};
const { type: _t, placedAt: _p, ...placeFields } = placed;

describe('Order', () => {
  describe('when placed', () => {
    it('records OrderPlaced', () => {
      given().when({ type: 'PlaceOrder', at: placed.placedAt, ...placeFields }).then({ ok: true, events: [placed] });
    });

    it('refuses to place the same order twice', () => {
      given(placed).when({ type: 'PlaceOrder', at: placed.placedAt, ...placeFields }).then({ ok: false, reason: 'already-placed' });
    });
  });

  describe('when cancelled', () => {
    const cancel: OrderCommand = { type: 'CancelOrder', orderId: 'ORD-1', at: '2026-11-20T11:00:00.000Z', reason: 'changed my mind' };

    it('records OrderCancelled as a new fact', () => {
      given(placed).when(cancel).then({ ok: true, events: [{ type: 'OrderCancelled', orderId: 'ORD-1', cancelledAt: '2026-11-20T11:00:00.000Z', reason: 'changed my mind' }] });
    });

    it('refuses an order that does not exist', () => {
      given().when(cancel).then({ ok: false, reason: 'not-found' });
    });

    it('refuses an order already cancelled', () => {
      given(placed, { type: 'OrderCancelled', orderId: 'ORD-1', cancelledAt: 'x', reason: null }).when(cancel).then({ ok: false, reason: 'already-cancelled' });
    });
  });
});
