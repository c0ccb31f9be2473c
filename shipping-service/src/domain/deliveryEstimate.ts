import { type CivilDate, addBusinessDays, localDateTime, workingCalendar } from './calendar.ts';

/**
 * Shipping's delivery promise. The warehouse is in the UK: an order paid on a UK business day
 * before 14:00 UK time leaves that day, otherwise on the next UK business day. Transit counts
 * business days of the destination (never weekends; UK bank holidays in the UK).
 */

export const WAREHOUSE_TIME_ZONE = 'Europe/London';
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

export function estimateDelivery(paidAt: Date, country: string): DeliveryEstimate {
  const uk = workingCalendar('GB');
  const local = localDateTime(paidAt, WAREHOUSE_TIME_ZONE);
  const sameDay = uk.isBusinessDay(local.date) && local.minutes < CUT_OFF_MINUTES;
  const dispatchDate = addBusinessDays(local.date, sameDay ? 0 : 1, uk);
  const service = shippingServiceFor(country);
  const estimatedDelivery = addBusinessDays(dispatchDate, service.transitBusinessDays, workingCalendar(country));
  return { ...service, dispatchDate, estimatedDelivery };
}
