import { expect } from 'chai';
import { XMLValidator } from 'fast-xml-parser';
import type { NewFeedEntry } from '@shop/common';
import { type ShippingCommand, decide } from '../domain/decide.ts';
import { adaOrder } from '../domain/decide.unit.test.ts';
import type { ShippingEvent } from '../domain/events.ts';
import { evolve, initialState, type ShippingState } from '../domain/evolve.ts';
import type { OrderToFulfil } from '../domain/feedContracts.ts';
import { DownloadLinks } from '../downloads/downloadLinks.ts';
import { longDate, toFeedEntry } from './toFeedEntry.ts';

const AT = '2025-06-06T09:00:00.000Z';
const BASE = 'https://ship.example';
const LONDON = 'Europe/London';
const LINKS = new DownloadLinks(BASE, 'test-download-link-secret-0123456789', LONDON);

/** Given an order, paid, then these commands: the feed entries they publish. */
function entriesFor(order: OrderToFulfil, dispatchAt: string | null = null, paidAt = AT): NewFeedEntry[] {
  let state: ShippingState = initialState;
  let n = 0;
  const out: NewFeedEntry[] = [];
  const apply = (events: readonly ShippingEvent[]): void => {
    for (const e of events) {
      state = evolve(state, e);
      const entry = toFeedEntry(e, `k-${out.length}`, state, LINKS, LONDON);
      if (entry) out.push(entry);
    }
  };
  for (const c of [
    { type: 'NoteOrder' as const, order, at: AT },
    { type: 'NotePayment' as const, payment: { orderId: order.orderId, invoiceId: 'INV-1', paidAt }, at: paidAt },
    ...(dispatchAt ? [{ type: 'Dispatch' as const, orderId: order.orderId, carrier: null, trackingNumber: 'RM123456785GB', at: dispatchAt }] : []),
  ]) {
    const d = decide(c, state, { newId: () => `t${++n}`, shopTimeZone: LONDON });
    if (!d.ok) throw new Error(d.reason);
    apply(d.events);
  }
  return out;
}

function wellFormed(entry: NewFeedEntry): void {
  expect(XMLValidator.validate(`<div xmlns="http://www.w3.org/1999/xhtml">${entry.content.toString()}</div>`)).to.equal(true);
}

