import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Pool } from 'pg';
import type { NewFeedEntry, StoredFeedEntry } from '../feed/feedEntry.ts';
import type { FeedHead, FeedPage, StoredRendition } from '../feed/feedStore.ts';
import { type PgQueryable, type PgTx, inPgTransaction, toNumber } from './pgDatabase.ts';
import { feedChannel } from './pgFeedMigrations.ts';
import type { PgListener } from './pgListener.ts';

export interface PgFeedStoreOptions {
  readonly pageSize: number;
  readonly now?: () => Date;
  /**
   * The process's LISTEN connection. With it, other instances' commits wake `onAppend`
   * listeners and the head is kept in memory between commits; without it every `head()` reads.
   */
  readonly listener?: PgListener;
}

interface EntryRow { position: string; key: string; type: string; order_id: string; updated: string; body: string }
interface PageRow { page: number; first_position: string; capacity: number; sealed_at: string | null }
interface HeadRow { last_position: string; last_updated: string; open_page: number; open_first: string; open_capacity: number }

const PAGE_COLUMNS = 'page, first_position, capacity, sealed_at';
const ENTRY_COLUMNS = 'position, key, type, order_id, updated, body';

/**
 * The public feed of one service in PostgreSQL, shared by all its instances: FeedStore's
 * behaviour (positions 1, 2, 3... with no gaps, fixed pages sealed into archives, renditions
 * stored per base URL), with positions visible to readers only in commit order.
 */
export class PgFeedStore {
  readonly #events = new EventEmitter();
  readonly #sealed = new Map<number, FeedPage>();
  #head: FeedHead | undefined;
  #generation = 0;
  #announced = 0;
  #unlisten: (() => Promise<void>) | undefined;
  #unresync: (() => void) | undefined;

  private constructor(
    readonly feedId: string,
    readonly createdMs: number,
    readonly channel: string,
    readonly pool: Pool,
    readonly pageSize: number,
    readonly now: () => Date,
    readonly listener: PgListener | undefined,
  ) {
    this.#events.setMaxListeners(0);
  }

  /** Opens the feed (migrated with pgFeedMigrations), creating its id and first page on first use. */
  static async open(pool: Pool, options: PgFeedStoreOptions): Promise<PgFeedStore> {
    const now = options.now ?? (() => new Date());
    // Instances opening together: the first insert wins, the others' do nothing.
    await inPgTransaction(pool, async (tx) => {
      await tx.query("INSERT INTO feed_meta (key, value) VALUES ('feed_id', $1), ('created_at', $2) ON CONFLICT (key) DO NOTHING", [`urn:uuid:${randomUUID()}`, now().toISOString()]);
      await tx.query('INSERT INTO feed_pages (page, first_position, capacity) VALUES (1, 1, $1) ON CONFLICT DO NOTHING', [options.pageSize]);
      await tx.query('UPDATE feed_head SET open_page = 1, open_first = 1, open_capacity = (SELECT capacity FROM feed_pages WHERE page = 1) WHERE open_page = 0');
    });
    const meta = new Map((await pool.query<{ key: string; value: string }>('SELECT key, value FROM feed_meta')).rows.map((r) => [r.key, r.value]));
    const feedId = meta.get('feed_id')!;
    const store = new PgFeedStore(feedId, Date.parse(meta.get('created_at')!), feedChannel(feedId), pool, options.pageSize, now, options.listener);
    if (options.listener) {
      store.#unresync = options.listener.onResync(() => store.#invalidate());
      store.#unlisten = await options.listener.listen(store.channel, (payload) => {
        const position = Number(payload);
        // A head read after that commit (this process's own, echoed back) is still current: keep it.
        if (!(store.#head && store.#head.lastPosition >= position)) store.#invalidate();
        store.#announce(position);
      });
    }
    return store;
  }

  /** Appends one entry inside the caller's transaction; see `appendAll`. */
  async append(tx: PgTx, entry: NewFeedEntry): Promise<StoredFeedEntry> {
    return (await this.appendAll(tx, [entry]))[0]!;
  }

