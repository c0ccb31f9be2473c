import { randomUUID } from 'node:crypto';
import type { Dispatcher } from 'undici';
import type { Db } from '../db/database.ts';
import { createLogger, type Logger } from '../log/logger.ts';
import { type ConsumedEntry, type FeedDocumentRead, readFeedDocument, scanFeedPage } from './atomReader.ts';
import { ConsumerStore, type ParkedSummary, type SubscriptionRow } from './consumerStore.ts';
import { FeedFetcher, type FetchTimeouts, type Validators } from './feedFetcher.ts';
import { entriesAfter, FeedConsistencyError, firstOf, needsOlderPage, newestOf } from './readPlan.ts';

export interface FeedSubscriptionOptions {
  /** The subscription's name, unique in its database, e.g. `orders`. */
  readonly name: string;
  readonly feedUrl: string;
  /** Where a subscription that never read this feed starts (default `beginning`, the oldest archive). */
  readonly startAt?: 'beginning' | 'now';
  /**
   * Applies one entry. Synchronous: it runs inside the better-sqlite3 write transaction that also
   * moves the read position, so its writes and the position commit together. Throw to fail.
   */
  readonly handler: (entry: ConsumedEntry) => void;
  /** After `maxAttempts` failures on one entry: `park` it and go on (default), or `block` the feed. */
  readonly onFailure?: 'park' | 'block';
  readonly maxAttempts?: number;
  /** `Prefer: wait=N` once caught up (0 turns long polling off; default 0). */
  readonly longPollSeconds?: number;
  /** Sent as `Authorization: Bearer <token>`. */
  readonly token?: string;
  /**
   * Origins other than the feed URL's (`https://cdn.example.com`) that a redirect or a paging link
   * may lead to; fetched without the token. Any other origin is refused and the poll fails.
   */
  readonly allowedOrigins?: readonly string[];
}

export interface FeedConsumerOptions extends FeedSubscriptionOptions {
  readonly logger?: Logger;
  readonly dispatcher?: Dispatcher;
  readonly now?: () => Date;
  /** The largest document accepted, compressed or not (default 8 MiB). */
  readonly maxBodyBytes?: number;
  readonly timeouts?: Partial<FetchTimeouts>;
  /** Backoff after a failed poll: base doubles per failure up to max, with jitter (default 0.5 s to 15 s: a feed that comes back is read again within seconds, and a dead one costs one request per 7.5 to 15 s). */
  readonly backoff?: { readonly baseMs: number; readonly maxMs: number };
  readonly random?: () => number;
}

interface Cost { readonly requests: number; readonly bytes: number }

/** One feed document in hand, with where it was read from. */
interface Page {
  readonly url: string;
  readonly doc: FeedDocumentRead;
  readonly validators: Validators | undefined;
}

/** What a poll has done so far: moves with every entry applied. */
interface ReadState {
  position: number;
  lastAtomId: string | null;
  newest: number;
  feedId: string | null;
  pageUrl: string | null;
  processed: number;
  parked: number;
}

/** What one poll did. Faults are reported here (and logged), never thrown. */
export type PollResult =
  | ({ readonly kind: 'not-modified' } & Cost)
  | ({ readonly kind: 'read'; readonly processed: number; readonly parked: number; readonly position: number; readonly newest: number } & Cost)
  | ({ readonly kind: 'started-at-now'; readonly position: number } & Cost)
  | { readonly kind: 'backing-off'; readonly retryAt: string }
  | ({ readonly kind: 'failed'; readonly error: string; readonly retryAt: string } & Cost)
  | { readonly kind: 'aborted' };

export interface ConsumerStatus extends SubscriptionRow {
  readonly behind: number;
  /** How old the oldest entry not yet applied is, in seconds (0 when caught up; null until a page was read since the start). */
  readonly lagSeconds: number | null;
  readonly retryAt: string | null;
  /** The oldest parked entries, at most STATUS_PARKED_LIMIT, without the entries themselves (all of them: `parked()`). */
  readonly parked: readonly ParkedSummary[];
  /** How many entries are parked in all. */
  readonly parkedTotal: number;
  /** Since this process started. */
  readonly totals: { readonly polls: number; readonly requests: number; readonly bytes: number; readonly notModified: number; readonly failures: number };
}

