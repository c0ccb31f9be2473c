import { el, fragment, type NewFeedEntry, type Projection, type Xhtml } from '@shop/common';
import { formatCivilDate, localDate } from '@shop/common/time';
import { type Address, formatAddress } from '../domain/addressFormat.ts';
import type { CivilDate } from '../domain/calendar.ts';
import { lastDownloadDay } from '../domain/downloadExpiry.ts';
import type { DownloadLinkSigner } from '../downloads/downloadLinks.ts';
import type { DigitalDeliveryReady, DispatchedBeforeCancellation, Item, ShipmentCancelled, ShipmentDispatched, ShipmentScheduled, ShippingEvent } from '../domain/events.ts';
import type { ShippingState } from '../domain/evolve.ts';

/** Every event type the shipping feed can carry (its AtomPub categories). */
export const SHIPPING_FEED_TYPES = ['ShipmentScheduled', 'DigitalDeliveryReady', 'ShipmentDispatched', 'ShipmentCancelled', 'DispatchedBeforeCancellation'] as const;

/** The shipping feed's projection: the public events' entries, keyed by their event ids. */
export function shippingProjection(links: DownloadLinkSigner, shopTimeZone: string): Projection<ShippingState, ShippingEvent> {
  return (event, { eventId, state }) => toFeedEntry(event, eventId, state, links, shopTimeZone) ?? null;
}

/**
 * The public face of a shipping event (shipping feed entry contract v1, see the README), or
 * undefined for the facts shipping only notes for itself. Pure: `state` is the order's state
 * after the event, `links` signs download links, `shopTimeZone` the zone whose calendar day an
 * instant (a dispatch, a link's expiry) is written as.
 */
export function toFeedEntry(event: ShippingEvent, key: string, state: ShippingState, links: DownloadLinkSigner, shopTimeZone: string): NewFeedEntry | undefined {
  switch (event.type) {
    case 'OrderNoted':
    case 'PaymentNoted':
    case 'CancellationNoted':
      return undefined;
    case 'ShipmentScheduled':
      return scheduledEntry(event, key);
    case 'DigitalDeliveryReady':
      return digitalEntry(event, key, links, shopTimeZone);
    case 'ShipmentDispatched':
      return dispatchedEntry(event, key, state, shopTimeZone);
    case 'ShipmentCancelled':
      return cancelledEntry(event, key);
    case 'DispatchedBeforeCancellation':
      return beforeCancellationEntry(event, key, state, shopTimeZone);
    default:
      return assertNever(event);
  }
}

function scheduledEntry(e: ShipmentScheduled, key: string): NewFeedEntry {
  const label = formatAddress(e.recipient, e.address);
  const when = longDate(e.estimatedDelivery);
  return {
    key,
    type: 'ShipmentScheduled',
    typeLabel: 'Shipment scheduled',
    title: `Shipment scheduled for order ${e.orderId}: estimated delivery ${when}`,
    orderId: e.orderId,
    summary: [
      `Shipment ${e.shipmentId} for order ${e.orderId}, by ${e.carrier} ${e.service}.`,
      ...e.items.map(itemText),
      'Delivery address:', ...label.map((l) => `  ${l}`),
      `Dispatch expected on ${longDate(e.dispatchDate)}; estimated delivery ${when}.`,
    ].join('\n'),
    content: el('div', { class: 'delivery-section' },
      el('p', null, 'Shipment ', el('strong', null, e.shipmentId), ' for order ', el('strong', null, e.orderId), `, by ${e.carrier} ${e.service}.`),
      itemList(e.items),
      el('p', null, 'Delivery address:'),
      addressBlock(label),
      el('p', null, `Dispatch expected on ${longDate(e.dispatchDate)}; estimated delivery `, el('strong', null, when), '.')),
    payload: {
      orderId: e.orderId, shipmentId: e.shipmentId, scheduledAt: e.scheduledAt, carrier: e.carrier, service: e.service,
      dispatchDate: e.dispatchDate, estimatedDelivery: e.estimatedDelivery, items: e.items, address: addressPayload(e.address), addressLines: label,
    },
  };
}

