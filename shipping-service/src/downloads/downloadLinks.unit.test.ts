import { expect } from 'chai';
import { DownloadLinks, type DownloadLinkParts } from './downloadLinks.ts';

const LONDON = 'Europe/London';
const SECRET = 'test-download-link-secret-0123456789';
const links = new DownloadLinks('https://ship.example', SECRET, LONDON);

/** The parts of a link as the route reads them: path segments decoded, query values as given. */
function partsOf(url: string): DownloadLinkParts {
  const u = new URL(url);
  const [, , orderId, sku] = u.pathname.split('/');
  return { orderId: decodeURIComponent(orderId!), sku: decodeURIComponent(sku!), expires: u.searchParams.get('expires') ?? undefined, sig: u.searchParams.get('sig') ?? undefined };
}

const at = (iso: string): Date => new Date(iso);
const SUMMER = links.url('ORD-7K3M9-Q2XHD', 'EBOOK-7', '2025-07-06');

describe('Download links', () => {
  it('name the order, the item and the last day they work, signed with HMAC-SHA256 in base64url', () => {
    expect(SUMMER).to.match(/^https:\/\/ship\.example\/downloads\/ORD-7K3M9-Q2XHD\/EBOOK-7\?expires=2025-07-06&sig=[A-Za-z0-9_-]{43}$/);
    expect(links.verify(partsOf(SUMMER), at('2025-06-06T09:00:00.000Z'))).to.deep.equal({ ok: true, orderId: 'ORD-7K3M9-Q2XHD', sku: 'EBOOK-7', lastDay: '2025-07-06' });
  });

  it('are the same on every process with the same secret, and worthless under another', () => {
    expect(new DownloadLinks('https://ship.example', SECRET, LONDON).url('ORD-7K3M9-Q2XHD', 'EBOOK-7', '2025-07-06')).to.equal(SUMMER);
    const other = new DownloadLinks('https://ship.example', 'another-secret-0123456789abcdef', LONDON);
    expect(other.verify(partsOf(SUMMER), at('2025-06-06T09:00:00.000Z'))).to.deep.equal({ ok: false, reason: 'invalid' });
  });

  it('keep an order id or sku with reserved characters in one path segment', () => {
    const odd = links.url('ORD/1?x', 'E BOOK&7', '2025-07-06');
    expect(odd).to.include('/downloads/ORD%2F1%3Fx/E%20BOOK%267?expires=');
    expect(links.verify(partsOf(odd), at('2025-06-06T09:00:00.000Z')).ok).to.equal(true);
  });

  describe('altered', () => {
    const now = at('2025-06-06T09:00:00.000Z');
    const good = partsOf(SUMMER);
    const cases: [string, DownloadLinkParts][] = [
      ['another order', { ...good, orderId: 'ORD-7K3M9-Q2XHE' }],
      ['another item', { ...good, sku: 'AUDIO-2' }],
      ['a later last day', { ...good, expires: '2025-07-07' }],
      ['an earlier last day', { ...good, expires: '2025-07-05' }],
      ['a last day that is not a date', { ...good, expires: '2025-07-06T23:59:59Z' }],
      ['no last day', { ...good, expires: undefined }],
      ['a repeated parameter', { ...good, expires: ['2025-07-06', '2025-07-06'] }],
      ['a changed signature', { ...good, sig: `${(good.sig as string).slice(0, -1)}${(good.sig as string).endsWith('A') ? 'B' : 'A'}` }],
      ['a truncated signature', { ...good, sig: (good.sig as string).slice(0, 20) }],
      ['a signature with a character added', { ...good, sig: `${good.sig as string}=` }],
      ['no signature', { ...good, sig: undefined }],
      ['the order moved into the item', { ...good, orderId: 'ORD-7K3M9', sku: 'Q2XHD/EBOOK-7' }],
    ];
    for (const [what, parts] of cases) {
      it(`is not valid with ${what}`, () => {
        expect(links.verify(parts, now)).to.deep.equal({ ok: false, reason: 'invalid' });
      });
    }

    it('is not valid even after its last day (an altered link says nothing of its date)', () => {
      expect(links.verify({ ...good, sku: 'AUDIO-2' }, at('2030-01-01T00:00:00.000Z'))).to.deep.equal({ ok: false, reason: 'invalid' });
    });
  });

  describe("expiry, on the shop's calendar", () => {
    const expired = { ok: false, reason: 'expired', orderId: 'ORD-7K3M9-Q2XHD', sku: 'EBOOK-7', lastDay: '2025-07-06' };

    it('works to the last instant of its last day in summer time, and not one millisecond more', () => {
      // Sunday 6 July 2025 ends at 00:00 BST on the 7th, 23:00 UTC on the 6th.
      expect(links.verify(partsOf(SUMMER), at('2025-07-06T22:59:59.999Z')).ok).to.equal(true);
      expect(links.verify(partsOf(SUMMER), at('2025-07-06T23:00:00.000Z'))).to.deep.equal(expired);
      expect(links.verify(partsOf(SUMMER), at('2025-08-01T12:00:00.000Z'))).to.deep.equal(expired);
    });

    it('works to the last instant of its last day in winter time', () => {
      const winter = partsOf(links.url('ORD-7K3M9-Q2XHD', 'EBOOK-7', '2025-01-10'));
      expect(links.verify(winter, at('2025-01-10T23:59:59.999Z')).ok).to.equal(true);
      expect(links.verify(winter, at('2025-01-11T00:00:00.000Z'))).to.deep.include({ ok: false, reason: 'expired', lastDay: '2025-01-10' });
    });

    it('reads the day in the shop time zone it is given', () => {
      const tokyo = new DownloadLinks('https://ship.example', SECRET, 'Asia/Tokyo');
      const parts = partsOf(tokyo.url('ORD-7K3M9-Q2XHD', 'EBOOK-7', '2025-07-06'));
      expect(tokyo.verify(parts, at('2025-07-06T14:59:59.999Z')).ok).to.equal(true);
      expect(tokyo.verify(parts, at('2025-07-06T15:00:00.000Z')).ok).to.equal(false);
    });
  });

  it('refuse to make a link whose last day is not a calendar date', () => {
    expect(() => links.url('ORD-1', 'EBOOK-7', '2025-07-06T23:00:00.000Z')).to.throw(RangeError);
  });
});
