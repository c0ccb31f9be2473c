import { localDateTime } from '@shop/common/time';
import { type CivilDate, addBusinessDays, workingCalendar } from './calendar.ts';

/**
 * Shipping's delivery promise. The warehouse is in the UK and keeps the shop's clock: an order
 * paid on a UK business day before 14:00 shop time leaves that day, otherwise on the next UK
 * business day, the day and the hour both read in the shop's time zone (so a payment at 23:30
 * UTC in summer is 00:30 the next morning). Transit counts business days of the destination
 * (never weekends; UK bank holidays in the UK).
 */

/** The dispatch cut-off, in minutes after midnight shop time. */
export const CUT_OFF_MINUTES = 14 * 60;

export interface ShippingService {
  readonly carrier: string;
  readonly service: string;
  readonly transitBusinessDays: number;
}

const EUROPE = new Set(['AT', 'BE', 'CH', 'CZ', 'DE', 'DK', 'ES', 'FI', 'FR', 'GR', 'HU', 'IS', 'IT', 'LU', 'NL', 'NO', 'PL', 'PT', 'SE', 'SK', 'SI']);

/** The service a parcel to `country` goes by, and how many business days it takes. */
export function shippingServiceFor(country: string): ShippingService {
  if (country === 'GB') return { carrier: 'Royal Mail', service: 'Tracked 48', transitBusinessDays: 2 };
  if (country === 'IE') return { carrier: 'Royal Mail', service: 'International Tracked', transitBusinessDays: 4 };
  if (EUROPE.has(country)) return { carrier: 'Royal Mail', service: 'International Tracked', transitBusinessDays: 5 };
  if (country === 'US' || country === 'CA') return { carrier: 'Royal Mail', service: 'International Tracked', transitBusinessDays: 7 };
  if (country === 'JP' || country === 'AU' || country === 'NZ') return { carrier: 'Royal Mail', service: 'International Tracked', transitBusinessDays: 8 };
  return { carrier: 'Royal Mail', service: 'International Tracked', transitBusinessDays: 10 };
}

export interface DeliveryEstimate extends ShippingService {
  /** The UK business day the parcel leaves the warehouse. */
  readonly dispatchDate: CivilDate;
  readonly estimatedDelivery: CivilDate;
}

/**
 * The promise for an order paid at `paidAt` (the time of the payment, never the time it was
 * read: a feed read late or replayed gives the same dates), with the cut-off and working days
 * read in `shopTimeZone`.
 */
export function estimateDelivery(paidAt: Date, country: string, shopTimeZone: string): DeliveryEstimate {
  const uk = workingCalendar('GB');
  const local = localDateTime(paidAt, shopTimeZone);
  const sameDay = uk.isBusinessDay(local.date) && local.minutes < CUT_OFF_MINUTES;
  const dispatchDate = addBusinessDays(local.date, sameDay ? 0 : 1, uk);
  const service = shippingServiceFor(country);
  const estimatedDelivery = addBusinessDays(dispatchDate, service.transitBusinessDays, workingCalendar(country));
  return { ...service, dispatchDate, estimatedDelivery };
}
