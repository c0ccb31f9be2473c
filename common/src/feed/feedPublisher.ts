import { ATOM_CONTRACT_VERSION } from './atomNamespaces.ts';
import { type AtomLink, entryPath, renderEntryDocument, renderFeed, renderServiceDocument } from './atomWriter.ts';
import type { EngineMode, Returns } from '../command/commandEngine.ts';
import type { PgFeedStore } from '../pg/pgFeedStore.ts';
import type { StoredFeedEntry } from './feedEntry.ts';
import { type FeedHead, type FeedPage, FeedStore, type StoredRendition } from './feedStore.ts';
import { HtmlViews } from './htmlViews.ts';
import { type AsyncRepresentation, type EncodedBody, type Representation, encodeAll, shortHash } from '../http/representation.ts';

export const ATOM_TYPE = 'application/atom+xml; charset=utf-8';
export const ATOM_ENTRY_TYPE = 'application/atom+xml; type=entry; charset=utf-8';
export const ATOMSVC_TYPE = 'application/atomsvc+xml; charset=utf-8';
const HTML_TYPE = 'text/html; charset=utf-8';
const ONE_YEAR = 31_536_000;

/** The store a publisher serves: SQLite's (answers at once) or PostgreSQL's (answers with promises). */
export type PublishedStore<M extends EngineMode> = M extends 'sync' ? FeedStore : PgFeedStore;

/** A representation from a publisher: with SQLite its body is made at once, with PostgreSQL maybe after a query. */
export type FeedRepresentation<M extends EngineMode> = M extends 'sync' ? Representation : AsyncRepresentation;

export interface FeedPublisherOptions<M extends EngineMode = 'sync'> {
  readonly store: PublishedStore<M>;
  /** Names the feed's author and the AtomPub workspace, e.g. `order-service`. */
  readonly serviceName: string;
  readonly title: string;
  readonly description: string;
  /** Every event type (category term) the feed can carry, for the service document. */
  readonly categories: readonly string[];
  /** max-age of the subscription document, in seconds. */
  readonly maxAgeSeconds: number;
  /** True when reading the feed needs a token: then nothing may be stored by a shared cache. */
  readonly privateFeed: boolean;
}

/** The outcome of asking for an archive page. */
export type ArchiveLookup<R = Representation> =
  | { readonly kind: 'archive'; readonly rep: R }
  | { readonly kind: 'working' }
  | { readonly kind: 'missing' };

type Maybe<T> = T | Promise<T>;

/** Runs `f` on a value at once, or once its promise settles: SQLite's path never waits a tick. */
function then<T, U>(v: Maybe<T>, f: (t: T) => Maybe<U>): Maybe<U> {
  return v instanceof Promise ? v.then(f) : f(v);
}

/**
 * Turns a feed store into HTTP representations: Atom and HTML, each with validators that are
 * computed from the store's head alone, so a conditional GET is answered without rendering.
 * Over SQLite's FeedStore (`M = 'sync'`) everything answers at once; over PgFeedStore
 * (`M = 'async'`) with promises, except `subscriptionNow`, which answers from the head kept in
 * memory (fresh through NOTIFY) for the 304 fast path. Archives are rendered once for every
 * instance (`renditionOnce`), so all serve the same bytes and ETag.
 */
export class FeedPublisher<M extends EngineMode = 'sync'> {
  readonly #o: FeedPublisherOptions<M>;
  readonly #store: FeedStore | PgFeedStore;
  readonly #sqlite: FeedStore | undefined;
  readonly #views = new HtmlViews();
  readonly #rendered = new Map<string, Maybe<EncodedBody>>();
  readonly #archives = new Map<string, StoredRendition>();
  readonly #baseTags = new Map<string, string>();
  readonly #lastSubscription = new Map<string, AsyncRepresentation>();
  /** How many documents were rendered: lets tests prove a 304 or a stored archive renders nothing. */
  readonly stats = { renders: 0 };
  /** Aborted on shutdown: every long poll is answered now, and new ones at once. */
  readonly #closing = new AbortController();
  #waiting = 0;

  constructor(options: FeedPublisherOptions<M>) {
    this.#o = options;
    this.#store = options.store;
    this.#sqlite = options.store instanceof FeedStore ? options.store : undefined;
  }

