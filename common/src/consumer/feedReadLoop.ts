import type { Db } from '../db/database.ts';
import type { Logger } from '../log/logger.ts';
import { type ConsumedEntry, type FeedDocumentRead, readFeedDocument, scanFeedPage } from './atomReader.ts';
import type { ConsumerStore, SubscriptionRow } from './consumerStore.ts';
import type { ReadProgress } from './entryApplier.ts';
import type { FeedSubscriptionOptions } from './feedConsumer.ts';
import type { FeedFetcher, Validators } from './feedFetcher.ts';
import { entriesAfter, FeedConsistencyError, firstOf, needsOlderPage, newestOf } from './readPlan.ts';

/** Requests made and bytes read by one poll. */
export interface Cost { requests: number; bytes: number }

/** What one poll did. Faults are reported here (and logged), never thrown. */
export type PollResult =
  | ({ readonly kind: 'not-modified' } & Readonly<Cost>)
  | ({ readonly kind: 'read'; readonly processed: number; readonly parked: number; readonly position: number; readonly newest: number } & Readonly<Cost>)
  | ({ readonly kind: 'started-at-now'; readonly position: number } & Readonly<Cost>)
  | { readonly kind: 'backing-off'; readonly retryAt: string }
  /** Another instance applies this subscription (PostgreSQL): this one did not poll. */
  | { readonly kind: 'following'; readonly retryAt: string }
  | ({ readonly kind: 'failed'; readonly error: string; readonly retryAt: string } & Readonly<Cost>)
  | { readonly kind: 'aborted' };

/** What a read that did not throw did: the poll adds backing off and failing around it. */
export type ReadResult = Exclude<PollResult, { readonly kind: 'backing-off' | 'following' | 'failed' }>;

/**
 * The entry after the read position and its commit time, as last seen on a page: what the lag in
 * seconds is measured from. Once applied it stays until the next page is read, standing for the
 * unseen entry after it (no older than it, since commit times never fall along a feed).
 */
export interface NextEntry { readonly position: number; readonly updatedMs: number }

/**
 * Where the read loop keeps the read position: SQLite's ConsumerStore (synchronous, see
 * sqliteReadLoopStore) or PostgreSQL's (async). The loop awaits each call either way; only a few
 * are made per page, the entries themselves go through the PageApplier.
 */
export interface ReadLoopStore {
  get(): SubscriptionRow | Promise<SubscriptionRow>;
  setFeedId(feedId: string): void | Promise<void>;
  setPage(url: string | null): void | Promise<void>;
  setWalk(url: string | null): void | Promise<void>;
  setNewestSeen(n: number): void | Promise<void>;
  /** In one transaction: stand after `last` (the newest entry of the head document), on the subscription document. */
  startAtNow(last: ConsumedEntry | undefined, feedId: string, validators: Validators | undefined, at: string, newestSeen: number): void | Promise<void>;
  /** In one transaction: the poll succeeded, with these validators kept for the next conditional GET (or none). */
  finishRead(validators: Validators | undefined, at: string, newestSeen: number): void | Promise<void>;
  /** A 304: the poll succeeded and nothing changed. */
  recordSuccess(at: string, newestSeen: number): void | Promise<void>;
}

/** Applies a page's new entries and moves `state` with them (EntryApplier on SQLite). */
export interface PageApplier {
  applyPage(todo: readonly ConsumedEntry[], state: ReadProgress): void | Promise<void>;
}

/** The ReadLoopStore of a SQLite subscription. */
export function sqliteReadLoopStore(db: Db, store: ConsumerStore): ReadLoopStore {
  return {
    get: () => store.get(),
    setFeedId: (feedId) => store.setFeedId(feedId),
    setPage: (url) => store.setPage(url),
    setWalk: (url) => store.setWalk(url),
    setNewestSeen: (n) => store.setNewestSeen(n),
    recordSuccess: (at, newestSeen) => store.recordSuccess(at, newestSeen),
    startAtNow: (last, feedId, validators, at, newestSeen) => db.transaction(() => {
      if (last) store.advance(0, last);
      store.setFeedId(feedId);
      store.setPage(null);
      store.setValidators(validators);
      store.recordSuccess(at, newestSeen);
    }).immediate(),
    finishRead: (validators, at, newestSeen) => db.transaction(() => {
      store.setValidators(validators);
      store.recordSuccess(at, newestSeen);
    }).immediate(),
  };
}

export interface FeedReadLoopDeps {
  readonly store: ReadLoopStore;
  readonly applier: PageApplier;
  readonly fetcher: FeedFetcher;
  readonly log: Logger;
  readonly now: () => Date;
  readonly options: Pick<FeedSubscriptionOptions, 'feedUrl' | 'startAt' | 'longPollSeconds'>;
  /** Told each time the entry after the read position is seen on a page (for the lag in seconds). */
  readonly noteNext: (next: NextEntry) => void;
}