function digitalEntry(e: DigitalDeliveryReady, key: string, links: DownloadLinkSigner, shopTimeZone: string): NewFeedEntry {
  // One day, written in the section and signed into every link: what the email promises is what the links do.
  const lastDay = lastDownloadDay(e.expiresAt, shopTimeZone);
  const until = longDate(lastDay);
  const downloads = e.downloads.map((d) => ({ sku: d.sku, name: d.name, quantity: d.quantity, url: links.url(e.orderId, d.sku, lastDay) }));
  return {
    key,
    type: 'DigitalDeliveryReady',
    typeLabel: 'Digital delivery ready',
    title: `Downloads ready for order ${e.orderId}`,
    orderId: e.orderId,
    summary: [`Your downloads for order ${e.orderId}:`, ...downloads.map((d) => `${d.name} (${d.sku}): ${d.url}`), `The links work until ${until}.`].join('\n'),
    content: el('div', { class: 'delivery-section digital' },
      el('p', null, 'Your downloads for order ', el('strong', null, e.orderId), ':'),
      el('ul', { class: 'downloads' }, downloads.map((d) => el('li', null, el('a', { href: d.url }, d.name), ' ', el('small', null, `(${d.sku}${d.quantity > 1 ? `, ${d.quantity} licences` : ''})`)))),
      el('p', null, `The links work until ${until}.`)),
    payload: { orderId: e.orderId, readyAt: e.readyAt, expiresAt: e.expiresAt, validThrough: lastDay, downloads },
  };
}

function dispatchedEntry(e: ShipmentDispatched, key: string, state: ShippingState, shopTimeZone: string): NewFeedEntry {
  const s = state.shipment;
  if (!s) throw new Error(`ShipmentDispatched for ${e.orderId} without a shipment`);
  const label = formatAddress(s.recipient, s.address);
  const by = [e.carrier ? `with ${e.carrier}` : null, e.trackingNumber ? `tracking number ${e.trackingNumber}` : null].filter(Boolean).join(', ');
  // The shop's calendar day, not the UTC one: 00:30 BST on 11 June was dispatched on 11 June.
  const sent = `Order ${e.orderId} was dispatched on ${longDate(localDate(e.dispatchedAt, shopTimeZone))}${by ? ` ${by}` : ''}.`;
  return {
    key,
    type: 'ShipmentDispatched',
    typeLabel: 'Shipment dispatched',
    title: `Order ${e.orderId} dispatched`,
    orderId: e.orderId,
    summary: [sent, ...s.items.map(itemText), 'Delivery address:', ...label.map((l) => `  ${l}`), `Estimated delivery: ${longDate(s.estimatedDelivery)}.`].join('\n'),
    content: el('div', { class: 'delivery-section dispatched' },
      el('p', null, sent),
      itemList(s.items),
      el('p', null, 'Delivery address:'),
      addressBlock(label),
      el('p', null, 'Estimated delivery: ', el('strong', null, longDate(s.estimatedDelivery)), '.')),
    payload: {
      orderId: e.orderId, shipmentId: e.shipmentId, dispatchedAt: e.dispatchedAt, estimatedDelivery: s.estimatedDelivery,
      ...(e.carrier ? { carrier: e.carrier } : {}), ...(e.trackingNumber ? { trackingNumber: e.trackingNumber } : {}),
    },
  };
}

function cancelledEntry(e: ShipmentCancelled, key: string): NewFeedEntry {
  const text = `Shipment ${e.shipmentId} for order ${e.orderId} was cancelled before dispatch.${e.reason ? ` Reason: ${e.reason}` : ''}`;
  return {
    key,
    type: 'ShipmentCancelled',
    typeLabel: 'Shipment cancelled',
    title: `Shipment cancelled for order ${e.orderId}`,
    orderId: e.orderId,
    summary: text,
    content: el('div', { class: 'delivery-section cancelled' }, el('p', null, text)),
    payload: { orderId: e.orderId, shipmentId: e.shipmentId, cancelledAt: e.cancelledAt, reason: e.reason },
  };
}

/**
 * The delivery section of the cancellation email when the goods had already left: what is on
 * its way and what to do with it (refuse it or send it back, at no cost), and that the download
 * links given no longer work.
 */
