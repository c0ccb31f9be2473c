import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Db, Migration } from '../db/database.ts';
import type { NewFeedEntry, StoredFeedEntry } from './feedEntry.ts';

export const feedMigrations: readonly Migration[] = [
  {
    id: 'feed-001-entries-and-pages',
    sql: `
      CREATE TABLE feed_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE feed_entries (
        position INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        type TEXT NOT NULL,
        order_id TEXT NOT NULL,
        updated TEXT NOT NULL,
        body TEXT NOT NULL
      );
      CREATE INDEX feed_entries_order ON feed_entries (order_id);
      -- One row a page. A page's first position and capacity are fixed when it opens, so a later
      -- FEED_PAGE_SIZE never moves an archive that exists. sealed_at marks it complete.
      CREATE TABLE feed_pages (
        page INTEGER PRIMARY KEY,
        first_position INTEGER NOT NULL UNIQUE,
        capacity INTEGER NOT NULL CHECK (capacity > 0),
        sealed_at TEXT
      );
      -- Complete archives rendered once per public base URL, served from these bytes ever after.
      CREATE TABLE feed_archive_renditions (
        page INTEGER NOT NULL REFERENCES feed_pages (page),
        base_url TEXT NOT NULL,
        identity BLOB NOT NULL,
        gzip BLOB NOT NULL,
        br BLOB NOT NULL,
        etag TEXT NOT NULL,
        last_modified_ms INTEGER NOT NULL,
        PRIMARY KEY (page, base_url)
      );
    `,
  },
];

export interface FeedPage {
  readonly page: number;
  readonly firstPosition: number;
  readonly capacity: number;
  readonly sealed: boolean;
}

/** What decides the subscription document's validators, read without rendering anything. */
export interface FeedHead {
  readonly openPage: FeedPage;
  readonly lastPosition: number;
  /** Commit time of the newest entry in ms, or the feed's creation time when it is empty. */
  readonly lastUpdatedMs: number;
}

export interface StoredRendition {
  readonly identity: Buffer;
  readonly gzip: Buffer;
  readonly br: Buffer;
  readonly etag: string;
  readonly lastModifiedMs: number;
}

interface EntryRow { position: number; key: string; type: string; order_id: string; updated: string; body: string }
interface PageRow { page: number; first_position: number; capacity: number; sealed_at: string | null }

/**
 * The public feed of one service, in that service's own SQLite database: entries in commit
 * order, numbered 1, 2, 3... with no gaps, cut into fixed pages that become archives.
 */
export class FeedStore {
  readonly feedId: string;
  readonly createdMs: number;
  readonly #db: Db;
  readonly #pageSize: number;
  readonly #now: () => Date;
  readonly #events = new EventEmitter();
  readonly #q;
  #head: FeedHead | undefined;
  #headVersion = -1;