/** How far a subscription has come, cheaply (one row and a count): what metrics read at each scrape. */
export interface ConsumerProgress {
  readonly name: string;
  readonly position: number;
  readonly newestSeen: number;
  readonly behind: number;
  /** As in ConsumerStatus. */
  readonly lagSeconds: number | null;
  readonly lastSuccessAt: string | null;
  readonly parked: number;
  /** Polls and failed polls since this process started. */
  readonly polls: number;
  readonly failures: number;
}

export type ReplayResult =
  | { readonly ok: true; readonly replayed: number }
  | { readonly ok: false; readonly reason: 'not-parked' | 'handler-failed' | 'earlier-entry-parked'; readonly error?: string };

/** How many parked entries status() lists: a status page stays small however many are parked. */
export const STATUS_PARKED_LIMIT = 100;

/** The handler threw: the feed is fine, the entry is not (yet) applicable. */
class HandlerFailed extends Error {
  override name = 'HandlerFailed';
}

/**
 * Reads one RFC 5005 archived feed into a handler, durably and exactly once per entry: the read
 * position lives in the same SQLite database as the handler's writes and moves in the same
 * transaction. Walks back with prev-archive to the last entry processed, then forward in order.
 */
export class FeedConsumer {
  readonly name: string;
  readonly #o: FeedConsumerOptions;
  readonly #db: Db;
  readonly #store: ConsumerStore;
  readonly #fetcher: FeedFetcher;
  readonly #log: Logger;
  readonly #now: () => Date;
  #inFlight: Promise<PollResult> | undefined;
  #retryAt: Date | undefined;
  #failures = 0;
  readonly #totals = { polls: 0, requests: 0, bytes: 0, notModified: 0, failures: 0 };
  /**
   * The entry after the read position and its commit time, as last seen on a page: what the lag in
   * seconds is measured from. Once applied it stays until the next page is read, standing for the
   * unseen entry after it (no older than it, since commit times never fall along a feed).
   */
  #next: { position: number; updatedMs: number } | undefined;

  constructor(db: Db, options: FeedConsumerOptions) {
    this.name = options.name;
    this.#o = options;
    this.#db = db;
    this.#now = options.now ?? (() => new Date());
    this.#log = (options.logger ?? createLogger({}, 'silent')).child({ subscription: options.name });
    this.#store = new ConsumerStore(db, options.name);
    this.#store.ensure(options.feedUrl);
    this.#fetcher = new FeedFetcher({ dispatcher: options.dispatcher, timeouts: options.timeouts, maxBodyBytes: options.maxBodyBytes ?? 8 * 1024 * 1024, token: options.token, origin: options.feedUrl, allowedOrigins: options.allowedOrigins });
  }

  /** Polls once. A call while a poll is in flight joins that poll instead of starting another. */
  pollOnce(signal?: AbortSignal): Promise<PollResult> {
    this.#inFlight ??= this.#poll(signal).finally(() => { this.#inFlight = undefined; });
    return this.#inFlight;
  }