describe('The shipping feed entry (contract v1)', () => {
  it('publishes ShipmentScheduled with the delivery section: the address as the UK writes it and the estimated date', () => {
    const [scheduled] = entriesFor(adaOrder);
    expect(scheduled).to.deep.include({ type: 'ShipmentScheduled', orderId: 'ORD-AAAAA-BBBBB', title: 'Shipment scheduled for order ORD-AAAAA-BBBBB: estimated delivery Tuesday, 10 June 2025' });
    expect(scheduled!.content.toString()).to.include("<address>Ada Lovelace<br/>12 St James's Square<br/>LONDON<br/>SW1Y 4JH</address>").and.include('Tuesday, 10 June 2025');
    expect(scheduled!.summary).to.include('  LONDON\n  SW1Y 4JH').and.include('2 x Notes on the Analytical Engine (BOOK-1)');
    expect(scheduled!.payload).to.deep.include({ orderId: 'ORD-AAAAA-BBBBB', dispatchDate: '2025-06-06', estimatedDelivery: '2025-06-10', carrier: 'Royal Mail' });
    wellFormed(scheduled!);
  });

  it('publishes DigitalDeliveryReady with signed download links instead of an address', () => {
    const digital = entriesFor(adaOrder)[1]!;
    expect(digital.type).to.equal('DigitalDeliveryReady');
    const url = LINKS.url('ORD-AAAAA-BBBBB', 'EBOOK-7', '2025-07-06');
    expect(url).to.match(/^https:\/\/ship\.example\/downloads\/ORD-AAAAA-BBBBB\/EBOOK-7\?expires=2025-07-06&sig=[\w-]{43}$/);
    expect(digital.content.toString()).to.include(`<a href="${url.replace('&', '&amp;')}">Sketch of the Engine (eBook)</a>`).and.not.include('LONDON');
    expect(digital.payload['downloads']).to.deep.equal([{ sku: 'EBOOK-7', name: 'Sketch of the Engine (eBook)', quantity: 1, url }]);
    expect(digital.payload).to.deep.include({ expiresAt: '2025-07-06T23:00:00.000Z', validThrough: '2025-07-06' });
    expect(digital.summary).to.include(url).and.include('Sunday, 6 July 2025');
    expect(LINKS.verify({ orderId: 'ORD-AAAAA-BBBBB', sku: 'EBOOK-7', expires: '2025-07-06', sig: new URL(url).searchParams.get('sig') }, new Date(AT)).ok).to.equal(true);
    wellFormed(digital);
  });

  it('signs into every link exactly the day the section promises', () => {
    const order: OrderToFulfil = { ...adaOrder, lines: [adaOrder.lines[1]!, { sku: 'AUDIO-2', name: 'Lovelace Lectures (audiobook)', quantity: 1, delivery: 'digital' }], shippingAddress: null };
    for (const paidAt of ['2025-06-05T23:30:00.000Z', '2025-10-01T22:59:59.000Z', '2025-10-01T23:00:00.000Z', '2025-01-31T00:00:00.000Z']) {
      const digital = entriesFor(order, null, paidAt)[0]!;
      const urls = (digital.payload['downloads'] as { url: string }[]).map((d) => new URL(d.url));
      const promised = /The links work until (.+)\.$/.exec(digital.summary)![1]!;
      expect(urls, paidAt).to.have.length(2);
      for (const u of urls) expect(longDate(u.searchParams.get('expires')!), paidAt).to.equal(promised);
      expect(digital.content.toString(), paidAt).to.include(`The links work until ${promised}.`);
      expect(digital.payload['validThrough'], paidAt).to.equal(urls[0]!.searchParams.get('expires'));
    }
  });

  it('publishes ShipmentDispatched with carrier, tracking number and dispatch time', () => {
    const dispatched = entriesFor(adaOrder, '2025-06-06T15:00:00.000Z')[2]!;
    expect(dispatched.type).to.equal('ShipmentDispatched');
    expect(dispatched.payload).to.deep.equal({ orderId: 'ORD-AAAAA-BBBBB', shipmentId: 'SHP-AAAAA-BBBBB-1', dispatchedAt: '2025-06-06T15:00:00.000Z', estimatedDelivery: '2025-06-10', carrier: 'Royal Mail', trackingNumber: 'RM123456785GB' });
    expect(dispatched.summary).to.match(/^Order ORD-AAAAA-BBBBB was dispatched on Friday, 6 June 2025 with Royal Mail, tracking number RM123456785GB\./);
    wellFormed(dispatched);
  });

  it('shows the shipment by its short reference, made from the order number', () => {
    const [scheduled] = entriesFor(adaOrder);
    expect(scheduled!.summary).to.match(/^Shipment SHP-AAAAA-BBBBB-1 for order ORD-AAAAA-BBBBB, by Royal Mail Tracked 48\./);
    expect(scheduled!.content.toString()).to.include('<strong>SHP-AAAAA-BBBBB-1</strong>');
    expect(scheduled!.payload['shipmentId']).to.equal('SHP-AAAAA-BBBBB-1');
  });

  describe("on the shop's clock", () => {
    it('says a parcel dispatched at 00:30 BST on 11 June was dispatched on 11 June, not on the UTC day', () => {
      const dispatched = entriesFor(adaOrder, '2025-06-10T23:30:00.000Z', '2025-06-10T09:00:00.000Z')[2]!;
      expect(dispatched.summary).to.match(/^Order ORD-AAAAA-BBBBB was dispatched on Wednesday, 11 June 2025 /);
      expect(dispatched.content.toString()).to.include('dispatched on Wednesday, 11 June 2025').and.not.include('10 June');
      expect(dispatched.payload['dispatchedAt']).to.equal('2025-06-10T23:30:00.000Z');
    });

    it('writes a dispatch just after midnight in winter on the same day as UTC', () => {
      const dispatched = entriesFor(adaOrder, '2025-01-10T00:30:00.000Z', '2025-01-09T09:00:00.000Z')[2]!;
      expect(dispatched.summary).to.match(/dispatched on Friday, 10 January 2025 /);
    });

    it('writes when the download links stop working as the shop\'s calendar day', () => {
      // Made ready at 23:30 UTC on 5 June (00:30 BST on 6 June): the links work all of 6 July, until 00:00 BST on the 7th.
      const digital = entriesFor(adaOrder, null, '2025-06-05T23:30:00.000Z')[1]!;
      expect(digital.payload['expiresAt']).to.equal('2025-07-06T23:00:00.000Z');
      expect(digital.summary).to.include('The links work until Sunday, 6 July 2025.');
    });
  });

  it('writes a Japanese address in Japanese order and escapes what the customer typed', () => {
    const order: OrderToFulfil = {
      ...adaOrder, customer: { name: '<script>alert(1)</script> & 山田', email: 'y@example.jp' }, lines: [adaOrder.lines[0]!],
      shippingAddress: { line1: '千代田1-1', city: '千代田区', region: '東京都', postalCode: '100-8111', country: 'JP' },
    };
    const [scheduled] = entriesFor(order);
    const html = scheduled!.content.toString();
    expect(html).to.include('〒100-8111<br/>東京都千代田区千代田1-1<br/>&lt;script&gt;alert(1)&lt;/script&gt; &amp; 山田 様<br/>JAPAN');
    expect(html).not.to.include('<script>');
    expect(scheduled!.payload['estimatedDelivery']).to.equal('2025-06-18');
    wellFormed(scheduled!);
  });
});

