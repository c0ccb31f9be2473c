import { expect } from 'chai';
import { downloadExpired, downloadsExpireAt, lastDownloadDay, startOfShopDay } from './downloadExpiry.ts';

const LONDON = 'Europe/London';

describe('When download links stop working', () => {
  it('at the end of the 30th day after they were given, in summer time', () => {
    // Given at 10:00 BST on Friday 6 June: they work all of Sunday 6 July, until 00:00 BST on the 7th.
    const expiresAt = downloadsExpireAt('2025-06-06T09:00:00.000Z', 30, LONDON);
    expect(expiresAt).to.equal('2025-07-06T23:00:00.000Z');
    expect(lastDownloadDay(expiresAt, LONDON)).to.equal('2025-07-06');
  });

  it("counts from the shop's day they were given, not the UTC one", () => {
    // 23:30 UTC on 5 June is 00:30 BST on 6 June.
    expect(lastDownloadDay(downloadsExpireAt('2025-06-05T23:30:00.000Z', 30, LONDON), LONDON)).to.equal('2025-07-06');
  });

  it('across the end of summer time, at midnight GMT', () => {
    const expiresAt = downloadsExpireAt('2025-10-01T12:00:00.000Z', 30, LONDON);
    expect(expiresAt).to.equal('2025-11-01T00:00:00.000Z');
    expect(lastDownloadDay(expiresAt, LONDON)).to.equal('2025-10-31');
  });

  it('honours a link given before, whose expiry had a time of day, to the end of the day its email named', () => {
    expect(lastDownloadDay('2025-07-06T09:00:00.000Z', LONDON)).to.equal('2025-07-06');
    expect(downloadExpired('2025-07-06', new Date('2025-07-06T22:59:59.999Z'), LONDON)).to.equal(false);
    expect(downloadExpired('2025-07-06', new Date('2025-07-06T23:00:00.000Z'), LONDON)).to.equal(true);
  });

  it('starts a day at its local midnight, or where a zone skips midnight, at the first instant it has', () => {
    expect(startOfShopDay('2025-03-30', LONDON).toISOString()).to.equal('2025-03-30T00:00:00.000Z');
    expect(startOfShopDay('2025-10-26', LONDON).toISOString()).to.equal('2025-10-25T23:00:00.000Z');
    // Chile moved its clocks from 24:00 on 6 September 2025 to 01:00 on the 7th (UTC-3).
    expect(startOfShopDay('2025-09-07', 'America/Santiago').toISOString()).to.equal('2025-09-07T04:00:00.000Z');
  });
});
