import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { type Db, inWriteTransaction, migrate, openDatabase } from '../db/database.ts';
import { tempDir } from '../testing/tempDir.ts';
import { el } from '../xml/xhtml.ts';
import { FeedStore, feedMigrations } from './feedStore.ts';

function entry(n: number) {
  return { key: randomUUID(), type: 'T', typeLabel: 'T', title: `entry ${n}`, orderId: `O-${n}`, summary: 's', content: el('p', null, 's'), payload: { n } };
}

function open(file: string, pageSize: number, now?: () => Date): { db: Db; store: FeedStore } {
  const db = openDatabase(file);
  migrate(db, feedMigrations);
  return { db, store: new FeedStore(db, { pageSize, now }) };
}

describe('FeedStore', () => {
  const dir = tempDir();
  after(() => dir.remove());

  it('numbers entries 1, 2, 3... and keeps the working page open until an entry does not fit', () => {
    const { db, store } = open(':memory:', 3);
    for (let i = 1; i <= 3; i += 1) inWriteTransaction(db, () => store.append(entry(i)));
    expect(store.head().openPage).to.include({ page: 1, sealed: false });
    inWriteTransaction(db, () => store.append(entry(4)));
    const head = store.head();
    expect(head.lastPosition).to.equal(4);
    expect(head.openPage).to.include({ page: 2, firstPosition: 4, capacity: 3 });
    expect(store.page(1)).to.include({ sealed: true });
    expect(store.entriesOf(store.page(1)!).map((e) => e.position)).to.deep.equal([3, 2, 1]);
  });

  it('refuses to append outside a transaction (no entry without its event)', () => {
    const { store } = open(':memory:', 3);
    expect(() => store.append(entry(1))).to.throw(/inside a write transaction/);
  });

  it('leaves no gap when the transaction around an append rolls back', () => {
    const { db, store } = open(':memory:', 3);
    inWriteTransaction(db, () => store.append(entry(1)));
    expect(() => inWriteTransaction(db, () => { store.append(entry(2)); throw new Error('handler failed'); })).to.throw('handler failed');
    inWriteTransaction(db, () => store.append(entry(3)));
    expect(store.entriesOf(store.head().openPage).map((e) => [e.position, e.title])).to.deep.equal([[2, 'entry 3'], [1, 'entry 1']]);
  });

  it('never moves a page that exists when FEED_PAGE_SIZE changes', () => {
    const file = join(dir.path, 'resize.db');
    const first = open(file, 3);
    for (let i = 1; i <= 8; i += 1) inWriteTransaction(first.db, () => first.store.append(entry(i)));
    const before = [1, 2].map((n) => first.store.entriesOf(first.store.page(n)!).map((e) => e.key));
    first.db.close();

    const second = open(file, 5);
    for (let i = 9; i <= 15; i += 1) inWriteTransaction(second.db, () => second.store.append(entry(i)));
    expect([1, 2].map((n) => second.store.entriesOf(second.store.page(n)!).map((e) => e.key))).to.deep.equal(before);
    expect(second.store.page(3)).to.include({ firstPosition: 7, capacity: 3, sealed: true });
    expect(second.store.page(4)).to.include({ firstPosition: 10, capacity: 5, sealed: true });
    expect(second.store.head().openPage).to.include({ page: 5, firstPosition: 15, capacity: 5 });
    second.db.close();
  });

  it('keeps commit times in feed order even when the clock goes back', () => {
    let t = Date.parse('2026-01-01T12:00:00Z');
    const { db, store } = open(':memory:', 10, () => new Date(t));
    inWriteTransaction(db, () => store.append(entry(1)));
    t -= 60_000;
    const second = inWriteTransaction(db, () => store.append(entry(2)));
    expect(second.updated).to.equal('2026-01-01T12:00:00.000Z');
  });

  it('keeps its feed id across restarts', () => {
    const file = join(dir.path, 'id.db');
    const a = open(file, 3);
    const id = a.store.feedId;
    a.db.close();
    const b = open(file, 3);
    expect(b.store.feedId).to.equal(id).and.match(/^urn:uuid:/);
    b.db.close();
  });
});
