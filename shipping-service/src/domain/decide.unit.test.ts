import { expect } from 'chai';
import { type Decision, type ShippingCommand, decide } from './decide.ts';
import type { ShippingEvent } from './events.ts';
import { type ShippingState, evolve, initialState } from './evolve.ts';
import type { OrderToFulfil } from './feedContracts.ts';

const FRIDAY_MORNING = '2025-06-06T09:00:00.000Z';
export const adaOrder: OrderToFulfil = {
  orderId: 'ORD-AAAAA-BBBBB',
  placedAt: '2025-06-06T08:59:00.000Z',
  customer: { name: 'Ada Lovelace', email: 'ada@example.com' },
  lines: [
    { sku: 'BOOK-1', name: 'Notes on the Analytical Engine', quantity: 2, delivery: 'physical' },
    { sku: 'EBOOK-7', name: 'Sketch of the Engine (eBook)', quantity: 1, delivery: 'digital' },
  ],
  shippingAddress: { line1: "12 St James's Square", city: 'London', postalCode: 'SW1Y 4JH', country: 'GB' },
};

function ids(): () => string {
  let n = 0;
  return () => `id-${++n}`;
}

/** Given these events, when this command, then this decision. */
function given(...events: ShippingEvent[]) {
  const state: ShippingState = events.reduce(evolve, initialState);
  return { when: (command: ShippingCommand): Decision => decide(command, state, { newId: ids(), shopTimeZone: 'Europe/London' }) };
}

const noteOrder = (order: OrderToFulfil = adaOrder): ShippingCommand => ({ type: 'NoteOrder', order, at: FRIDAY_MORNING });
const notePayment: ShippingCommand = { type: 'NotePayment', payment: { orderId: 'ORD-AAAAA-BBBBB', invoiceId: 'INV-000001', paidAt: FRIDAY_MORNING }, at: FRIDAY_MORNING };
const cancel: ShippingCommand = { type: 'NoteCancellation', cancellation: { orderId: 'ORD-AAAAA-BBBBB', cancelledAt: FRIDAY_MORNING, reason: 'Too slow' }, at: FRIDAY_MORNING };
const dispatch: ShippingCommand = { type: 'Dispatch', orderId: 'ORD-AAAAA-BBBBB', carrier: null, trackingNumber: 'RM123456785GB', at: '2025-06-06T15:00:00.000Z' };

function events(d: Decision): readonly ShippingEvent[] {
  if (!d.ok) throw new Error(d.reason);
  return d.events;
}

const types = (d: Decision): string[] => events(d).map((e) => e.type);
const scheduledIdOf = (d: Decision): string | undefined => events(d).flatMap((e) => (e.type === 'ShipmentScheduled' ? [e.shipmentId] : []))[0];
const orderNoted = (): ShippingEvent[] => [...events(given().when(noteOrder()))];
const paymentNoted = (): ShippingEvent[] => [...events(given().when(notePayment))];
const scheduled = (): ShippingEvent[] => [...orderNoted(), ...events(given(...orderNoted()).when(notePayment))];

