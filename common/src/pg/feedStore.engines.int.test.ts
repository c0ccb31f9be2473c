// The feed store's behaviour, once, on both engines: SQLite's FeedStore and PostgreSQL's PgFeedStore.
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { type EngineDatabase, RolledBack, rejection, storeEngines } from '../testing/storeEngines.ts';
import { el } from '../xml/xhtml.ts';

function entry(n: number) {
  return { key: randomUUID(), type: 'T', typeLabel: 'T', title: `entry ${n}`, orderId: `O-${n}`, summary: 's', content: el('p', null, `s${n}`), payload: { n, z: 'last', a: 'first' } };
}

const rendition = (text: string) => ({ identity: Buffer.from(text), gzip: Buffer.from(`gz ${text}`), br: Buffer.from(`br ${text}`), etag: `a1.${text}`, lastModifiedMs: 1_700_000_000_123 });

for (const engine of storeEngines()) {
  describe(`The feed store on ${engine.name}`, () => {
    let db: EngineDatabase;
    before(async function () { await engine.setup(this); });
    beforeEach(async () => { db = await engine.database(); });
    afterEach(async () => { await db?.close(); });
    after(() => engine.teardown());

    it('numbers entries 1, 2, 3... and keeps the working page open until an entry does not fit', async () => {
      const feed = await db.openFeed({ pageSize: 3 });
      for (let i = 1; i <= 3; i += 1) await feed.append([entry(i)]);
      expect((await feed.head()).openPage).to.include({ page: 1, sealed: false });
      await feed.append([entry(4)]);
      const head = await feed.head();
      expect(head.lastPosition).to.equal(4);
      expect(head.openPage).to.include({ page: 2, firstPosition: 4, capacity: 3 });
      expect(await feed.page(1)).to.include({ sealed: true });
      expect((await feed.entriesOf((await feed.page(1))!)).map((e) => e.position)).to.deep.equal([3, 2, 1]);
    });

    it('cuts pages the same way when one transaction appends across several of them', async () => {
      const feed = await db.openFeed({ pageSize: 3 });
      await feed.append([1, 2].map(entry));
      await feed.append([3, 4, 5, 6, 7, 8].map(entry));
      const pages = await Promise.all([1, 2, 3].map((n) => feed.page(n)));
      expect(pages.map((p) => p && [p.firstPosition, p.capacity, p.sealed])).to.deep.equal([[1, 3, true], [4, 3, true], [7, 3, false]]);
      expect(await feed.page(4)).to.equal(undefined);
      expect((await feed.entriesOf(pages[1]!)).map((e) => e.title)).to.deep.equal(['entry 6', 'entry 5', 'entry 4']);
    });

    it('leaves no gap when the transaction around an append rolls back', async () => {
      const feed = await db.openFeed({ pageSize: 3 });
      await feed.append([entry(1)]);
      expect(await rejection(feed.append([entry(2)], { rollback: true }))).to.be.instanceOf(RolledBack);
      await feed.append([entry(3)]);
      const head = await feed.head();
      expect(head.lastPosition).to.equal(2);
      expect((await feed.entriesOf(head.openPage)).map((e) => [e.position, e.title])).to.deep.equal([[2, 'entry 3'], [1, 'entry 1']]);
    });

    it('never moves a page that exists when FEED_PAGE_SIZE changes', async () => {
      const first = await db.openFeed({ pageSize: 3 });
      for (let i = 1; i <= 8; i += 1) await first.append([entry(i)]);
      const keysOf = async (feed: typeof first, n: number) => (await feed.entriesOf((await feed.page(n))!)).map((e) => e.key);
      const before = [await keysOf(first, 1), await keysOf(first, 2)];
      const second = await db.openFeed({ pageSize: 5 });
      for (let i = 9; i <= 15; i += 1) await second.append([entry(i)]);
      expect([await keysOf(second, 1), await keysOf(second, 2)]).to.deep.equal(before);
      expect(await second.page(3)).to.include({ firstPosition: 7, capacity: 3, sealed: true });
      expect(await second.page(4)).to.include({ firstPosition: 10, capacity: 5, sealed: true });
      expect((await second.head()).openPage).to.include({ page: 5, firstPosition: 15, capacity: 5 });
    });

    it('keeps commit times in feed order even when the clock goes back', async () => {
      let t = Date.parse('2026-01-01T12:00:00Z');
      const feed = await db.openFeed({ pageSize: 10, now: () => new Date(t) });
      const [first] = await feed.append([entry(1)]);
      t -= 60_000;
      const [second] = await feed.append([entry(2)]);
      expect(first!.updated).to.equal('2026-01-01T12:00:00.000Z');
      expect(second!.updated).to.equal('2026-01-01T12:00:00.000Z');
      expect((await feed.head()).lastUpdatedMs).to.equal(Date.parse('2026-01-01T12:00:00Z'));
    });

    it('dates an empty feed by its creation and keeps its feed id across restarts', async () => {
      const created = Date.parse('2026-02-03T04:05:06.789Z');
      const a = await db.openFeed({ pageSize: 3, now: () => new Date(created) });
      expect(await a.head()).to.deep.equal({ openPage: { page: 1, firstPosition: 1, capacity: 3, sealed: false }, lastPosition: 0, lastUpdatedMs: created });
      const b = await db.openFeed({ pageSize: 3 });
      expect(b.feedId).to.equal(a.feedId).and.match(/^urn:uuid:/);
      expect((await b.head()).lastUpdatedMs).to.equal(created);
    });

    it('gives back an entry exactly as appended, by key and by page, up to a position', async () => {
      const feed = await db.openFeed({ pageSize: 10 });
      const written = await feed.append([1, 2, 3].map(entry));
      const read = await feed.entry(written[1]!.key);
      expect(read).to.deep.equal(written[1]);
      expect(JSON.stringify(read!.payload)).to.equal('{"n":2,"z":"last","a":"first"}');
      expect(read!.contentXhtml).to.equal('<p>s2</p>');
      expect(await feed.entry(randomUUID())).to.equal(undefined);
      const head = await feed.head();
      expect((await feed.entriesOf(head.openPage, 2)).map((e) => e.position)).to.deep.equal([2, 1]);
    });

    it('refuses a second entry with the same key, and commits none of its transaction', async () => {
      const feed = await db.openFeed({ pageSize: 10 });
      const [one] = await feed.append([entry(1)]);
      expect(await rejection(feed.append([entry(2), { ...entry(3), key: one!.key }]))).to.be.instanceOf(Error);
      expect((await feed.head()).lastPosition).to.equal(1);
    });

    it('shows another instance\'s commits to the head, entries and pages of this one', async () => {
      const a = await db.openFeed({ pageSize: 2 });
      const b = await db.openFeed({ pageSize: 2 });
      expect((await b.head()).lastPosition).to.equal(0);
      await a.append([1, 2, 3].map(entry));
      const head = await b.head();
      expect(head).to.include({ lastPosition: 3 });
      expect(head.openPage).to.include({ page: 2, firstPosition: 3 });
      expect((await b.entriesOf((await b.page(1))!)).map((e) => e.title)).to.deep.equal(['entry 2', 'entry 1']);
    });

    it('stores an archive rendition once per page and base URL: every instance serves the first one stored', async () => {
      const a = await db.openFeed({ pageSize: 1 });
      const b = await db.openFeed({ pageSize: 1 });
      await a.append([1, 2].map(entry));
      expect(await a.rendition(1, 'http://a')).to.equal(undefined);
      const first = await a.saveRendition(1, 'http://a', rendition('first'));
      const second = await b.saveRendition(1, 'http://a', rendition('second'));
      for (const r of [first, second, await b.rendition(1, 'http://a')]) {
        expect(r!.identity.toString()).to.equal('first');
        expect(r).to.deep.include({ etag: 'a1.first', lastModifiedMs: 1_700_000_000_123 });
        expect(r!.gzip.toString()).to.equal('gz first');
        expect(r!.br.toString()).to.equal('br first');
      }
      expect((await b.saveRendition(1, 'http://b', rendition('other'))).identity.toString()).to.equal('other');
    });
  });
}
