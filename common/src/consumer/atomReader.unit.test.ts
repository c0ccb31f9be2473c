import { expect } from 'chai';
import { renderFeed } from '../feed/atomWriter.ts';
import type { StoredFeedEntry } from '../feed/feedEntry.ts';
import { FeedFormatError, readFeedDocument, scanFeedPage } from './atomReader.ts';
import { entriesAfter, FeedConsistencyError } from './readPlan.ts';

function entry(position: number, over: Partial<StoredFeedEntry> = {}): StoredFeedEntry {
  return {
    position, key: `00000000-0000-4000-8000-${String(position).padStart(12, '0')}`, type: 'OrderPlaced', typeLabel: 'Order placed',
    title: `Order <${position}> & co`, orderId: `ORD-${position}`, summary: 'Line one\nLine two & "three"',
    contentXhtml: '<p>Total: <strong>€12.50</strong> &amp; <em>free</em> shipping</p><br/>',
    payload: { orderId: `ORD-${position}`, note: '<script>&amp;"\'' }, updated: '2025-01-01T00:00:00.000Z', ...over,
  };
}

function feed(entries: StoredFeedEntry[], archive = false): string {
  return renderFeed({
    feedId: 'urn:uuid:feed', title: 'Orders', author: 'order-service', baseUrl: 'http://x', updated: '2025-01-01T00:00:00.000Z', archive,
    links: [{ rel: 'self', href: 'http://x/feed/archive/2' }, { rel: 'prev-archive', href: 'http://x/feed/archive/1' }], entries,
  });
}

describe('readFeedDocument', () => {
  it('reads what common publishes: ids, positions, types, payload, raw xhtml, oldest first', () => {
    const doc = readFeedDocument(feed([entry(3), entry(2)], true));
    expect(doc.feedId).to.equal('urn:uuid:feed');
    expect(doc.archive).to.equal(true);
    expect(doc.prevArchive).to.equal('http://x/feed/archive/1');
    expect(doc.entries.map((e) => e.position)).to.deep.equal([2, 3]);
    const e = doc.entries[0]!;
    expect(e.atomId).to.equal(`urn:uuid:${entry(2).key}`);
    expect(e.key).to.equal(entry(2).key);
    expect(e).to.include({ type: 'OrderPlaced', orderId: 'ORD-2', title: 'Order <2> & co', summary: 'Line one\nLine two & "three"' });
    expect(e.contentXhtml).to.equal(entry(2).contentXhtml);
    expect(e.payload).to.deep.equal(entry(2).payload);
  });

  it('tells a subscription document from an archive', () => {
    expect(readFeedDocument(feed([entry(1)])).archive).to.equal(false);
  });

  const refusals: [string, string, RegExp][] = [
    ['a DOCTYPE with an entity', '<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY x SYSTEM "file:///etc/passwd">]><feed xmlns="http://www.w3.org/2005/Atom">&x;</feed>', /DOCTYPE/],
    ['a billion-laughs entity', '<!DOCTYPE a [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><a>&lol2;</a>', /DOCTYPE/],
    ['XML that is not well-formed', '<feed xmlns="http://www.w3.org/2005/Atom"><id>x</feed>', /well-formed/],
    ['garbage', 'HTTP/1.1 \u0000\u0001 not xml at all {', /well-formed|not an Atom/],
    ['an HTML page', '<html><body>Hello</body></html>', /not an Atom feed/],
    ['a feed in no namespace', '<feed><id>x</id></feed>', /not an Atom feed/],
  ];
  for (const [what, xml, pattern] of refusals) {
    it(`refuses ${what}`, () => {
      expect(() => readFeedDocument(xml)).to.throw(FeedFormatError, pattern);
    });
  }

  it('refuses an entry missing its id', () => {
    const xml = feed([entry(1)]).replace(/<id>urn:uuid:0000[^<]*<\/id>/, '');
    expect(() => readFeedDocument(xml)).to.throw(FeedFormatError, /no atom:id/);
  });

  it('refuses an entry without a position or with a payload that is not a JSON object', () => {
    expect(() => readFeedDocument(feed([entry(1)]).replace(/<shop:position>1<\/shop:position>/, ''))).to.throw(FeedFormatError, /position/);
    expect(() => readFeedDocument(feed([entry(1, { payload: [1] as unknown as Record<string, unknown> })]))).to.throw(FeedFormatError, /JSON object/);
  });
});