  get store(): PublishedStore<M> { return this.#o.store; }

  /** The feed's head: the newest position and the open page. */
  head(): Returns<M, FeedHead> {
    return this.#store.head() as Returns<M, FeedHead>;
  }

  /** The head if known without a query (SQLite always; PostgreSQL while its listener keeps it fresh). */
  headNow(): FeedHead | undefined {
    return this.#sqlite ? this.#sqlite.head() : (this.#store as PgFeedStore).cachedHead();
  }

  /**
   * The subscription document at the head. On PostgreSQL the head is read from the database, not
   * the one held in memory: that one learns of another instance's commit only when its NOTIFY
   * arrives, and a reader that has just seen the newer head through that instance must never be
   * shown an older one here (a revalidation that finds nothing new is answered from memory).
   */
  subscription(baseUrl: string, html: boolean): Returns<M, FeedRepresentation<M>> {
    const head = this.#sqlite ? this.#sqlite.head() : (this.#store as PgFeedStore).freshHead();
    return then(head, (h) => this.#subscriptionAt(h, baseUrl, html)) as Returns<M, FeedRepresentation<M>>;
  }

  /** The subscription document at the head known without a query, for the 304 fast path; undefined when none is. */
  subscriptionNow(baseUrl: string, html: boolean): FeedRepresentation<M> | undefined {
    const head = this.headNow();
    return head ? this.#subscriptionAt(head, baseUrl, html) : undefined;
  }

  #subscriptionAt(head: FeedHead, baseUrl: string, html: boolean): FeedRepresentation<M> {
    const page = head.openPage;
    const tag = `${html ? 'h' : 's'}${page.page}.${head.lastPosition}.${this.#baseTag(baseUrl)}`;
    // Revalidations ask for the same head again and again: reuse its representation.
    const last = this.#lastSubscription.get(tag);
    if (last) return last as FeedRepresentation<M>;
    const rep: AsyncRepresentation = {
      contentType: html ? HTML_TYPE : ATOM_TYPE,
      etag: tag,
      lastModifiedMs: head.lastUpdatedMs,
      cacheControl: this.#subscriptionCacheControl(),
      links: this.#pageLinks(baseUrl, page, false),
      body: () => this.#memo(tag, () => then(this.#store.entriesOf(page, head.lastPosition), (entries) => {
        // Exactly the entries the validator names, even if more were committed since.
        const updated = new Date(head.lastUpdatedMs).toISOString();
        return html
          ? this.#htmlPage(baseUrl, page, entries, false)
          : encodeAll(renderFeed(this.#feedDocument(baseUrl, page, entries, updated, false)));
      })),
    };
    if (this.#lastSubscription.size >= 8) this.#lastSubscription.clear();
    this.#lastSubscription.set(tag, rep);
    return rep as FeedRepresentation<M>;
  }

  archive(n: number, baseUrl: string, html: boolean): Returns<M, ArchiveLookup<FeedRepresentation<M>>> {
    return then(this.#store.page(n), (page): Maybe<ArchiveLookup<AsyncRepresentation>> => {
      if (!page) return { kind: 'missing' };
      if (!page.sealed) return { kind: 'working' };
      return then(this.#archiveRendition(page, baseUrl), (stored) => {
        const links = this.#pageLinks(baseUrl, page, true);
        if (!html) {
          return { kind: 'archive', rep: { contentType: ATOM_TYPE, etag: stored.etag, lastModifiedMs: stored.lastModifiedMs, cacheControl: this.#immutable(), links, body: () => stored } } as const;
        }
        const tag = `h${stored.etag}.${this.#views.version}`;
        return {
          kind: 'archive',
          rep: {
            contentType: HTML_TYPE, etag: tag, lastModifiedMs: stored.lastModifiedMs, links,
            cacheControl: `${this.#visibility()}, max-age=3600`,
            body: () => this.#memo(tag, () => then(this.#store.entriesOf(page), (entries) => this.#htmlPage(baseUrl, page, entries, true))),
          },
        } as const;
      });
    }) as Returns<M, ArchiveLookup<FeedRepresentation<M>>>;
  }

  entry(key: string, baseUrl: string, html: boolean): Returns<M, Representation | undefined> {
    return then(this.#store.entry(key), (entry) => (entry ? this.#entryRep(entry, key, baseUrl, html) : undefined)) as Returns<M, Representation | undefined>;
  }

  #entryRep(entry: StoredFeedEntry, key: string, baseUrl: string, html: boolean): Representation {
    // An entry never changes, so its validator needs only its position and the base URL.
    return {
      contentType: html ? HTML_TYPE : ATOM_ENTRY_TYPE,
      etag: `${html ? 'h' : 'e'}${entry.position}.${this.#baseTag(baseUrl)}`,
      lastModifiedMs: Date.parse(entry.updated),
      cacheControl: html ? `${this.#visibility()}, max-age=3600` : this.#immutable(),
      body: () => encodeAll(html
        ? this.#views.page(entry.title, 'entry', { entry, selfUrl: `${baseUrl}${entryPath(key)}`, feedHtmlUrl: `${baseUrl}/feed` }, this.#feedLink(baseUrl))
        : renderEntryDocument(entry, baseUrl, this.#o.serviceName, this.#store.feedId)),
    };
  }

  serviceDocument(baseUrl: string): Representation {
    const text = renderServiceDocument({ baseUrl, workspace: this.#o.serviceName, title: this.#o.title, categories: this.#o.categories });
    return { contentType: ATOMSVC_TYPE, etag: `a${shortHash(text)}`, cacheControl: `${this.#visibility()}, max-age=3600`, body: () => encodeAll(text) };
  }

  home(baseUrl: string, links: readonly { href: string; title: string }[]): Representation {
    const text = this.#views.page(this.#o.title, 'home', { title: this.#o.title, description: this.#o.description, baseUrl, links }, this.#feedLink(baseUrl));
    return { contentType: HTML_TYPE, etag: `p${shortHash(text)}`, cacheControl: 'no-cache', body: () => encodeAll(text) };
  }

  /**
   * Resolves when an entry after `afterPosition` is committed, `ms` pass, `signal` aborts or the
   * publisher stops waiting (shutdown). Appends in this process wake it at once; a slow check
   * also sees other processes' commits.
   */
  waitForEntryAfter(afterPosition: number, ms: number, signal: AbortSignal): Promise<void> {
    const closing = this.#closing.signal;
    if (closing.aborted) return Promise.resolve();
    this.#waiting++;
    return new Promise((resolve) => {
      let done = false;
      const finish = (): void => {
        if (done) return;
        done = true;
        this.#waiting--;
        clearTimeout(timer); clearInterval(check); off();
        signal.removeEventListener('abort', finish); closing.removeEventListener('abort', finish);
        resolve();
      };
      const off = this.#store.onAppend((p) => { if (p > afterPosition) finish(); });
      const timer = setTimeout(finish, ms);
      // A safety net under onAppend (another process's commit on SQLite; a lost NOTIFY on PostgreSQL).
      const check = setInterval(() => {
        const known = this.headNow();
        if (known) { if (known.lastPosition > afterPosition) finish(); return; }
        void Promise.resolve(this.#store.head()).then((h) => { if (h.lastPosition > afterPosition) finish(); }, () => {});
      }, 250);
      signal.addEventListener('abort', finish, { once: true });
      closing.addEventListener('abort', finish, { once: true });
    });
  }

  /** How many long polls are waiting now. */
  get waiting(): number { return this.#waiting; }

  /** For shutdown: answers every long poll now (each gets what it would get at its timeout) and new ones at once. */
  stopWaiting(): void { this.#closing.abort(); }

  #archiveRendition(page: FeedPage, baseUrl: string): Maybe<StoredRendition> {
    const key = `${page.page}|${baseUrl}`;
    const known = this.#archives.get(key);
    if (known) return known;
    const sqlite = this.#sqlite;
    if (sqlite) {
      let r = sqlite.rendition(page.page, baseUrl);
      r ??= sqlite.saveRendition(page.page, baseUrl, this.#renderArchive(page, baseUrl, sqlite.entriesOf(page)));
      return this.#keepArchive(key, r);
    }
    // Of every instance asking at once, one renders and stores; all serve the stored bytes.
    const pg = this.#store as PgFeedStore;
    return pg.renditionOnce(page.page, baseUrl, async () => this.#renderArchive(page, baseUrl, await pg.entriesOf(page)))
      .then(({ rendition }) => this.#keepArchive(key, rendition));
  }

  #renderArchive(page: FeedPage, baseUrl: string, entries: readonly StoredFeedEntry[]): StoredRendition {
    this.stats.renders += 1;
    const updated = entries[0]!.updated;
    const body = encodeAll(renderFeed(this.#feedDocument(baseUrl, page, entries, updated, true)));
    return { ...body, etag: `a${page.page}.${shortHash(body.identity)}`, lastModifiedMs: Date.parse(updated) };
  }

  #keepArchive(key: string, r: StoredRendition): StoredRendition {
    if (this.#archives.size >= 512) this.#archives.delete(this.#archives.keys().next().value!);
    this.#archives.set(key, r);
    return r;
  }

  #feedDocument(baseUrl: string, page: FeedPage, entries: readonly StoredFeedEntry[], updated: string, archive: boolean) {
    return {
      feedId: this.#store.feedId,
      title: this.#o.title,
      author: this.#o.serviceName,
      baseUrl,
      updated,
      archive,
      entries,
      links: this.#pageLinks(baseUrl, page, archive),
    };
  }

  #pageLinks(baseUrl: string, page: FeedPage, archive: boolean): AtomLink[] {
    const feedUrl = `${baseUrl}/feed`;
    const links: AtomLink[] = [{ rel: 'self', type: 'application/atom+xml', href: archive ? archiveUrl(baseUrl, page.page) : feedUrl }];
    if (archive) links.push({ rel: 'current', type: 'application/atom+xml', href: feedUrl });
    links.push({ rel: 'alternate', type: 'text/html', href: archive ? archiveUrl(baseUrl, page.page) : feedUrl });
    if (page.page > 1) links.push({ rel: 'prev-archive', type: 'application/atom+xml', href: archiveUrl(baseUrl, page.page - 1) });
    if (archive) links.push({ rel: 'next-archive', type: 'application/atom+xml', href: archiveUrl(baseUrl, page.page + 1) });
    return links;
  }

  #htmlPage(baseUrl: string, page: FeedPage, entries: readonly StoredFeedEntry[], archive: boolean): EncodedBody {
    const title = archive ? `${this.#o.title}: archive ${page.page}` : this.#o.title;
    const html = this.#views.page(title, 'feedPage', {
      title,
      archive,
      page: page.page,
      feedUrl: `${baseUrl}/feed`,
      homeUrl: `${baseUrl}/`,
      firstPosition: entries.at(-1)?.position ?? page.firstPosition,
      lastPosition: entries[0]?.position ?? page.firstPosition - 1,
      newerUrl: archive ? archiveUrl(baseUrl, page.page + 1) : undefined,
      olderUrl: page.page > 1 ? archiveUrl(baseUrl, page.page - 1) : undefined,
      entries: entries.map((e) => ({ ...e, href: `${baseUrl}${entryPath(e.key)}` })),
    }, this.#feedLink(baseUrl));
    return encodeAll(html);
  }

  #feedLink(baseUrl: string) { return { url: `${baseUrl}/feed`, title: this.#o.title }; }

  #memo(tag: string, make: () => Maybe<EncodedBody>): Maybe<EncodedBody> {
    let body = this.#rendered.get(tag);
    if (!body) {
      this.stats.renders += 1;
      body = make();
      if (this.#rendered.size >= 16) this.#rendered.delete(this.#rendered.keys().next().value!);
      this.#rendered.set(tag, body);
      // A failed read is not remembered: the next request tries again.
      if (body instanceof Promise) body.catch(() => { if (this.#rendered.get(tag) === body) this.#rendered.delete(tag); });
    }
    return body;
  }

  #baseTag(baseUrl: string): string {
    let t = this.#baseTags.get(baseUrl);
    if (!t) {
      t = shortHash(baseUrl, this.#store.feedId, this.#o.title, ATOM_CONTRACT_VERSION, this.#views.version).slice(0, 10);
      this.#baseTags.set(baseUrl, t);
    }
    return t;
  }

  #visibility(): string { return this.#o.privateFeed ? 'private' : 'public'; }

  #subscriptionCacheControl(): string {
    const age = this.#o.maxAgeSeconds;
    return this.#o.privateFeed ? `private, max-age=${age}` : `public, max-age=${age}, stale-if-error=86400`;
  }

  #immutable(): string { return `${this.#visibility()}, max-age=${ONE_YEAR}, immutable`; }
}

function archiveUrl(baseUrl: string, page: number): string {
  return `${baseUrl}/feed/archive/${page}`;
}