  /**
   * Appends entries inside the caller's transaction, next to the state change they publish.
   * The first statement locks the feed's head row until the transaction ends, so call this
   * last, just before commit: appends to one feed wait for each other's commits. A NOTIFY on
   * the feed's channel goes out when (and only if) the transaction commits.
   */
  async appendAll(tx: PgTx, entries: readonly NewFeedEntry[]): Promise<StoredFeedEntry[]> {
    if (entries.length === 0) return [];
    const contents = entries.map((e) => e.content.toString());
    // The same body as FeedStore's, key for key, so documents render the same on both engines.
    const bodies = entries.map((e, i) => JSON.stringify({ typeLabel: e.typeLabel, title: e.title, summary: e.summary, contentXhtml: contents[i], payload: e.payload }));
    // One statement takes the positions (and the head row's lock), inserts the entries and
    // queues the NOTIFY, so the lock is held for this statement and the commit only. Commit
    // times never go backwards in feed order, even if the clock does.
    const head = (await tx.query<HeadRow>(
      `WITH h AS (
         UPDATE feed_head SET last_position = last_position + $1, last_updated = GREATEST(last_updated, $2)
         RETURNING last_position, last_updated, open_page, open_first, open_capacity),
       inserted AS (
         INSERT INTO feed_entries (${ENTRY_COLUMNS})
         SELECT h.last_position - $1 + u.n, u.k, u.t, u.o, h.last_updated, u.b
         FROM h, unnest($3::text[], $4::text[], $5::text[], $6::text[]) WITH ORDINALITY AS u(k, t, o, b, n))
       SELECT h.*, pg_notify($7, h.last_position::text) FROM h`,
      [entries.length, this.now().toISOString(), entries.map((e) => e.key), entries.map((e) => e.type), entries.map((e) => e.orderId), bodies, this.channel],
    )).rows[0]!;
    const last = toNumber(head.last_position);
    const first = last - entries.length + 1;
    const updated = head.last_updated;
    // The same page math as FeedStore, on the open page the head row gave, still under its lock.
    let open: FeedPage = { page: head.open_page, firstPosition: toNumber(head.open_first), capacity: head.open_capacity, sealed: false };
    const opened = open.page;
    for (let position = first; position <= last; position += 1) {
      if (position - open.firstPosition < open.capacity) continue;
      await tx.query('UPDATE feed_pages SET sealed_at = $1 WHERE page = $2 AND sealed_at IS NULL', [this.now().toISOString(), open.page]);
      await tx.query('INSERT INTO feed_pages (page, first_position, capacity) VALUES ($1, $2, $3)', [open.page + 1, position, this.pageSize]);
      open = { page: open.page + 1, firstPosition: position, capacity: this.pageSize, sealed: false };
    }
    if (open.page !== opened) {
      await tx.query('UPDATE feed_head SET open_page = $1, open_first = $2, open_capacity = $3', [open.page, open.firstPosition, open.capacity]);
    }
    const stored = entries.map((entry, i): StoredFeedEntry => ({
      position: first + i,
      key: entry.key,
      type: entry.type,
      typeLabel: entry.typeLabel,
      title: entry.title,
      orderId: entry.orderId,
      summary: entry.summary,
      contentXhtml: contents[i]!,
      payload: entry.payload,
      updated,
    }));
    tx.afterCommit(() => {
      this.#invalidate();
      this.#announce(last);
    });
    return stored;
  }

  /**
   * The newest position and the open page, read from the head row alone (one row, one
   * snapshot), so another instance rolling the page over cannot split them. Kept in memory while the listener is
   * connected, until this process commits an append or another instance's NOTIFY arrives.
   * Given a transaction, reads inside it (its own uncommitted entries included), never cached.
   */
  async head(q?: PgQueryable): Promise<FeedHead> {
    if (q) return this.#readHead(q);
    return this.cachedHead() ?? this.freshHead();
  }

