import { expect } from 'chai';
import { ConfigError, EnvReader, readShopTimeZone } from '../config/env.ts';
import { DEFAULT_SHOP_TIME_ZONE, canonicalTimeZone, formatCivilDate, formatShopDate, localDate, localDateTime, utcOffsetMinutes } from './shopClock.ts';

const LONDON = 'Europe/London';
const LONG = { dateStyle: 'long' } as const;

describe("The shop's clock", () => {
  describe('in British Summer Time', () => {
    it('puts 23:30 UTC on the next calendar day (00:30 BST)', () => {
      expect(localDateTime(new Date('2025-06-10T23:30:00Z'), LONDON)).to.deep.equal({ date: '2025-06-11', minutes: 30 });
      expect(localDate('2025-06-10T23:30:00.000Z', LONDON)).to.equal('2025-06-11');
      expect(utcOffsetMinutes('2025-06-10T23:30:00Z', LONDON)).to.equal(60);
    });

    it('writes a dispatch at 00:30 BST on 11 June as 11 June, not the UTC day', () => {
      expect(formatShopDate('2025-06-10T23:30:00Z', LONDON, 'en-GB', LONG)).to.equal('11 June 2025');
      expect(formatShopDate('2025-06-10T23:30:00Z', LONDON, 'en-GB', { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' })).to.equal('Wednesday, 11 June 2025');
      expect(formatShopDate('2025-06-10T23:30:00Z', 'UTC', 'en-GB', LONG)).to.equal('10 June 2025');
    });
  });

  describe('in Greenwich Mean Time', () => {
    it('keeps 23:30 UTC on the same day', () => {
      expect(localDateTime(new Date('2025-01-10T23:30:00Z'), LONDON)).to.deep.equal({ date: '2025-01-10', minutes: 23 * 60 + 30 });
      expect(utcOffsetMinutes('2025-01-10T23:30:00Z', LONDON)).to.equal(0);
    });
  });

  describe('on the last Sunday of March (clocks go forward at 01:00 UTC)', () => {
    it('is GMT up to 00:59 and BST from 02:00 local', () => {
      expect(localDateTime('2025-03-30T00:59:00Z', LONDON)).to.deep.equal({ date: '2025-03-30', minutes: 59 });
      expect(localDateTime('2025-03-30T01:00:00Z', LONDON)).to.deep.equal({ date: '2025-03-30', minutes: 120 });
      expect([utcOffsetMinutes('2025-03-30T00:59:59Z', LONDON), utcOffsetMinutes('2025-03-30T01:00:00Z', LONDON)]).to.deep.equal([0, 60]);
    });

    it('moves 23:30 UTC to the next day only once summer time has begun', () => {
      expect(localDate('2025-03-29T23:30:00Z', LONDON)).to.equal('2025-03-29');
      expect(localDate('2025-03-30T23:30:00Z', LONDON)).to.equal('2025-03-31');
    });
  });

  describe('on the last Sunday of October (clocks go back at 01:00 UTC)', () => {
    it('lives 01:00-01:59 local twice, first in BST then in GMT', () => {
      expect(localDateTime('2025-10-26T00:30:00Z', LONDON)).to.deep.equal({ date: '2025-10-26', minutes: 90 });
      expect(localDateTime('2025-10-26T01:30:00Z', LONDON)).to.deep.equal({ date: '2025-10-26', minutes: 90 });
      expect([utcOffsetMinutes('2025-10-26T00:59:59Z', LONDON), utcOffsetMinutes('2025-10-26T01:00:00Z', LONDON)]).to.deep.equal([60, 0]);
    });

    it('moves 23:30 UTC to the next day before the change and not after it', () => {
      expect(localDate('2025-10-25T23:30:00Z', LONDON)).to.equal('2025-10-26');
      expect(localDate('2025-10-26T23:30:00Z', LONDON)).to.equal('2025-10-26');
    });
  });

  it('follows whichever zone the shop is in', () => {
    expect(localDate('2025-06-11T02:00:00Z', 'America/New_York')).to.equal('2025-06-10');
    expect(localDate('2025-06-10T15:30:00Z', 'Asia/Tokyo')).to.equal('2025-06-11');
    expect(utcOffsetMinutes('2025-06-10T12:00:00Z', 'Asia/Kolkata')).to.equal(330);
  });

  it('writes a calendar date in the reader\'s locale, with no zone to shift it', () => {
    expect(formatCivilDate('2025-06-11', 'en-GB', LONG)).to.equal('11 June 2025');
    expect(formatCivilDate('2025-06-11', 'de-DE', LONG)).to.equal('11. Juni 2025');
    expect(formatCivilDate('2025-06-11', 'en-US', LONG)).to.equal('June 11, 2025');
    expect(() => formatCivilDate('11/06/2025', 'en-GB', LONG)).to.throw(RangeError);
  });

  it('refuses what is not an instant rather than writing "Invalid Date"', () => {
    expect(() => localDate('yesterday', LONDON)).to.throw(RangeError, 'not an instant');
  });

  it('knows the time zones Intl knows, and their canonical names', () => {
    expect(canonicalTimeZone('Europe/London')).to.equal('Europe/London');
    expect(canonicalTimeZone('europe/london')).to.equal('Europe/London');
    expect(canonicalTimeZone('UTC')).to.equal('UTC');
    expect(canonicalTimeZone('Mars/Olympus_Mons')).to.equal(undefined);
    expect(canonicalTimeZone('')).to.equal(undefined);
  });
});

describe('SHOP_TIME_ZONE', () => {
  const read = (env: Record<string, string>): string => {
    const r = new EnvReader(env);
    const zone = readShopTimeZone(r);
    r.done();
    return zone;
  };

  it('defaults to Europe/London', () => {
    expect(DEFAULT_SHOP_TIME_ZONE).to.equal('Europe/London');
    expect(read({})).to.equal('Europe/London');
    expect(read({ SHOP_TIME_ZONE: '' })).to.equal('Europe/London');
  });

  it('takes any zone Intl knows, canonically spelt', () => {
    expect(read({ SHOP_TIME_ZONE: 'europe/dublin' })).to.equal('Europe/Dublin');
  });

  it('refuses an unknown zone with a ConfigError naming it', () => {
    expect(() => read({ SHOP_TIME_ZONE: 'Europe/Londres' })).to.throw(ConfigError, /SHOP_TIME_ZONE must be an IANA time zone .*got "Europe\/Londres"/);
  });
});