  constructor(db: Db, options: { pageSize: number; now?: () => Date }) {
    this.#db = db;
    this.#pageSize = options.pageSize;
    this.#now = options.now ?? (() => new Date());
    this.#events.setMaxListeners(0);
    this.#q = {
      meta: db.prepare<[string], { value: string }>('SELECT value FROM feed_meta WHERE key = ?'),
      setMeta: db.prepare('INSERT OR IGNORE INTO feed_meta (key, value) VALUES (?, ?)'),
      openPage: db.prepare<[], PageRow>('SELECT * FROM feed_pages ORDER BY page DESC LIMIT 1'),
      page: db.prepare<[number], PageRow>('SELECT * FROM feed_pages WHERE page = ?'),
      insertPage: db.prepare('INSERT INTO feed_pages (page, first_position, capacity) VALUES (?, ?, ?)'),
      sealPage: db.prepare('UPDATE feed_pages SET sealed_at = ? WHERE page = ? AND sealed_at IS NULL'),
      last: db.prepare<[], { position: number; updated: string }>('SELECT position, updated FROM feed_entries ORDER BY position DESC LIMIT 1'),
      insert: db.prepare('INSERT INTO feed_entries (position, key, type, order_id, updated, body) VALUES (?, ?, ?, ?, ?, ?)'),
      range: db.prepare<[number, number], EntryRow>('SELECT * FROM feed_entries WHERE position BETWEEN ? AND ? ORDER BY position DESC'),
      byKey: db.prepare<[string], EntryRow>('SELECT * FROM feed_entries WHERE key = ?'),
      dataVersion: db.prepare<[], number>('PRAGMA data_version').pluck(),
      rendition: db.prepare<[number, string], StoredRendition>('SELECT identity, gzip, br, etag, last_modified_ms AS lastModifiedMs FROM feed_archive_renditions WHERE page = ? AND base_url = ?'),
      putRendition: db.prepare('INSERT OR IGNORE INTO feed_archive_renditions (page, base_url, identity, gzip, br, etag, last_modified_ms) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    };
    db.transaction(() => {
      this.#q.setMeta.run('feed_id', `urn:uuid:${randomUUID()}`);
      this.#q.setMeta.run('created_at', this.#now().toISOString());
      if (!this.#q.openPage.get()) this.#q.insertPage.run(1, 1, this.#pageSize);
    }).immediate();
    this.feedId = this.#q.meta.get('feed_id')!.value;
    this.createdMs = Date.parse(this.#q.meta.get('created_at')!.value);
  }

  /**
   * Appends an entry. Must run inside the caller's write transaction, next to the state change
   * it publishes, so that the two commit together or not at all. Positions are taken under
   * SQLite's single write lock, so they follow commit order and a rollback leaves no gap.
   */
  append(entry: NewFeedEntry): StoredFeedEntry {
    if (!this.#db.inTransaction) throw new Error('FeedStore.append must run inside a write transaction');
    const last = this.#q.last.get();
    const position = (last?.position ?? 0) + 1;
    let open = this.#q.openPage.get()!;
    if (position - open.first_position >= open.capacity) {
      this.#q.sealPage.run(this.#now().toISOString(), open.page);
      this.#q.insertPage.run(open.page + 1, position, this.#pageSize);
      open = this.#q.openPage.get()!;
    }
    // Commit times never go backwards in feed order, even if the clock does.
    const nowMs = this.#now().getTime();
    const updated = new Date(Math.max(nowMs, last ? Date.parse(last.updated) : 0)).toISOString();
    const stored: StoredFeedEntry = {
      position,
      key: entry.key,
      type: entry.type,
      typeLabel: entry.typeLabel,
      title: entry.title,
      orderId: entry.orderId,
      summary: entry.summary,
      contentXhtml: entry.content.toString(),
      payload: entry.payload,
      updated,
    };
    const { position: _p, key: _k, type: _t, orderId: _o, updated: _u, ...body } = stored;
    this.#q.insert.run(position, entry.key, entry.type, entry.orderId, updated, JSON.stringify(body));
    this.#headVersion = -1;
    // better-sqlite3 transactions are synchronous: by the time a microtask runs, the caller's
    // transaction has committed (or rolled back, which costs a waiter one needless re-check).
    queueMicrotask(() => this.#events.emit('append', position));
    return stored;
  }

  /**
   * The newest position and the open page. Kept in memory between changes: this connection's
   * appends mark it stale, and SQLite's data_version tells when another connection committed.
   */
  head(): FeedHead {
    const version = this.#q.dataVersion.get()!;
    if (this.#head && version === this.#headVersion) return this.#head;
    // Both reads in one snapshot, so another process rolling the page over cannot split them.
    const [open, last] = this.#db.transaction(() => [toPage(this.#q.openPage.get()!), this.#q.last.get()] as const).deferred();
    this.#head = { openPage: open, lastPosition: last?.position ?? 0, lastUpdatedMs: last ? Date.parse(last.updated) : this.createdMs };
    // Inside a transaction the head may include uncommitted entries: never keep that one.
    this.#headVersion = this.#db.inTransaction ? -1 : version;
    return this.#head;
  }

  page(n: number): FeedPage | undefined {
    const row = this.#q.page.get(n);
    return row ? toPage(row) : undefined;
  }

  /** The entries of a page (up to a position, for a document that must match its head), newest first. */
  entriesOf(page: FeedPage, upTo = Number.MAX_SAFE_INTEGER): StoredFeedEntry[] {
    return this.#q.range.all(page.firstPosition, Math.min(page.firstPosition + page.capacity - 1, upTo)).map(toEntry);
  }

  entry(key: string): StoredFeedEntry | undefined {
    const row = this.#q.byKey.get(key);
    return row ? toEntry(row) : undefined;
  }

  rendition(page: number, baseUrl: string): StoredRendition | undefined {
    return this.#q.rendition.get(page, baseUrl);
  }

  saveRendition(page: number, baseUrl: string, r: StoredRendition): StoredRendition {
    this.#q.putRendition.run(page, baseUrl, r.identity, r.gzip, r.br, r.etag, r.lastModifiedMs);
    return this.rendition(page, baseUrl) ?? r;
  }

  /** Calls `listener` after each append in this process (for long polling). Returns an unsubscribe. */
  onAppend(listener: (position: number) => void): () => void {
    this.#events.on('append', listener);
    return () => this.#events.off('append', listener);
  }
}

function toPage(row: PageRow): FeedPage {
  return { page: row.page, firstPosition: row.first_position, capacity: row.capacity, sealed: row.sealed_at !== null };
}

function toEntry(row: EntryRow): StoredFeedEntry {
  const body = JSON.parse(row.body) as Omit<StoredFeedEntry, 'position' | 'key' | 'type' | 'orderId' | 'updated'>;
  return { ...body, position: row.position, key: row.key, type: row.type, orderId: row.order_id, updated: row.updated };
}