  /** Resolves when the poll in flight (if any) has finished. */
  async idle(): Promise<void> { await this.#inFlight?.catch(() => undefined); }

  status(): ConsumerStatus {
    const row = this.#store.get();
    return {
      ...row, behind: Math.max(0, row.newestSeen - row.position), lagSeconds: this.#lagSeconds(row), retryAt: this.#retryAt?.toISOString() ?? null,
      parked: this.#store.parkedSummaries(0, STATUS_PARKED_LIMIT), parkedTotal: this.#store.parkedCount(), totals: { ...this.#totals },
    };
  }

  progress(): ConsumerProgress {
    const row = this.#store.get();
    return {
      name: this.name, position: row.position, newestSeen: row.newestSeen, behind: Math.max(0, row.newestSeen - row.position),
      lagSeconds: this.#lagSeconds(row), lastSuccessAt: row.lastSuccessAt, parked: this.#store.parkedCount(),
      polls: this.#totals.polls, failures: this.#totals.failures,
    };
  }

  #lagSeconds(row: SubscriptionRow): number | null {
    if (row.position >= row.newestSeen) return 0;
    if (this.#next === undefined) return null;
    return Math.max(0, this.#now().getTime() - this.#next.updatedMs) / 1000;
  }

  /** Notes the entry after the read position, if these entries (oldest first) hold it. */
  #noteNext(entries: readonly ConsumedEntry[], position: number): void {
    const next = entries.find((e) => e.position === position + 1);
    if (next) this.#next = { position: next.position, updatedMs: Date.parse(next.updated) };
  }

  /**
   * The parked entries, oldest first, without the entries themselves: all of them, or a page of
   * at most `limit` after position `after` (the last position of the page before).
   */
  parked(page: { readonly after?: number; readonly limit?: number } = {}): ParkedSummary[] {
    return this.#store.parkedSummaries(page.after ?? 0, page.limit ?? -1);
  }

  /**
   * Runs the handler again on a parked entry and then on the entries of the same order that were
   * held behind it, in feed order, each leaving the parking lot as it succeeds. Refused for an
   * entry with an older one of its order still parked: an order's entries apply in order.
   */
  replayParked(atomId: string): ReplayResult {
    const p = this.#store.parkedOne(atomId);
    if (!p) return { ok: false, reason: 'not-parked' };
    const ofOrder = this.#store.parkedOfOrder(p.orderId);
    if (ofOrder[0]?.atomId !== atomId) return { ok: false, reason: 'earlier-entry-parked', error: `replay ${ofOrder[0]?.atomId} (position ${ofOrder[0]?.position}) first` };
    let replayed = 0;
    for (const next of ofOrder) {
      try {
        this.#db.transaction(() => { this.#o.handler(next.entry); this.#store.unpark(next.atomId); }).immediate();
        this.#log.info('parked entry replayed', { atomId: next.atomId, position: next.position, orderId: next.orderId });
        replayed++;
      } catch (err) {
        const error = message(err);
        this.#store.parkFailedAgain(next.atomId, error);
        return { ok: false, reason: 'handler-failed', error: replayed > 0 ? `${replayed} replayed, then ${next.atomId}: ${error}` : error };
      }
    }
    return { ok: true, replayed };
  }

  /** Forgets the read position: the next poll reads the feed again from its oldest archive. */
  resetPosition(): void {
    this.#db.transaction(() => this.#store.reset()).immediate();
    this.#next = undefined;
    this.#retryAt = undefined;
    this.#failures = 0;
  }

  async close(): Promise<void> {
    await this.idle();
    await this.#fetcher.close();
  }

  async #poll(signal: AbortSignal | undefined): Promise<PollResult> {
    if (this.#retryAt && this.#now() < this.#retryAt) return { kind: 'backing-off', retryAt: this.#retryAt.toISOString() };
    const pollId = randomUUID().slice(0, 8);
    const cost = { requests: 0, bytes: 0 };
    this.#totals.polls++;
    try {
      const result = await this.#read(cost, signal);
      this.#retryAt = undefined;
      this.#failures = 0;
      if (result.kind === 'not-modified') this.#totals.notModified++;
      if (result.kind !== 'not-modified' && result.kind !== 'aborted' && !(result.kind === 'read' && result.processed + result.parked === 0)) {
        this.#log.info('poll', { pollId, ...result });
      }
      return result;
    } catch (err) {
      if (signal?.aborted) return { kind: 'aborted' };
      const error = message(err);
      this.#failures++;
      this.#totals.failures++;
      const { baseMs, maxMs } = this.#o.backoff ?? { baseMs: 500, maxMs: 15_000 };
      const delay = Math.min(maxMs, baseMs * 2 ** Math.min(this.#failures - 1, 30)) * (0.5 + (this.#o.random ?? Math.random)() / 2);
      this.#retryAt = new Date(this.#now().getTime() + delay);
      this.#store.recordFailure(error, this.#now().toISOString());
      this.#log.error('poll failed', { pollId, error, kind: (err as Error).name, failures: this.#failures, retryAt: this.#retryAt.toISOString() });
      return { kind: 'failed', error, retryAt: this.#retryAt.toISOString(), ...cost };
    } finally {
      this.#totals.requests += cost.requests;
      this.#totals.bytes += cost.bytes;
    }
  }

  /**
   * One poll, in bounded memory whatever the feed's length: one page in hand at a time. Starts
   * from the page the read position stands in (archives never change) or, when it stands in the
   * subscription document, from a conditional GET of it; walks back with prev-archive only as far
   * as the entry after the position, reading no more of each page than its links and positions
   * and recording how far it came; then reads forward with next-archive, applying and committing
   * entry by entry, so a fault loses at most the page in hand.
   */
  async #read(cost: { requests: number; bytes: number }, signal: AbortSignal | undefined): Promise<PollResult> {
    const sub = this.#store.get();
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
        this.#store.recordSuccess(this.#now().toISOString(), 0);
        return { kind: 'not-modified', ...cost };
      }
      page = { url: head.url, doc: this.#parse(head.text, head.url, state), validators: head.validators };
      if (sub.started === 0 && (this.#o.startAt ?? 'beginning') === 'now') {
        const last = page.doc.entries.at(-1);
        this.#db.transaction(() => {
          if (last) this.#store.advance(0, last);
          this.#store.setFeedId(page.doc.feedId);
          this.#store.setPage(null);
          this.#store.setValidators(head.validators);
          this.#store.recordSuccess(this.#now().toISOString(), state.newest);
        }).immediate();
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
    if (state.feedId === null) this.#store.setFeedId(page.doc.feedId);
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
      this.#standIn(state, page.doc.archive ? page.url : null);
      if (signal?.aborted) return { kind: 'aborted' };
      this.#applyPage(todo, state);
      if (!page.doc.archive) break;
      // This archive is done: stand before the next page, so a restart does not read this one again.
      const next = page.doc.nextArchive ?? this.#o.feedUrl;
      this.#standIn(state, next);
      if (signal?.aborted) return { kind: 'aborted' };
      if (held && firstOf(held.doc) === state.position + 1) [page, held] = [held, undefined];
      else page = await this.#fetchPage(next, state, cost, signal);
    }
    this.#db.transaction(() => {
      // A later 304 must mean "nothing you have not processed", so keep validators only when caught up.
      this.#store.setValidators(state.position >= newestOf(page.doc) ? page.validators : undefined);
      this.#store.recordSuccess(this.#now().toISOString(), state.newest);
    }).immediate();
    return { kind: 'read', processed: state.processed, parked: state.parked, position: state.position, newest: state.newest, ...cost };
  }

