import { fileURLToPath } from 'node:url';
import { ConfigError, type NewFeedEntry } from '@shop/common';
import { expect } from 'chai';
import { loadConfig as billingConfig } from '../billing-service/src/config.ts';
import { decide as billingDecide } from '../billing-service/src/domain/decide.ts';
import { parseOrderPlaced as billingOrder } from '../billing-service/src/domain/orderContract.ts';
import { toFeedEntry as billingEntry } from '../billing-service/src/feed/toFeedEntry.ts';
import { orderPlacedPayload } from '../billing-service/src/testing/orderExamples.ts';
import { readConfig as notificationConfig } from '../notification-service/src/config.ts';
import { factFrom } from '../notification-service/src/domain/facts.ts';
import { evolve as notificationEvolve, initialState as notificationState, type NotificationState } from '../notification-service/src/domain/policy.ts';
import { EmailRenderer, templateData } from '../notification-service/src/mail/emailRenderer.ts';
import { mailDate } from '../notification-service/src/mail/mimeMessage.ts';
import { loadConfig as shippingConfig } from '../shipping-service/src/config.ts';
import { type ShippingCommand, decide as shippingDecide } from '../shipping-service/src/domain/decide.ts';
import { type ShippingState, evolve as shippingEvolve, initialState as shippingInitial } from '../shipping-service/src/domain/evolve.ts';
import { parseOrderPlaced as shippingOrder } from '../shipping-service/src/domain/feedContracts.ts';
import { DownloadLinks } from '../shipping-service/src/downloads/downloadLinks.ts';
import { toFeedEntry as shippingEntry } from '../shipping-service/src/feed/toFeedEntry.ts';

/**
 * One clock, the shop's: billing, shipping and the emails agree on the calendar day of every
 * date a customer sees. An order paid at 00:10 and dispatched at 00:30 BST on 11 June (23:10 and
 * 23:30 UTC on 10 June) reads 11 June in billing's section, shipping's and both emails.
 */
const ORDER = 'ORD-CLOCK-00011';
const PAID_AT = '2025-06-10T23:10:00.000Z';
const DISPATCHED_AT = '2025-06-10T23:30:00.000Z';
const TEMPLATES = fileURLToPath(new URL('../notification-service/templates', import.meta.url));

/** The PaymentReceived, ShipmentScheduled and ShipmentDispatched entries of one order, made by billing's and shipping's real code. */
function publish(shopTimeZone: string): NewFeedEntry[] {
  const payload = orderPlacedPayload(ORDER);
  const placed = billingOrder(payload);
  if (!placed.ok) throw new Error(placed.errors.join('; '));
  const issued = billingDecide({ type: 'IssueInvoice', order: placed.value, invoiceId: 'INV-000011', at: '2025-06-10T23:05:00.000Z' }, { status: 'none' });
  if (!issued.ok || issued.events[0]?.type !== 'InvoiceIssued') throw new Error('not invoiced');
  const invoice = issued.events[0].invoice;
  const paid = billingEntry({
    type: 'PaymentReceived', orderId: ORDER, invoiceId: invoice.invoiceId, paymentId: 'PAY-1', amountMinor: invoice.totalMinor,
    currency: invoice.currency, method: { type: 'card', brand: 'visa', last4: '4242' }, paidAt: PAID_AT,
  }, 'k-paid', invoice, shopTimeZone);

  const order = shippingOrder(payload);
  if (!order.ok) throw new Error(order.errors.join('; '));
  let state: ShippingState = shippingInitial;
  const entries = [paid];
  let n = 0;
  for (const command of [
    { type: 'NoteOrder', order: order.value, at: '2025-06-10T23:05:00.000Z' },
    { type: 'NotePayment', payment: { orderId: ORDER, invoiceId: invoice.invoiceId, paidAt: PAID_AT }, at: '2025-06-10T23:10:01.000Z' },
    { type: 'Dispatch', orderId: ORDER, carrier: null, trackingNumber: 'RM123456785GB', at: DISPATCHED_AT },
  ] satisfies ShippingCommand[]) {
    const d = shippingDecide(command, state, { newId: () => `t${++n}`, shopTimeZone });
    if (!d.ok) throw new Error(d.reason);
    for (const e of d.events) {
      state = shippingEvolve(state, e);
      const entry = shippingEntry(e, `k-${++n}`, state, new DownloadLinks('https://ship.example', 'test-download-link-secret', shopTimeZone), shopTimeZone);
      if (entry && entry.type !== 'DigitalDeliveryReady') entries.push(entry);
    }
  }
  return entries;
}