describe('entriesAfter', () => {
  const page = (...ps: number[]) => readFeedDocument(feed(ps.map((p) => entry(p))));
  const id = (p: number) => `urn:uuid:${entry(p).key}`;

  it('returns the entries after the position, oldest first, across pages', () => {
    expect(entriesAfter([page(5, 4), page(3, 2, 1)], 2, id(2)).map((e) => e.position)).to.deep.equal([3, 4, 5]);
  });

  it('fails with "entry id not found" when the position holds another entry', () => {
    expect(() => entriesAfter([page(3, 2, 1)], 2, 'urn:uuid:someone-else')).to.throw(FeedConsistencyError, /entry id not found/);
  });

  it('fails when the entry after the position is gone from the feed', () => {
    expect(() => entriesAfter([page(9, 8)], 2, id(2))).to.throw(FeedConsistencyError, /no longer in the feed/);
  });

  it('fails on a gap and on a feed shorter than the position', () => {
    expect(() => entriesAfter([page(5), page(3, 2)], 2, id(2))).to.throw(FeedConsistencyError, /gap/);
    expect(() => entriesAfter([page(2, 1)], 4, id(4))).to.throw(FeedConsistencyError, /ends at position 2/);
  });
});

describe('readFeedDocument from a position', () => {
  const ns = 'xmlns="http://www.w3.org/2005/Atom" xmlns:shop="urn:example:shop:feed:1"';
  const entry = (p: number, body = '') => `<entry><id>urn:uuid:${p}</id><title>t</title><updated>2026-01-01T00:00:00Z</updated>`
    + `<category scheme="urn:example:shop:event-type" term="T"/><shop:orderId>O-${p}</shop:orderId><shop:position>${p}</shop:position>`
    + `<shop:payload>{}</shop:payload>${body}</entry>`;
  const feed = (...entries: string[]) => `<feed ${ns}><id>urn:uuid:feed</id>${entries.join('')}</feed>`;

  it('reads the entries from that position on, and says how far it skipped', () => {
    const doc = readFeedDocument(feed(entry(5), entry(4), entry(3), entry(2)), { fromPosition: 4 });
    expect(doc.entries.map((e) => e.position)).to.deep.equal([4, 5]);
    expect(doc.skippedThrough).to.equal(3);
  });

  it('never parses what it skips, and still refuses what it keeps when broken', () => {
    const brokenOld = entry(2).replace('<id>urn:uuid:2</id>', '');
    expect(readFeedDocument(feed(entry(4), entry(3), brokenOld), { fromPosition: 3 }).entries).to.have.length(2);
    expect(() => readFeedDocument(feed(entry(4).replace('<id>urn:uuid:4</id>', ''), entry(3)), { fromPosition: 3 })).to.throw(/no atom:id/);
  });

  it('reads in full an entry it cannot plainly place, so a position hidden in CDATA cannot drop it', () => {
    const sneaky = entry(3, '<summary><![CDATA[ <shop:position>1</shop:position> ]]></summary>');
    expect(readFeedDocument(feed(sneaky, entry(2), entry(1)), { fromPosition: 2 }).entries.map((e) => e.position)).to.deep.equal([2, 3]);
    const twice = entry(3, '<shop:note><shop:position>1</shop:position></shop:note>');
    expect(readFeedDocument(feed(twice, entry(2)), { fromPosition: 2 }).entries.map((e) => e.position)).to.deep.equal([2, 3]);
  });

  it('gives the same entries as a full read', () => {
    const xml = feed(entry(6), entry(5), entry(4), entry(3));
    const full = readFeedDocument(xml).entries.filter((e) => e.position >= 5);
    expect(readFeedDocument(xml, { fromPosition: 5 }).entries).to.deep.equal(full);
  });

  it('scans a page for a walk back: its links and the range of positions, entries unparsed', () => {
    const links = '<link rel="prev-archive" href="http://x/feed/archive/1"/><link rel="next-archive" href="http://x/feed/archive/3"/>';
    const xml = feed(entry(6), entry(5).replace('<id>urn:uuid:5</id>', ''), entry(4)).replace('<id>urn:uuid:feed</id>', `<id>urn:uuid:feed</id>${links}`);
    expect(scanFeedPage(xml)).to.deep.equal({ feedId: 'urn:uuid:feed', archive: false, prevArchive: 'http://x/feed/archive/1', firstPosition: 4, lastPosition: 6 });
    expect(readFeedDocument(xml, { fromPosition: 7 }).nextArchive).to.equal('http://x/feed/archive/3');
    expect(scanFeedPage(feed())).to.include({ firstPosition: 0, lastPosition: 0 });
  });
});
