import { expect } from 'chai';
import { addBusinessDays, easterSunday, englandAndWalesBankHolidays, workingCalendar } from './calendar.ts';

describe('Calendars', () => {
  it('finds Easter Sunday', () => {
    expect(['2024', '2025', '2026', '2027'].map((y) => easterSunday(Number(y)))).to.deep.equal(['2024-03-31', '2025-04-20', '2026-04-05', '2027-03-28']);
  });

  describe('bank holidays in England and Wales', () => {
    it('matches the published list for 2025', () => {
      expect(englandAndWalesBankHolidays(2025)).to.deep.equal(['2025-01-01', '2025-04-18', '2025-04-21', '2025-05-05', '2025-05-26', '2025-08-25', '2025-12-25', '2025-12-26']);
    });

    it('moves Boxing Day on a Saturday to Monday (2026)', () => {
      expect(englandAndWalesBankHolidays(2026)).to.deep.equal(['2026-01-01', '2026-04-03', '2026-04-06', '2026-05-04', '2026-05-25', '2026-08-31', '2026-12-25', '2026-12-28']);
    });

    it('moves Christmas on a Saturday and Boxing Day on a Sunday to Monday and Tuesday (2027)', () => {
      expect(englandAndWalesBankHolidays(2027).slice(-2)).to.deep.equal(['2027-12-27', '2027-12-28']);
    });

    it('knows the holidays moved and added by proclamation (2022)', () => {
      expect(englandAndWalesBankHolidays(2022)).to.deep.equal(['2022-01-03', '2022-04-15', '2022-04-18', '2022-05-02', '2022-06-02', '2022-06-03', '2022-08-29', '2022-09-19', '2022-12-26', '2022-12-27']);
    });
  });

  describe('business days', () => {
    it('skips the weekend', () => {
      expect(addBusinessDays('2025-06-06', 1, workingCalendar('DE'))).to.equal('2025-06-09');
    });

    it('skips UK bank holidays only in the UK', () => {
      expect(addBusinessDays('2025-12-24', 1, workingCalendar('GB'))).to.equal('2025-12-29');
      expect(addBusinessDays('2025-12-24', 1, workingCalendar('US'))).to.equal('2025-12-25');
    });

    it('knows a Friday-Saturday weekend', () => {
      expect(addBusinessDays('2025-06-05', 1, workingCalendar('SA'))).to.equal('2025-06-08');
    });

    it('counts zero days as the day itself, or the next business day', () => {
      expect(addBusinessDays('2025-06-06', 0, workingCalendar('GB'))).to.equal('2025-06-06');
      expect(addBusinessDays('2025-06-07', 0, workingCalendar('GB'))).to.equal('2025-06-09');
    });
  });
});
