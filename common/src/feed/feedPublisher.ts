import { ATOM_CONTRACT_VERSION } from './atomNamespaces.ts';
import { type AtomLink, entryPath, renderEntryDocument, renderFeed, renderServiceDocument } from './atomWriter.ts';
import type { StoredFeedEntry } from './feedEntry.ts';
import type { FeedPage, FeedStore, StoredRendition } from './feedStore.ts';
import { HtmlViews } from './htmlViews.ts';
import { type EncodedBody, type Representation, encodeAll, shortHash } from '../http/representation.ts';

export const ATOM_TYPE = 'application/atom+xml; charset=utf-8';
export const ATOM_ENTRY_TYPE = 'application/atom+xml; type=entry; charset=utf-8';
export const ATOMSVC_TYPE = 'application/atomsvc+xml; charset=utf-8';
const HTML_TYPE = 'text/html; charset=utf-8';
const ONE_YEAR = 31_536_000;

export interface FeedPublisherOptions {
  readonly store: FeedStore;
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
export type ArchiveLookup =
  | { readonly kind: 'archive'; readonly rep: Representation }
  | { readonly kind: 'working' }
  | { readonly kind: 'missing' };

/**
 * Turns a FeedStore into HTTP representations: Atom and HTML, each with validators that are
 * computed from the store's head alone, so a conditional GET is answered without rendering.
 */
export class FeedPublisher {
  readonly #o: FeedPublisherOptions;
  readonly #views = new HtmlViews();
  readonly #rendered = new Map<string, EncodedBody>();
  readonly #archives = new Map<string, StoredRendition>();
  readonly #baseTags = new Map<string, string>();
  readonly #lastSubscription = new Map<string, Representation>();
  /** How many documents were rendered: lets tests prove a 304 or a stored archive renders nothing. */
  readonly stats = { renders: 0 };
  /** Aborted on shutdown: every long poll is answered now, and new ones at once. */
  readonly #closing = new AbortController();
  #waiting = 0;

  constructor(options: FeedPublisherOptions) {
    this.#o = options;
  }

  get store(): FeedStore { return this.#o.store; }

  subscription(baseUrl: string, html: boolean): Representation {
    const head = this.#o.store.head();
    const page = head.openPage;
    const tag = `${html ? 'h' : 's'}${page.page}.${head.lastPosition}.${this.#baseTag(baseUrl)}`;
    // Revalidations ask for the same head again and again: reuse its representation.
    const last = this.#lastSubscription.get(tag);
    if (last) return last;
    const rep: Representation = {
      contentType: html ? HTML_TYPE : ATOM_TYPE,
      etag: tag,
      lastModifiedMs: head.lastUpdatedMs,
      cacheControl: this.#subscriptionCacheControl(),
      links: this.#pageLinks(baseUrl, page, false),
      body: () => this.#memo(tag, () => {
        // Exactly the entries the validator names, even if more were committed since.
        const entries = this.#o.store.entriesOf(page, head.lastPosition);
        const updated = new Date(head.lastUpdatedMs).toISOString();
        return html
          ? this.#htmlPage(baseUrl, page, entries, false)
          : encodeAll(renderFeed(this.#feedDocument(baseUrl, page, entries, updated, false)));
      }),
    };
    if (this.#lastSubscription.size >= 8) this.#lastSubscription.clear();
    this.#lastSubscription.set(tag, rep);
    return rep;
  }

  archive(n: number, baseUrl: string, html: boolean): ArchiveLookup {
    const page = this.#o.store.page(n);
    if (!page) return { kind: 'missing' };
    if (!page.sealed) return { kind: 'working' };
    const stored = this.#archiveRendition(page, baseUrl);
    const links = this.#pageLinks(baseUrl, page, true);
    if (!html) {
      return { kind: 'archive', rep: { contentType: ATOM_TYPE, etag: stored.etag, lastModifiedMs: stored.lastModifiedMs, cacheControl: this.#immutable(), links, body: () => stored } };
    }
    const tag = `h${stored.etag}.${this.#views.version}`;
    return {
      kind: 'archive',
      rep: {
        contentType: HTML_TYPE, etag: tag, lastModifiedMs: stored.lastModifiedMs, links,
        cacheControl: `${this.#visibility()}, max-age=3600`,
        body: () => this.#memo(tag, () => this.#htmlPage(baseUrl, page, this.#o.store.entriesOf(page), true)),
      },
    };
  }

  entry(key: string, baseUrl: string, html: boolean): Representation | undefined {
    const entry = this.#o.store.entry(key);
    if (!entry) return undefined;
    // An entry never changes, so its validator needs only its position and the base URL.
    return {
      contentType: html ? HTML_TYPE : ATOM_ENTRY_TYPE,
      etag: `${html ? 'h' : 'e'}${entry.position}.${this.#baseTag(baseUrl)}`,
      lastModifiedMs: Date.parse(entry.updated),
      cacheControl: html ? `${this.#visibility()}, max-age=3600` : this.#immutable(),
      body: () => encodeAll(html
        ? this.#views.page(entry.title, 'entry', { entry, selfUrl: `${baseUrl}${entryPath(key)}`, feedHtmlUrl: `${baseUrl}/feed` }, this.#feedLink(baseUrl))
        : renderEntryDocument(entry, baseUrl, this.#o.serviceName, this.#o.store.feedId)),
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
      const off = this.#o.store.onAppend((p) => { if (p > afterPosition) finish(); });
      const timer = setTimeout(finish, ms);
      const check = setInterval(() => { if (this.#o.store.head().lastPosition > afterPosition) finish(); }, 250);
      signal.addEventListener('abort', finish, { once: true });
      closing.addEventListener('abort', finish, { once: true });
    });
  }

  /** How many long polls are waiting now. */
  get waiting(): number { return this.#waiting; }

  /** For shutdown: answers every long poll now (each gets what it would get at its timeout) and new ones at once. */
  stopWaiting(): void { this.#closing.abort(); }

  #archiveRendition(page: FeedPage, baseUrl: string): StoredRendition {
    const key = `${page.page}|${baseUrl}`;
    let r = this.#archives.get(key) ?? this.#o.store.rendition(page.page, baseUrl);
    if (!r) {
      this.stats.renders += 1;
      const entries = this.#o.store.entriesOf(page);
      const updated = entries[0]!.updated;
      const xml = renderFeed(this.#feedDocument(baseUrl, page, entries, updated, true));
      const body = encodeAll(xml);
      r = this.#o.store.saveRendition(page.page, baseUrl, { ...body, etag: `a${page.page}.${shortHash(body.identity)}`, lastModifiedMs: Date.parse(updated) });
    }
    if (this.#archives.size >= 512) this.#archives.delete(this.#archives.keys().next().value!);
    this.#archives.set(key, r);
    return r;
  }

  #feedDocument(baseUrl: string, page: FeedPage, entries: readonly StoredFeedEntry[], updated: string, archive: boolean) {
    return {
      feedId: this.#o.store.feedId,
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

  #memo(tag: string, make: () => EncodedBody): EncodedBody {
    let body = this.#rendered.get(tag);
    if (!body) {
      this.stats.renders += 1;
      body = make();
      if (this.#rendered.size >= 16) this.#rendered.delete(this.#rendered.keys().next().value!);
      this.#rendered.set(tag, body);
    }
    return body;
  }

  #baseTag(baseUrl: string): string {
    let t = this.#baseTags.get(baseUrl);
    if (!t) {
      t = shortHash(baseUrl, this.#o.store.feedId, this.#o.title, ATOM_CONTRACT_VERSION, this.#views.version).slice(0, 10);
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