  /**
   * The head as committed now, read from the database (and kept in memory, as `head()` does): what
   * a full answer is built from, so no reader alternating between instances sees the head go back.
   */
  async freshHead(): Promise<FeedHead> {
    const generation = this.#generation;
    const trusted = this.listener?.listening === true;
    const head = await this.#readHead(this.pool);
    // Nothing invalidated it while the read was in flight: it may be kept.
    if (trusted && generation === this.#generation && this.listener?.listening) this.#head = head;
    return head;
  }

  /** The head held in memory, if it is known to be current (for answering revalidations without a query). */
  cachedHead(): FeedHead | undefined {
    return this.listener?.listening ? this.#head : undefined;
  }

  async page(n: number, q: PgQueryable = this.pool): Promise<FeedPage | undefined> {
    const known = this.#sealed.get(n);
    if (known) return known;
    const row = (await q.query<PageRow>(`SELECT ${PAGE_COLUMNS} FROM feed_pages WHERE page = $1`, [n])).rows[0];
    if (!row) return undefined;
    const page = toPage(row);
    if (page.sealed && q === this.pool) this.#sealed.set(n, page);
    return page;
  }

  /** The entries of a page (up to a position, for a document that must match its head), newest first. */
  async entriesOf(page: FeedPage, upTo = Number.MAX_SAFE_INTEGER, q: PgQueryable = this.pool): Promise<StoredFeedEntry[]> {
    const rows = await q.query<EntryRow>(`SELECT ${ENTRY_COLUMNS} FROM feed_entries WHERE position BETWEEN $1 AND $2 ORDER BY position DESC`,
      [page.firstPosition, Math.min(page.firstPosition + page.capacity - 1, upTo)]);
    return rows.rows.map(toEntry);
  }

  async entry(key: string, q: PgQueryable = this.pool): Promise<StoredFeedEntry | undefined> {
    const row = (await q.query<EntryRow>(`SELECT ${ENTRY_COLUMNS} FROM feed_entries WHERE key = $1`, [key])).rows[0];
    return row ? toEntry(row) : undefined;
  }

  async rendition(page: number, baseUrl: string, q: PgQueryable = this.pool): Promise<StoredRendition | undefined> {
    const row = (await q.query<{ identity: Buffer; gzip: Buffer; br: Buffer; etag: string; last_modified_ms: string }>(
      'SELECT identity, gzip, br, etag, last_modified_ms FROM feed_archive_renditions WHERE page = $1 AND base_url = $2', [page, baseUrl])).rows[0];
    return row ? { identity: row.identity, gzip: row.gzip, br: row.br, etag: row.etag, lastModifiedMs: toNumber(row.last_modified_ms) } : undefined;
  }

  /** Stores a rendition unless one is stored already, and returns the stored one: every instance serves the same bytes. */
  async saveRendition(page: number, baseUrl: string, r: StoredRendition, q: PgQueryable = this.pool): Promise<StoredRendition> {
    await q.query(
      'INSERT INTO feed_archive_renditions (page, base_url, identity, gzip, br, etag, last_modified_ms) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (page, base_url) DO NOTHING',
      [page, baseUrl, r.identity, r.gzip, r.br, r.etag, r.lastModifiedMs],
    );
    return (await this.rendition(page, baseUrl, q)) ?? r;
  }

  /**
   * The stored rendition of an archive, rendering it first if there is none: under an advisory
   * lock per page and base URL, so of instances asking together exactly one renders.
   */
  async renditionOnce(page: number, baseUrl: string, render: () => StoredRendition | Promise<StoredRendition>): Promise<{ readonly rendition: StoredRendition; readonly rendered: boolean }> {
    const stored = await this.rendition(page, baseUrl);
    if (stored) return { rendition: stored, rendered: false };
    return inPgTransaction(this.pool, async (tx) => {
      await tx.query("SELECT pg_advisory_xact_lock(hashtext('feed-rendition ' || $1), $2)", [baseUrl, page]);
      const now = await this.rendition(page, baseUrl, tx);
      if (now) return { rendition: now, rendered: false };
      return { rendition: await this.saveRendition(page, baseUrl, await render(), tx), rendered: true };
    });
  }

  /**
   * Calls `listener` with the newest position after each append this process committed or
   * another instance's NOTIFY announced (once per position, whichever comes first).
   */
  onAppend(listener: (position: number) => void): () => void {
    this.#events.on('append', listener);
    return () => { this.#events.off('append', listener); };
  }

  /** Stops following the feed's channel (the listener itself belongs to the caller). */
  async close(): Promise<void> {
    this.#unresync?.();
    await this.#unlisten?.();
    this.#invalidate();
  }

  /** Each new newest position once, whether this process's commit or a NOTIFY told of it first. */
  #announce(position: number): void {
    if (position <= this.#announced) return;
    this.#announced = position;
    this.#events.emit('append', position);
  }

  #invalidate(): void {
    this.#generation += 1;
    this.#head = undefined;
  }

  async #readHead(q: PgQueryable): Promise<FeedHead> {
    const row = (await q.query<HeadRow>('SELECT last_position, last_updated, open_page, open_first, open_capacity FROM feed_head')).rows[0]!;
    const lastPosition = toNumber(row.last_position);
    return {
      openPage: { page: row.open_page, firstPosition: toNumber(row.open_first), capacity: row.open_capacity, sealed: false },
      lastPosition,
      lastUpdatedMs: lastPosition === 0 ? this.createdMs : Date.parse(row.last_updated),
    };
  }
}

function toPage(row: PageRow): FeedPage {
  return { page: row.page, firstPosition: toNumber(row.first_position), capacity: row.capacity, sealed: row.sealed_at !== null };
}

function toEntry(row: EntryRow): StoredFeedEntry {
  const body = JSON.parse(row.body) as Omit<StoredFeedEntry, 'position' | 'key' | 'type' | 'orderId' | 'updated'>;
  return { ...body, position: toNumber(row.position), key: row.key, type: row.type, orderId: row.order_id, updated: row.updated };
}