describe('Shipping', () => {
  describe('when an order arrives before its payment', () => {
    it('only notes the order', () => {
      expect(types(given().when(noteOrder()))).to.deep.equal(['OrderNoted']);
    });

    it('schedules the physical lines and readies the digital ones once paid', () => {
      const d = given(...orderNoted()).when(notePayment);
      expect(types(d)).to.deep.equal(['PaymentNoted', 'ShipmentScheduled', 'DigitalDeliveryReady']);
      expect(events(d)[1]).to.deep.include({
        shipmentId: 'SHP-AAAAA-BBBBB-1', recipient: 'Ada Lovelace', carrier: 'Royal Mail', service: 'Tracked 48', dispatchDate: '2025-06-06', estimatedDelivery: '2025-06-10',
        items: [{ sku: 'BOOK-1', name: 'Notes on the Analytical Engine', quantity: 2 }],
      });
      // The links work all of the 30th day, Sunday 6 July, to midnight BST; they carry no token (they are signed).
      expect(events(d)[2]).to.deep.include({ expiresAt: '2025-07-06T23:00:00.000Z', downloads: [{ sku: 'EBOOK-7', name: 'Sketch of the Engine (eBook)', quantity: 1 }] });
    });
  });

  describe('when the payment arrives before its order', () => {
    it('notes the payment, then fulfils when the order comes', () => {
      expect(types(given().when(notePayment))).to.deep.equal(['PaymentNoted']);
      expect(types(given(...paymentNoted()).when(noteOrder()))).to.deep.equal(['OrderNoted', 'ShipmentScheduled', 'DigitalDeliveryReady']);
    });
  });

  describe('the delivery promise', () => {
    const MONDAY_LATER = '2025-06-09T16:00:00.000Z';
    const scheduledBy = (d: Decision) => events(d).find((e) => e.type === 'ShipmentScheduled');

    it('counts from the payment, however late shipping reads it', () => {
      const late = given(...orderNoted()).when({ ...notePayment, at: MONDAY_LATER });
      expect(scheduledBy(late)).to.deep.include({ scheduledAt: MONDAY_LATER, dispatchDate: '2025-06-06', estimatedDelivery: '2025-06-10' });
    });

    it('counts from the payment when the order is the part read last', () => {
      const late = given(...paymentNoted()).when({ ...noteOrder(), at: MONDAY_LATER });
      expect(scheduledBy(late)).to.deep.include({ dispatchDate: '2025-06-06', estimatedDelivery: '2025-06-10' });
    });

    it('reads the cut-off on the shop\'s clock', () => {
      const paidAt = '2025-06-06T13:30:00.000Z';
      const payment = { ...notePayment, payment: { orderId: 'ORD-AAAAA-BBBBB', invoiceId: 'INV-000001', paidAt } } as ShippingCommand;
      const state = orderNoted().reduce(evolve, initialState);
      const inLondon = decide(payment, state, { newId: ids(), shopTimeZone: 'Europe/London' });
      const inReykjavik = decide(payment, state, { newId: ids(), shopTimeZone: 'Atlantic/Reykjavik' });
      expect(scheduledBy(inLondon), '14:30 BST').to.deep.include({ dispatchDate: '2025-06-09' });
      expect(scheduledBy(inReykjavik), '13:30 GMT all year').to.deep.include({ dispatchDate: '2025-06-06' });
    });
  });

  it('names the shipment after its order, the same on every reading', () => {
    expect(scheduledIdOf(given(...orderNoted()).when(notePayment))).to.equal('SHP-AAAAA-BBBBB-1');
    expect(scheduledIdOf(given(...paymentNoted()).when(noteOrder()))).to.equal('SHP-AAAAA-BBBBB-1');
  });

  it('sends nothing by post for a digital-only order', () => {
    const digitalOnly = { ...adaOrder, lines: [adaOrder.lines[1]!], shippingAddress: null };
    expect(types(given(...paymentNoted()).when(noteOrder(digitalOnly)))).to.deep.equal(['OrderNoted', 'DigitalDeliveryReady']);
  });

  it('fulfils once, whatever is read twice', () => {
    expect(types(given(...scheduled()).when(notePayment))).to.deep.equal([]);
    expect(types(given(...scheduled()).when(noteOrder()))).to.deep.equal([]);
  });

  describe('when the order is cancelled', () => {
    it('before payment, never ships it', () => {
      const cancelled = [...orderNoted(), ...events(given(...orderNoted()).when(cancel))];
      expect(types(given(...cancelled).when(notePayment))).to.deep.equal(['PaymentNoted']);
    });

    const physicalOnly: OrderToFulfil = { ...adaOrder, lines: [adaOrder.lines[0]!] };
    const digitalOnly: OrderToFulfil = { ...adaOrder, lines: [adaOrder.lines[1]!], shippingAddress: null };
    const paidFor = (order: OrderToFulfil): ShippingEvent[] => {
      const noted = [...events(given().when(noteOrder(order)))];
      return [...noted, ...events(given(...noted).when(notePayment))];
    };
    const dispatchedFor = (order: OrderToFulfil): ShippingEvent[] => [...paidFor(order), ...events(given(...paidFor(order)).when(dispatch))];
    // Cancelled a second after the dispatch, by an order service that had not read it yet.
    const lateCancel: ShippingCommand = { type: 'NoteCancellation', cancellation: { orderId: 'ORD-AAAAA-BBBBB', cancelledAt: '2025-06-06T15:00:01.000Z', reason: null }, at: '2025-06-06T15:00:05.000Z' };
    const noted = { type: 'CancellationNoted', orderId: 'ORD-AAAAA-BBBBB', cancelledAt: '2025-06-06T15:00:01.000Z', reason: null } as const;

    it('after scheduling, cancels the shipment still in the warehouse', () => {
      expect(types(given(...paidFor(physicalOnly)).when(cancel))).to.deep.equal(['CancellationNoted', 'ShipmentCancelled']);
    });

    describe('after the goods left (the race: the order service accepted it before it read that)', () => {
      it('after dispatch, notes it and publishes DispatchedBeforeCancellation: the parcel cannot be called back', () => {
        expect(events(given(...dispatchedFor(physicalOnly)).when(lateCancel))).to.deep.equal([noted, {
          type: 'DispatchedBeforeCancellation', orderId: 'ORD-AAAAA-BBBBB', cancelledAt: '2025-06-06T15:00:01.000Z', notedAt: '2025-06-06T15:00:05.000Z',
          shipment: { shipmentId: 'SHP-AAAAA-BBBBB-1', dispatchedAt: '2025-06-06T15:00:00.000Z' }, downloadsReadyAt: null,
        }]);
      });

      it('after the download links were given, says so', () => {
        expect(events(given(...paidFor(digitalOnly)).when(lateCancel))).to.deep.equal([noted, {
          type: 'DispatchedBeforeCancellation', orderId: 'ORD-AAAAA-BBBBB', cancelledAt: '2025-06-06T15:00:01.000Z', notedAt: '2025-06-06T15:00:05.000Z',
          shipment: null, downloadsReadyAt: FRIDAY_MORNING,
        }]);
      });

      it('with the parcel still in the warehouse and the links given, cancels the parcel and tells of the links', () => {
        const d = given(...scheduled()).when(cancel);
        expect(types(d)).to.deep.equal(['CancellationNoted', 'ShipmentCancelled', 'DispatchedBeforeCancellation']);
        expect(events(d)[2]).to.deep.include({ shipment: null, downloadsReadyAt: FRIDAY_MORNING });
      });

      it('with both gone, tells of both in one entry', () => {
        expect(events(given(...dispatchedFor(adaOrder)).when(lateCancel))[1]).to.deep.include({
          shipment: { shipmentId: 'SHP-AAAAA-BBBBB-1', dispatchedAt: '2025-06-06T15:00:00.000Z' }, downloadsReadyAt: FRIDAY_MORNING,
        });
      });

      it('tells it once, whatever is read twice', () => {
        const told = [...dispatchedFor(physicalOnly), ...events(given(...dispatchedFor(physicalOnly)).when(lateCancel))];
        expect(types(given(...told).when(lateCancel))).to.deep.equal([]);
      });
    });
  });

  describe('dispatch', () => {
    it('records carrier and tracking number, defaulting the carrier to the scheduled one', () => {
      expect(events(given(...scheduled()).when(dispatch))).to.deep.equal([{
        type: 'ShipmentDispatched', orderId: 'ORD-AAAAA-BBBBB', shipmentId: 'SHP-AAAAA-BBBBB-1', dispatchedAt: '2025-06-06T15:00:00.000Z', carrier: 'Royal Mail', trackingNumber: 'RM123456785GB',
      }]);
    });

    it('refuses what cannot be dispatched', () => {
      expect(given().when(dispatch)).to.deep.equal({ ok: false, reason: 'not-found' });
      expect(given(...orderNoted()).when(dispatch)).to.deep.equal({ ok: false, reason: 'not-scheduled' });
      const dispatched = [...scheduled(), ...events(given(...scheduled()).when(dispatch))];
      expect(given(...dispatched).when(dispatch)).to.deep.equal({ ok: false, reason: 'already-dispatched' });
      const cancelled = [...scheduled(), ...events(given(...scheduled()).when(cancel))];
      expect(given(...cancelled).when(dispatch)).to.deep.equal({ ok: false, reason: 'cancelled' });
    });
  });
});
