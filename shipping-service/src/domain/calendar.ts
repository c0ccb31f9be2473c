/**
 * Calendar dates ("2025-06-06", no time, no zone) and the working calendars shipping needs:
 * which days are weekends where, and the bank holidays of England and Wales.
 */

export type CivilDate = string;

const DAY_MS = 86_400_000;

export function toDays(date: CivilDate): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return Date.UTC(y, m - 1, d) / DAY_MS;
}

export function fromDays(days: number): CivilDate {
  return new Date(days * DAY_MS).toISOString().slice(0, 10);
}

export function addDays(date: CivilDate, n: number): CivilDate {
  return fromDays(toDays(date) + n);
}

/** 0 is Sunday, 6 is Saturday. */
export function weekday(date: CivilDate): number {
  return new Date(toDays(date) * DAY_MS).getUTCDay();
}

/** Easter Sunday (Gregorian), by the anonymous algorithm (Meeus/Jones/Butcher). */
export function easterSunday(year: number): CivilDate {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return civil(year, month, day);
}

/** Bank holidays moved or added by proclamation; the rules below cannot know them. */
const MOVED: Readonly<Record<string, CivilDate>> = { '2020-05-04': '2020-05-08', '2022-05-30': '2022-06-02' };
const ADDED: readonly CivilDate[] = ['2022-06-03', '2022-09-19', '2023-05-08'];

/** The bank holidays of England and Wales in a year, with weekend substitutes, sorted. */
export function englandAndWalesBankHolidays(year: number): CivilDate[] {
  const easter = easterSunday(year);
  const days = [
    nextWeekday(civil(year, 1, 1)),
    addDays(easter, -2),
    addDays(easter, 1),
    firstMonday(year, 5),
    lastMonday(year, 5),
    lastMonday(year, 8),
    ...christmas(year),
  ].map((d) => MOVED[d] ?? d);
  days.push(...ADDED.filter((d) => d.startsWith(`${year}-`)));
  return [...new Set(days)].sort();
}

/** Christmas Day and Boxing Day; falling on a weekend, each moves to the next free weekday. */
function christmas(year: number): CivilDate[] {
  const taken: CivilDate[] = [];
  for (const day of [civil(year, 12, 25), civil(year, 12, 26)]) {
    let d = day;
    while (isWeekendDay(d) || taken.includes(d)) d = addDays(d, 1);
    taken.push(d);
  }
  return taken;
}

/** A country's working calendar: its weekend and, where modelled, its public holidays. */
export interface WorkingCalendar {
  readonly country: string;
  readonly isBusinessDay: (date: CivilDate) => boolean;
}

/** Where the weekend is Friday and Saturday. Everywhere else modelled: Saturday and Sunday. */
const FRIDAY_SATURDAY = new Set(['SA', 'IL', 'EG', 'KW', 'QA', 'BH', 'OM', 'JO']);

const holidayCache = new Map<number, Set<CivilDate>>();

/** Public holidays are modelled for the UK only (those of England and Wales). */
export function workingCalendar(country: string): WorkingCalendar {
  const weekend = FRIDAY_SATURDAY.has(country) ? [5, 6] : [0, 6];
  const holidays = country === 'GB';
  return {
    country,
    isBusinessDay: (date) => {
      if (weekend.includes(weekday(date))) return false;
      if (!holidays) return true;
      const year = Number(date.slice(0, 4));
      let set = holidayCache.get(year);
      if (!set) holidayCache.set(year, set = new Set(englandAndWalesBankHolidays(year)));
      return !set.has(date);
    },
  };
}

/** The `n`th business day after `date` (n = 0 gives `date` itself if it is one, else the next). */
export function addBusinessDays(date: CivilDate, n: number, cal: WorkingCalendar): CivilDate {
  let d = date;
  if (n === 0) {
    while (!cal.isBusinessDay(d)) d = addDays(d, 1);
    return d;
  }
  for (let left = n; left > 0;) {
    d = addDays(d, 1);
    if (cal.isBusinessDay(d)) left--;
  }
  return d;
}

function civil(y: number, m: number, d: number): CivilDate {
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

function isWeekendDay(d: CivilDate): boolean {
  const w = weekday(d);
  return w === 0 || w === 6;
}

function nextWeekday(d: CivilDate): CivilDate {
  let x = d;
  while (isWeekendDay(x)) x = addDays(x, 1);
  return x;
}

function firstMonday(year: number, month: number): CivilDate {
  let d = civil(year, month, 1);
  while (weekday(d) !== 1) d = addDays(d, 1);
  return d;
}

function lastMonday(year: number, month: number): CivilDate {
  let d = addDays(month === 12 ? civil(year + 1, 1, 1) : civil(year, month + 1, 1), -1);
  while (weekday(d) !== 1) d = addDays(d, -1);
  return d;
}