describe('The shipping feed entry DispatchedBeforeCancellation (contract v1)', () => {
  /** An order paid at AT, then these commands: every entry published. */
  function published(order: OrderToFulfil, ...later: ShippingCommand[]): NewFeedEntry[] {
    let state: ShippingState = initialState;
    const out: NewFeedEntry[] = [];
    for (const c of [
      { type: 'NoteOrder' as const, order, at: AT },
      { type: 'NotePayment' as const, payment: { orderId: order.orderId, invoiceId: 'INV-1', paidAt: AT }, at: AT },
      ...later,
    ]) {
      const d = decide(c, state, { newId: () => `t${out.length}`, shopTimeZone: LONDON });
      if (!d.ok) throw new Error(d.reason);
      for (const e of d.events) {
        state = evolve(state, e);
        const entry = toFeedEntry(e, `k-${out.length}`, state, LINKS, LONDON);
        if (entry) out.push(entry);
      }
    }
    return out;
  }
  // Dispatched at 00:30 on Saturday 7 June in London; cancelled two seconds later by an order
  // service that had not read the dispatch yet.
  const dispatch: ShippingCommand = { type: 'Dispatch', orderId: adaOrder.orderId, carrier: null, trackingNumber: 'RM123456785GB', at: '2025-06-06T23:30:00.000Z' };
  const cancel: ShippingCommand = { type: 'NoteCancellation', cancellation: { orderId: adaOrder.orderId, cancelledAt: '2025-06-06T23:30:02.000Z', reason: null }, at: '2025-06-06T23:30:05.000Z' };

  it('tells the customer the parcel is on its way, what to do with it at no cost, and that the links stopped working', () => {
    const entries = published(adaOrder, dispatch, cancel);
    expect(entries.map((e) => e.type)).to.deep.equal(['ShipmentScheduled', 'DigitalDeliveryReady', 'ShipmentDispatched', 'DispatchedBeforeCancellation']);
    const told = entries[3]!;
    expect(told.title).to.equal('Order ORD-AAAAA-BBBBB was cancelled after its parcel was dispatched and its downloads were delivered');
    expect(told.summary.split('\n')).to.deep.equal([
      'Order ORD-AAAAA-BBBBB was cancelled on Saturday, 7 June 2025, after part of it had already left us.',
      'The parcel was dispatched on Saturday, 7 June 2025 with Royal Mail, tracking number RM123456785GB, so it is on its way to you:',
      '2 x Notes on the Analytical Engine (BOOK-1)',
      'Please refuse the delivery when it arrives. If it has already been delivered, send it back within 30 days: contact us quoting order ORD-AAAAA-BBBBB '
        + 'and we will send you a prepaid returns label. Either way it costs you nothing, and your refund does not wait for the parcel.',
      'The download links were sent on Friday, 6 June 2025; they stopped working when the order was cancelled. There is nothing to return and nothing to pay.',
    ]);
    expect(told.content.toString()).to.include('<li>2 x Notes on the Analytical Engine <small>(BOOK-1)</small></li>').and.include('<strong>Please refuse the delivery');
    expect(told.payload).to.deep.equal({
      orderId: 'ORD-AAAAA-BBBBB', cancelledAt: '2025-06-06T23:30:02.000Z', notedAt: '2025-06-06T23:30:05.000Z',
      shipment: {
        shipmentId: 'SHP-AAAAA-BBBBB-1', dispatchedAt: '2025-06-06T23:30:00.000Z', carrier: 'Royal Mail', trackingNumber: 'RM123456785GB',
        items: [{ sku: 'BOOK-1', name: 'Notes on the Analytical Engine', quantity: 2 }],
      },
      downloads: { readyAt: AT, items: [{ sku: 'EBOOK-7', name: 'Sketch of the Engine (eBook)', quantity: 1 }] },
    });
    wellFormed(told);
  });

  it('for a digital-only order, speaks of the links alone', () => {
    const digitalOnly: OrderToFulfil = { ...adaOrder, lines: [adaOrder.lines[1]!], shippingAddress: null };
    const told = published(digitalOnly, cancel).at(-1)!;
    expect(told).to.deep.include({ type: 'DispatchedBeforeCancellation', title: 'Order ORD-AAAAA-BBBBB was cancelled after its downloads were delivered' });
    expect(told.summary).to.not.include('parcel');
    expect(told.payload).to.deep.include({ shipment: null });
    wellFormed(told);
  });
});
