import { localDate, utcOffsetMinutes } from '@shop/common/time';
import { type CivilDate, addDays } from './calendar.ts';

/**
 * When download links stop working, on the shop's calendar. The email promises a day ("The links
 * work until Sunday, 6 July 2025"), so a link works for the whole of that day in the shop's time
 * zone and stops at the midnight that ends it: the day is the promise, the instant only follows
 * from it.
 */

/** The instant links given at `readyAt` stop working: the shop's midnight ending the `days`th day after the day they were given. */
export function downloadsExpireAt(readyAt: string, days: number, shopTimeZone: string): string {
  return startOfShopDay(addDays(localDate(readyAt, shopTimeZone), days + 1), shopTimeZone).toISOString();
}

/**
 * The last day links expiring at `expiresAt` work, as the email writes it. Links given before
 * expiry was a whole day expire at any time of day; their email named the day of that instant,
 * and they are honoured to its end too.
 */
export function lastDownloadDay(expiresAt: string, shopTimeZone: string): CivilDate {
  return localDate(new Date(Date.parse(expiresAt) - 1), shopTimeZone);
}

/** Whether a link whose last day is `lastDay` has expired at `now`: `lastDay` is over in the shop's time zone. */
export function downloadExpired(lastDay: CivilDate, now: Date, shopTimeZone: string): boolean {
  return localDate(now, shopTimeZone) > lastDay;
}

/** The instant the shop's calendar day `date` begins (its local midnight, or the first instant of the day where midnight is skipped). */
export function startOfShopDay(date: CivilDate, shopTimeZone: string): Date {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const wallMidnight = Date.UTC(y, m - 1, d);
  // The offset at local midnight may differ from the one at UTC midnight: correct once with it.
  let t = wallMidnight - utcOffsetMinutes(new Date(wallMidnight), shopTimeZone) * 60_000;
  t = wallMidnight - utcOffsetMinutes(new Date(t), shopTimeZone) * 60_000;
  // A zone that moves its clocks at midnight has no 00:00 that day: the day starts at the jump.
  while (localDate(new Date(t), shopTimeZone) < date) t += 15 * 60_000;
  return new Date(t);
}