function beforeCancellationEntry(e: DispatchedBeforeCancellation, key: string, state: ShippingState, shopTimeZone: string): NewFeedEntry {
  const day = (iso: string): string => longDate(localDate(iso, shopTimeZone));
  const s = e.shipment ? state.shipment : null;
  const downloads = e.downloadsReadyAt !== null ? (state.digital?.downloads ?? []).map((d) => ({ sku: d.sku, name: d.name, quantity: d.quantity })) : null;
  const carrier = s?.dispatchCarrier ?? s?.carrier ?? null;
  const by = s ? [carrier ? `with ${carrier}` : null, s.trackingNumber ? `tracking number ${s.trackingNumber}` : null].filter(Boolean).join(', ') : '';
  const opening = `Order ${e.orderId} was cancelled on ${day(e.cancelledAt)}, after part of it had already left us.`;
  const parcel = e.shipment && s ? [
    `The parcel was dispatched on ${day(e.shipment.dispatchedAt)}${by ? ` ${by}` : ''}, so it is on its way to you:`,
    'Please refuse the delivery when it arrives. If it has already been delivered, send it back within 30 days: '
      + `contact us quoting order ${e.orderId} and we will send you a prepaid returns label. Either way it costs you nothing, and your refund does not wait for the parcel.`,
  ] : null;
  const links = e.downloadsReadyAt !== null
    ? `The download links were sent on ${day(e.downloadsReadyAt)}; they stopped working when the order was cancelled. There is nothing to return and nothing to pay.`
    : null;
  const what = [e.shipment ? 'its parcel was dispatched' : null, e.downloadsReadyAt !== null ? 'its downloads were delivered' : null].filter(Boolean).join(' and ');
  return {
    key,
    type: 'DispatchedBeforeCancellation',
    typeLabel: 'Dispatched before cancellation',
    title: `Order ${e.orderId} was cancelled after ${what}`,
    orderId: e.orderId,
    summary: [opening, ...(parcel && s ? [parcel[0]!, ...s.items.map(itemText), parcel[1]!] : []), ...(links ? [links] : [])].join('\n'),
    content: el('div', { class: 'delivery-section dispatched-before-cancellation' },
      el('p', null, opening),
      parcel && s ? fragment(el('p', null, parcel[0]!), itemList(s.items), el('p', null, el('strong', null, parcel[1]!))) : null,
      links ? el('p', null, links) : null),
    payload: {
      orderId: e.orderId, cancelledAt: e.cancelledAt, notedAt: e.notedAt,
      shipment: e.shipment && s ? {
        shipmentId: e.shipment.shipmentId, dispatchedAt: e.shipment.dispatchedAt,
        ...(carrier ? { carrier } : {}), ...(s.trackingNumber ? { trackingNumber: s.trackingNumber } : {}), items: s.items,
      } : null,
      downloads: e.downloadsReadyAt !== null ? { readyAt: e.downloadsReadyAt, items: downloads } : null,
    },
  };
}

function itemList(items: readonly Item[]): Xhtml {
  return el('ul', { class: 'items' }, items.map((i) => el('li', null, `${i.quantity} x `, i.name, ' ', el('small', null, `(${i.sku})`))));
}

function itemText(i: Item): string {
  return `${i.quantity} x ${i.name} (${i.sku})`;
}

function addressBlock(lines: readonly string[]): Xhtml {
  return el('address', null, fragment(...lines.flatMap((l, i) => (i === 0 ? [l] : [el('br', null), l]))));
}

function addressPayload(a: Address): Record<string, unknown> {
  return { line1: a.line1, ...(a.line2 ? { line2: a.line2 } : {}), city: a.city, ...(a.region ? { region: a.region } : {}), postalCode: a.postalCode, country: a.country };
}

/** "Tuesday, 10 June 2025": shipping writes calendar dates in British English. */
export function longDate(date: CivilDate): string {
  return formatCivilDate(date, 'en-GB', { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
}

function assertNever(x: never): never {
  throw new Error(`Unexpected ${JSON.stringify(x)}`);
}
