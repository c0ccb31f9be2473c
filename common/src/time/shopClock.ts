/**
 * The shop's clock: which calendar day, and what wall-clock time, an instant is in the shop's
 * time zone, and how a calendar day is written. Every date a customer sees goes through here, so
 * billing, shipping and the emails agree on the day: an instant becomes the shop's calendar date
 * first (`localDate`), and only that date is formatted (`formatCivilDate`), never the instant in
 * whatever zone a formatter defaults to. Pure, no I/O: domain code may import it
 * (`@shop/common/time`); the zone always comes in as an argument, from config.
 */

/** The zone the shop works in unless SHOP_TIME_ZONE says otherwise. */
export const DEFAULT_SHOP_TIME_ZONE = 'Europe/London';

/** A calendar date with no time and no zone: `2025-06-11`. */
export type CivilDate = string;

/** The wall-clock date and time of an instant in a zone (`minutes` since local midnight). */
export interface LocalDateTime {
  readonly date: CivilDate;
  readonly minutes: number;
}

/**
 * The canonical name of a time zone the runtime knows (`europe/london` -> `Europe/London`), or
 * undefined for anything else. Intl is the judge, so any IANA zone the runtime has is accepted.
 */
export function canonicalTimeZone(zone: string): string | undefined {
  if (zone.trim() === '') return undefined;
  try {
    return new Intl.DateTimeFormat('en', { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

/** The wall-clock date and time of `instant` in `timeZone`. */
export function localDateTime(instant: Date | string, timeZone: string): LocalDateTime {
  const p = partsOf(toDate(instant), timeZone);
  return { date: civil(p.year, p.month, p.day), minutes: p.hour * 60 + p.minute };
}

/** The calendar date `instant` falls on in `timeZone`: 23:30 UTC on 10 June is 11 June in London in summer. */
export function localDate(instant: Date | string, timeZone: string): CivilDate {
  return localDateTime(instant, timeZone).date;
}

/** How far `timeZone` is ahead of UTC at `instant`, in minutes (Europe/London: 60 in summer, 0 in winter). */
export function utcOffsetMinutes(instant: Date | string, timeZone: string): number {
  const d = toDate(instant);
  const p = partsOf(d, timeZone);
  const wall = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return Math.round((wall - Math.floor(d.getTime() / 1000) * 1000) / 60_000);
}

/**
 * Writes a calendar date in a locale, e.g. `{ dateStyle: 'long' }` in `en-GB` gives "11 June
 * 2025", `{ weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' }` "Wednesday, 11
 * June 2025". The date has no zone, so none applies: the day is the one given. (A `timeZone` in
 * `options` is ignored.)
 */
export function formatCivilDate(date: CivilDate, locale: string, options: Intl.DateTimeFormatOptions): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) throw new RangeError(`not a calendar date (YYYY-MM-DD): ${date}`);
  return formatter(locale, { ...options, timeZone: 'UTC' }).format(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
}

/** The shop's calendar date of an instant, written in a locale: `formatCivilDate(localDate(instant, timeZone), ...)`. */
export function formatShopDate(instant: Date | string, timeZone: string, locale: string, options: Intl.DateTimeFormatOptions): string {
  return formatCivilDate(localDate(instant, timeZone), locale, options);
}

interface Parts { year: number; month: number; day: number; hour: number; minute: number; second: number }

function partsOf(d: Date, timeZone: string): Parts {
  const f = formatter('en-GB', {
    timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
  });
  const p: Record<string, string> = {};
  for (const { type, value } of f.formatToParts(d)) p[type] = value;
  return { year: Number(p['year']), month: Number(p['month']), day: Number(p['day']), hour: Number(p['hour']), minute: Number(p['minute']), second: Number(p['second']) };
}

function toDate(instant: Date | string): Date {
  const d = typeof instant === 'string' ? new Date(instant) : instant;
  if (Number.isNaN(d.getTime())) throw new RangeError(`not an instant: ${String(instant)}`);
  return d;
}

function civil(y: number, m: number, d: number): CivilDate {
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

// Building an Intl.DateTimeFormat costs far more than using one (feed entries are made on the
// write path), so each locale and option set is built once.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(locale: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale}|${JSON.stringify(options)}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(locale, options);
    formatters.set(key, f);
  }
  return f;
}