/** The confirmation and the dispatch notice, rendered by the notification service from those entries. */
function emails(entries: readonly NewFeedEntry[]): { confirmation: string; dispatched: string } {
  const placed = { type: 'OrderPlaced', orderId: ORDER, summary: `Order ${ORDER}`, contentXhtml: `<p>Order ${ORDER}</p>`, payload: orderPlacedPayload(ORDER) };
  const digital = { type: 'DigitalDeliveryReady', orderId: ORDER, summary: 'Downloads', contentXhtml: '<p>Downloads</p>', payload: {} };
  let s: NotificationState = notificationState(ORDER);
  for (const e of [placed, digital, ...entries.map((x) => ({ type: x.type, orderId: x.orderId, summary: x.summary, contentXhtml: x.content.toString(), payload: x.payload }))]) {
    const fact = factFrom(e);
    if (fact) s = notificationEvolve(s, fact);
  }
  const renderer = new EmailRenderer(TEMPLATES);
  const render = (kind: 'confirmation' | 'dispatched'): string => {
    const r = renderer.render(kind, templateData(s, []));
    return `${r.subject}\n${r.text}\n${r.html}`;
  };
  return { confirmation: render('confirmation'), dispatched: render('dispatched') };
}

describe("One clock, the shop's (SHOP_TIME_ZONE)", () => {
  it('dates a payment at 00:10 and a dispatch at 00:30 BST on 11 June "11 June" in billing, shipping and both emails', () => {
    const [paid, scheduled, dispatched] = publish('Europe/London');
    expect(paid!.summary).to.include('Paid with Visa ending 4242 on 11 June 2025.');
    expect(scheduled!.summary).to.include('Dispatch expected on Wednesday, 11 June 2025; estimated delivery Friday, 13 June 2025.');
    expect(dispatched!.summary).to.match(/^Order ORD-CLOCK-00011 was dispatched on Wednesday, 11 June 2025 /);
    for (const e of [paid!, scheduled!, dispatched!]) expect(`${e.summary}\n${e.content.toString()}`, e.type).not.to.include('10 June');

    const { confirmation, dispatched: onItsWay } = emails([paid!, scheduled!, dispatched!]);
    expect(confirmation).to.include('on 11 June 2025.').and.include('Dispatch expected on Wednesday, 11 June 2025').and.not.include('10 June');
    expect(onItsWay).to.include('dispatched on Wednesday, 11 June 2025').and.not.include('10 June');
    expect(mailDate(new Date(DISPATCHED_AT), 'Europe/London')).to.equal('Wed, 11 Jun 2025 00:30:00 +0100');
  });

  it('moves every date together when the shop keeps another zone', () => {
    const [paid, scheduled, dispatched] = publish('UTC');
    expect(paid!.summary).to.include('on 10 June 2025.');
    expect(scheduled!.summary, 'paid at 23:10, after the cut-off').to.include('Dispatch expected on Wednesday, 11 June 2025');
    expect(dispatched!.summary).to.include('dispatched on Tuesday, 10 June 2025');
  });

  it('names the shipment by a short reference made from the order number', () => {
    const [, scheduled] = publish('Europe/London');
    expect(scheduled!.summary).to.match(/^Shipment SHP-CLOCK-00011-1 for order ORD-CLOCK-00011,/);
    expect(`${scheduled!.summary}${scheduled!.content.toString()}`).not.to.match(/[0-9a-f]{8}-[0-9a-f]{4}-/);
  });

  it('is set the same way in billing, shipping and notification: Europe/London by default, an unknown zone refused by name', () => {
    const readers = { billing: billingConfig, shipping: shippingConfig, notification: notificationConfig };
    for (const [name, read] of Object.entries(readers)) {
      expect(read({}).shopTimeZone, name).to.equal('Europe/London');
      expect(read({ SHOP_TIME_ZONE: 'America/New_York' }).shopTimeZone, name).to.equal('America/New_York');
      expect(() => read({ SHOP_TIME_ZONE: 'Europe/Londres' }), name).to.throw(ConfigError, 'SHOP_TIME_ZONE must be an IANA time zone such as Europe/London or America/New_York, got "Europe/Londres"');
    }
  });
});