/** One feed document in hand, with where it was read from. */
interface Page {
  readonly url: string;
  readonly doc: FeedDocumentRead;
  readonly validators: Validators | undefined;
}

/** What a poll has done so far: moves with every entry applied, and with the page it stands in. */
interface ReadState extends ReadProgress {
  newest: number;
  feedId: string | null;
  pageUrl: string | null;
}

/**
 * A consumer's read loop: walks back with prev-archive to the entry after the read position, then
 * reads forward with next-archive, applying each page's entries through the handler and moving
 * the read position in the same transaction. FeedConsumer runs it once per poll.
 */
export class FeedReadLoop {
  readonly #store: ReadLoopStore;
  readonly #fetcher: FeedFetcher;
  readonly #now: () => Date;
  readonly #o: FeedReadLoopDeps['options'];
  readonly #onNext: (next: NextEntry) => void;
  readonly #applier: PageApplier;

  constructor(deps: FeedReadLoopDeps) {
    this.#store = deps.store;
    this.#fetcher = deps.fetcher;
    this.#now = deps.now;
    this.#o = deps.options;
    this.#onNext = deps.noteNext;
    this.#applier = deps.applier;
  }

  /**
   * One poll, in bounded memory whatever the feed's length: one page in hand at a time. Starts
   * from the page the read position stands in (archives never change) or, when it stands in the
   * subscription document, from a conditional GET of it; walks back with prev-archive only as far
   * as the entry after the position, reading no more of each page than its links and positions
   * and recording how far it came; then reads forward with next-archive, applying and committing
   * entry by entry, so a fault loses at most the page in hand.
   */
  async read(cost: Cost, signal: AbortSignal | undefined): Promise<ReadResult> {
    const sub = await this.#store.get();
    const state: ReadState = { position: sub.position, lastAtomId: sub.lastAtomId, newest: sub.newestSeen, feedId: sub.feedId, pageUrl: sub.pageUrl, processed: 0, parked: 0 };
    let page: Page;
    if (sub.started === 1 && sub.pageUrl !== null) {
      page = await this.#fetchPage(sub.pageUrl, state, cost, signal);
    } else {
      const validators = sub.etag || sub.lastModified ? { etag: sub.etag ?? undefined, lastModified: sub.lastModified ?? undefined } : undefined;
      const head = await this.#fetcher.get(this.#o.feedUrl, { validators, waitSeconds: this.#o.longPollSeconds ?? 0, signal });
      cost.requests++;
      cost.bytes += head.bytes;
      if (head.kind === 'not-modified') {
        await this.#store.recordSuccess(this.#now().toISOString(), 0);
        return { kind: 'not-modified', ...cost };
      }
      page = { url: head.url, doc: await this.#parse(head.text, head.url, state), validators: head.validators };
      if (sub.started === 0 && (this.#o.startAt ?? 'beginning') === 'now') {
        const last = page.doc.entries.at(-1);
        await this.#store.startAtNow(last, page.doc.feedId, head.validators, this.#now().toISOString(), state.newest);
        return { kind: 'started-at-now', position: last?.position ?? 0, ...cost };
      }
    }
    if (sub.walkUrl !== null && needsOlderPage(page.doc, state.position)) {
      // A walk back was cut short (a fault or a restart): go on from the oldest page it reached,
      // whether it set out from the subscription document fetched afresh or from the page the
      // position stands in (which may be the subscription document too, when an archive had no
      // next-archive, so the walk would otherwise start over from the head at every poll).
      page = await this.#walkBack(await this.#fetchPage(sub.walkUrl, state, cost, signal), state, cost, signal);
    }
    if (state.feedId === null) await this.#store.setFeedId(page.doc.feedId);
    state.feedId = page.doc.feedId;

    // The subscription document a walk back started from: the forward read ends with it, unfetched.
    let held: Page | undefined;
    for (let first = true; ; first = false) {
      if (needsOlderPage(page.doc, state.position) && page.doc.prevArchive) {
        if (!page.doc.archive) held = page;
        page = await this.#walkBack(page, state, cost, signal);
      }
      const todo = entriesAfter([page.doc], state.position, state.lastAtomId);
      if (!first && page.doc.archive && todo.length === 0) {
        throw new FeedConsistencyError(`next-archive leads back: ${page.url} holds nothing after position ${state.position}`);
      }
      await this.#standIn(state, page.doc.archive ? page.url : null);
      if (signal?.aborted) return { kind: 'aborted' };
      try {
        await this.#applier.applyPage(todo, state);
      } finally {
        this.#noteNext(todo, state.position);
      }
      if (!page.doc.archive) break;
      // This archive is done: stand before the next page, so a restart does not read this one again.
      const next = page.doc.nextArchive ?? this.#o.feedUrl;
      await this.#standIn(state, next);
      if (signal?.aborted) return { kind: 'aborted' };
      if (held && firstOf(held.doc) === state.position + 1) [page, held] = [held, undefined];
      else page = await this.#fetchPage(next, state, cost, signal);
    }
    // A later 304 must mean "nothing you have not processed", so keep validators only when caught up.
    await this.#store.finishRead(state.position >= newestOf(page.doc) ? page.validators : undefined, this.#now().toISOString(), state.newest);
    return { kind: 'read', processed: state.processed, parked: state.parked, position: state.position, newest: state.newest, ...cost };
  }

  /**
   * Follows prev-archive from `from` to the page that holds the entry after the read position
   * (or the oldest page), reading only each page's links and positions. Positions must fall page
   * by page, so a loop or a link that leads forward is caught without remembering the pages.
   */
  async #walkBack(from: Page, state: ReadState, cost: Cost, signal: AbortSignal | undefined): Promise<Page> {
    let newerFirst = firstOf(from.doc) || Number.POSITIVE_INFINITY;
    let url = from.doc.prevArchive;
    let at = from.url;
    while (url !== undefined) {
      const res = await this.#get(url, cost, signal);
      const scan = scanFeedPage(res.text);
      if (scan.feedId !== state.feedId && state.feedId !== null) throw new FeedConsistencyError(`${res.url} belongs to feed ${scan.feedId}, not ${state.feedId}`);
      if (scan.lastPosition === 0) throw new FeedConsistencyError(`${res.url}, linked as prev-archive from ${at}, is an archive with no entries`);
      if (scan.lastPosition >= newerFirst) {
        throw new FeedConsistencyError(`the prev-archive chain loops or leads forward at ${res.url} (positions ${scan.firstPosition} to ${scan.lastPosition}, linked from ${at}, which starts at ${newerFirst})`);
      }
      if (Number.isFinite(newerFirst) && scan.lastPosition !== newerFirst - 1) {
        throw new FeedConsistencyError(`the feed has a gap: ${res.url} ends at position ${scan.lastPosition}, the page after it (${at}) starts at ${newerFirst}`);
      }
      if (scan.firstPosition <= state.position + 1 || scan.prevArchive === undefined) {
        return { url: res.url, doc: await this.#parse(res.text, res.url, state), validators: undefined };
      }
      await this.#store.setWalk(res.url);
      newerFirst = scan.firstPosition;
      at = res.url;
      url = scan.prevArchive;
    }
    return from;
  }

  async #standIn(state: ReadState, pageUrl: string | null): Promise<void> {
    if (state.pageUrl === pageUrl) return;
    await this.#store.setPage(pageUrl);
    state.pageUrl = pageUrl;
  }

  async #fetchPage(url: string, state: ReadState, cost: Cost, signal: AbortSignal | undefined): Promise<Page> {
    const res = await this.#get(url, cost, signal);
    return { url: res.url, doc: await this.#parse(res.text, res.url, state), validators: res.validators };
  }

  async #get(url: string, cost: Cost, signal: AbortSignal | undefined): Promise<{ url: string; text: string; validators: Validators }> {
    const res = await this.#fetcher.get(url, { signal });
    cost.requests++;
    if (res.kind !== 'ok') throw new FeedConsistencyError(`${url} answered 304 to an unconditional GET`);
    cost.bytes += res.bytes;
    return res;
  }

  /** Parses a page from the read position on, checks it is our feed, and notes the newest position seen. */
  async #parse(text: string, url: string, state: ReadState): Promise<FeedDocumentRead> {
    const doc = readFeedDocument(text, { fromPosition: state.position });
    if (state.feedId !== null && state.feedId !== doc.feedId) {
      throw new FeedConsistencyError(url === this.#o.feedUrl
        ? `the feed's atom:id changed from ${state.feedId} to ${doc.feedId}: a different feed is at ${this.#o.feedUrl}; reset the subscription if that is intended`
        : `${url} belongs to feed ${doc.feedId}, not ${state.feedId}`);
    }
    this.#noteNext(doc.entries, state.position);
    const newest = newestOf(doc);
    if (newest > state.newest) {
      state.newest = newest;
      await this.#store.setNewestSeen(newest);
    }
    return doc;
  }

  /** Notes the entry after the read position, if these entries (oldest first) hold it. */
  #noteNext(entries: readonly ConsumedEntry[], position: number): void {
    const next = entries.find((e) => e.position === position + 1);
    if (next) this.#onNext({ position: next.position, updatedMs: Date.parse(next.updated) });
  }
}
