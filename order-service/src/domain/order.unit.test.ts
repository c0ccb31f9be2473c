import { expect } from 'chai';
import { type RefusalOf, deciderSpecification } from '@shop/common/testing';
import type { OrderEvent, OrderPlaced } from './events.ts';
import { type Decision, type OrderCommand, evolve, initialOrder, orderDecider } from './order.ts';

/** given events, when a command, then events or a refusal. */
const given = deciderSpecification(orderDecider);

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
      given().when({ type: 'PlaceOrder', at: placed.placedAt, ...placeFields }).then(placed);
    });

    it('refuses to place the same order twice', () => {
      given(placed).when({ type: 'PlaceOrder', at: placed.placedAt, ...placeFields }).thenRefused({ reason: 'already-placed' });
    });
  });

  describe('when cancelled', () => {
    const cancel: OrderCommand = { type: 'CancelOrder', orderId: 'ORD-1', at: '2026-11-20T11:00:00.000Z', reason: 'changed my mind' };

    it('records OrderCancelled as a new fact', () => {
      given(placed).when(cancel).then({ type: 'OrderCancelled', orderId: 'ORD-1', cancelledAt: '2026-11-20T11:00:00.000Z', reason: 'changed my mind' });
    });

    it('refuses an order that does not exist', () => {
      given().when(cancel).thenRefused({ reason: 'not-found' });
    });

    it('refuses an order already cancelled', () => {
      given(placed, { type: 'OrderCancelled', orderId: 'ORD-1', cancelledAt: 'x', reason: null }).when(cancel).thenRefused({ reason: 'already-cancelled' });
    });
  });

  describe('when cancelled after shipping published that the goods left', () => {
    const cancel: OrderCommand = { type: 'CancelOrder', orderId: 'ORD-1', at: '2026-11-21T09:00:00.000Z', reason: null };
    const dispatched = noted('dispatched', '2026-11-20T15:00:00.000Z');
    const delivered = noted('downloads-delivered', '2026-11-20T10:00:05.000Z');

    it('cancels while nothing has left', () => {
      given(placed).when(cancel).then({ type: 'OrderCancelled', orderId: 'ORD-1', cancelledAt: cancel.at, reason: null });
    });

    it('refuses once the parcel was dispatched, saying when', () => {
      given(placed, dispatched).when(cancel).thenRefused({ reason: 'fulfilled', part: 'dispatched', at: '2026-11-20T15:00:00.000Z' });
    });

    it('refuses once the downloads were delivered, saying when', () => {
      given(placed, delivered).when(cancel).thenRefused({ reason: 'fulfilled', part: 'downloads-delivered', at: '2026-11-20T10:00:05.000Z' });
    });

    it('with a parcel and downloads, refuses from the first of them, whichever was read first', () => {
      const expected: RefusalOf<Decision> = { reason: 'fulfilled', part: 'downloads-delivered', at: '2026-11-20T10:00:05.000Z' };
      given(placed, delivered, dispatched).when(cancel).thenRefused(expected);
      given(placed, dispatched, delivered).when(cancel).thenRefused(expected);
    });
  });

  describe('when shipping publishes a dispatch or a delivery', () => {
    const note = (part: 'dispatched' | 'downloads-delivered'): OrderCommand => ({ type: 'NoteFulfilment', orderId: 'ORD-1', part, happenedAt: '2026-11-20T15:00:00.000Z', at: '2026-11-20T15:00:01.000Z' });

    it('notes it once, as a private fact', () => {
      given(placed).when(note('dispatched')).then(noted('dispatched', '2026-11-20T15:00:00.000Z'));
      given(placed, noted('dispatched', '2026-11-20T15:00:00.000Z')).when(note('dispatched')).then();
    });

    it('notes it on an order cancelled in the race, which stays cancelled', () => {
      const raced = [placed, { type: 'OrderCancelled', orderId: 'ORD-1', cancelledAt: '2026-11-20T15:00:00.500Z', reason: null }] as const;
      given(...raced).when(note('dispatched')).then(noted('dispatched', '2026-11-20T15:00:00.000Z'));
      expect([...raced, noted('dispatched', '2026-11-20T15:00:00.000Z')].reduce(evolve, initialOrder).status).to.equal('cancelled');
    });

    it('ignores an order it never took', () => {
      given().when(note('downloads-delivered')).then();
    });
  });
});

function noted(part: 'dispatched' | 'downloads-delivered', happenedAt: string): OrderEvent {
  return { type: 'OrderFulfilmentNoted', orderId: 'ORD-1', part, happenedAt };
}