  /**
   * Follows prev-archive from `from` to the page that holds the entry after the read position
   * (or the oldest page), reading only each page's links and positions. Positions must fall page
   * by page, so a loop or a link that leads forward is caught without remembering the pages.
   */
  async #walkBack(from: Page, state: ReadState, cost: { requests: number; bytes: number }, signal: AbortSignal | undefined): Promise<Page> {
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
        return { url: res.url, doc: this.#parse(res.text, res.url, state), validators: undefined };
      }
      this.#store.setWalk(res.url);
      newerFirst = scan.firstPosition;
      at = res.url;
      url = scan.prevArchive;
    }
    return from;
  }

  #standIn(state: ReadState, pageUrl: string | null): void {
    if (state.pageUrl === pageUrl) return;
    this.#store.setPage(pageUrl);
    state.pageUrl = pageUrl;
  }

  async #fetchPage(url: string, state: ReadState, cost: { requests: number; bytes: number }, signal: AbortSignal | undefined): Promise<Page> {
    const res = await this.#get(url, cost, signal);
    return { url: res.url, doc: this.#parse(res.text, res.url, state), validators: res.validators };
  }

  async #get(url: string, cost: { requests: number; bytes: number }, signal: AbortSignal | undefined): Promise<{ url: string; text: string; validators: Validators }> {
    const res = await this.#fetcher.get(url, { signal });
    cost.requests++;
    if (res.kind !== 'ok') throw new FeedConsistencyError(`${url} answered 304 to an unconditional GET`);
    cost.bytes += res.bytes;
    return res;
  }

  /** Parses a page from the read position on, checks it is our feed, and notes the newest position seen. */
  #parse(text: string, url: string, state: ReadState): FeedDocumentRead {
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
      this.#store.setNewestSeen(newest);
    }
    return doc;
  }

  /**
   * Applies a page's new entries in one SQLite transaction, each entry in a savepoint of its own
   * (a handler that throws undoes only its entry): one commit a page instead of one an entry. A
   * failure commits the entries before it, then stops the poll.
   */
  #applyPage(todo: readonly ConsumedEntry[], state: ReadState): void {
    let failure: unknown;
    this.#db.transaction(() => {
      for (const entry of todo) {
        try {
          if (this.#apply(entry, state.position) === 'parked') state.parked++;
          else state.processed++;
        } catch (err) {
          failure = err;
          return;
        }
        state.position = entry.position;
        state.lastAtomId = entry.atomId;
      }
    }).immediate();
    this.#noteNext(todo, state.position);
    if (failure !== undefined) throw failure;
  }

  #apply(entry: ConsumedEntry, from: number): 'processed' | 'parked' {
    if ((this.#o.onFailure ?? 'park') === 'park') {
      // Only an older parked entry holds this one back (after a reset the feed is read again past
      // entries that are themselves parked, or older than the parked one).
      const waitingFor = this.#store.parkedOfOrder(entry.orderId)[0];
      if (waitingFor && waitingFor.position < entry.position) {
        // An order's entries apply in order: this one waits behind its parked predecessor.
        this.#db.transaction(() => {
          if (!this.#store.advance(from, entry)) throw new FeedConsistencyError(`the read position of ${this.name} moved under this poll (another process reading the same subscription?)`);
          this.#store.park(entry, `held behind ${waitingFor.atomId} (position ${waitingFor.position}), parked earlier for the same order`, 0, this.#now().toISOString());
        }).immediate();
        this.#log.warn('entry held behind a parked entry of its order', { atomId: entry.atomId, position: entry.position, orderId: entry.orderId, behind: waitingFor.atomId });
        return 'parked';
      }
    }
    try {
      this.#db.transaction(() => {
        if (!this.#store.advance(from, entry)) throw new FeedConsistencyError(`the read position of ${this.name} moved under this poll (another process reading the same subscription?)`);
        this.#o.handler(entry);
        this.#store.clearAttempts();
        this.#store.unpark(entry.atomId);
      }).immediate();
      return 'processed';
    } catch (err) {
      if (err instanceof FeedConsistencyError) throw err;
      const error = message(err);
      const attempts = this.#db.transaction(() => this.#store.bumpAttempt(entry.atomId, error)).immediate();
      const max = this.#o.maxAttempts ?? 5;
      if ((this.#o.onFailure ?? 'park') === 'park' && attempts >= max) {
        this.#db.transaction(() => {
          if (!this.#store.advance(from, entry)) throw new FeedConsistencyError(`the read position of ${this.name} moved under this poll (another process reading the same subscription?)`);
          this.#store.park(entry, error, attempts, this.#now().toISOString());
          this.#store.clearAttempts();
        }).immediate();
        this.#log.warn('entry parked', { atomId: entry.atomId, position: entry.position, type: entry.type, orderId: entry.orderId, attempts, error });
        return 'parked';
      }
      throw new HandlerFailed(`handler failed on ${entry.type} ${entry.atomId} (position ${entry.position}, attempt ${attempts} of ${max}${this.#o.onFailure === 'block' ? ', blocking' : ''}): ${error}`);
    }
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
