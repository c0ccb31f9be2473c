import { randomUUID } from 'node:crypto';
import type { Dispatcher } from 'undici';
import type { Db } from '../db/database.ts';
import { createLogger, type Logger } from '../log/logger.ts';
import { type ConsumedEntry, type FeedDocumentRead, readFeedDocument } from './atomReader.ts';
import { ConsumerStore, type ParkedEntry, type SubscriptionRow } from './consumerStore.ts';
import { FeedFetcher, type FetchTimeouts } from './feedFetcher.ts';
import { entriesAfter, FeedConsistencyError, needsOlderPage } from './readPlan.ts';

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
  /** The longest prev-archive walk in one poll (default 10 000 pages). */
  readonly maxPagesPerPoll?: number;
}

interface Cost { readonly requests: number; readonly bytes: number }

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
  readonly retryAt: string | null;
  readonly parked: readonly ParkedEntry[];
  /** Since this process started. */
  readonly totals: { readonly polls: number; readonly requests: number; readonly bytes: number; readonly notModified: number };
}

export type ReplayResult =
  | { readonly ok: true; readonly replayed: number }
  | { readonly ok: false; readonly reason: 'not-parked' | 'handler-failed' | 'earlier-entry-parked'; readonly error?: string };

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
  readonly #totals = { polls: 0, requests: 0, bytes: 0, notModified: 0 };

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
    return { ...row, behind: Math.max(0, row.newestSeen - row.position), retryAt: this.#retryAt?.toISOString() ?? null, parked: this.#store.parked(), totals: { ...this.#totals } };
  }

  parked(): ParkedEntry[] { return this.#store.parked(); }

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

  async #read(cost: { requests: number; bytes: number }, signal: AbortSignal | undefined): Promise<PollResult> {
    const sub = this.#store.get();
    const validators = sub.etag || sub.lastModified ? { etag: sub.etag ?? undefined, lastModified: sub.lastModified ?? undefined } : undefined;
    const head = await this.#fetcher.get(this.#o.feedUrl, { validators, waitSeconds: this.#o.longPollSeconds ?? 0, signal });
    cost.requests++;
    cost.bytes += head.bytes;
    if (head.kind === 'not-modified') {
      this.#store.recordSuccess(this.#now().toISOString(), 0);
      return { kind: 'not-modified', ...cost };
    }
    // Entries before our position are cut out unparsed: we keep the one at our position to check its id.
    const doc = readFeedDocument(head.text, { fromPosition: sub.position });
    if (sub.feedId !== null && sub.feedId !== doc.feedId) {
      throw new FeedConsistencyError(`the feed's atom:id changed from ${sub.feedId} to ${doc.feedId}: a different feed is at ${this.#o.feedUrl}; reset the subscription if that is intended`);
    }
    const newestInHead = Math.max(doc.entries.at(-1)?.position ?? 0, doc.skippedThrough);
    if (sub.started === 0 && (this.#o.startAt ?? 'beginning') === 'now') {
      const last = doc.entries.at(-1);
      this.#db.transaction(() => {
        if (last) this.#store.advance(0, last);
        this.#store.setFeedId(doc.feedId);
        this.#store.setValidators(head.validators);
        this.#store.recordSuccess(this.#now().toISOString(), newestInHead);
      }).immediate();
      return { kind: 'started-at-now', position: last?.position ?? 0, ...cost };
    }

    const pages: FeedDocumentRead[] = [doc];
    const visited = new Set([head.url]);
    for (let oldest = doc; needsOlderPage(oldest, sub.position) && oldest.prevArchive;) {
      const url = oldest.prevArchive;
      if (visited.has(url) || pages.length > (this.#o.maxPagesPerPoll ?? 10_000)) throw new FeedConsistencyError(`the prev-archive chain loops or is too long at ${url}`);
      visited.add(url);
      const res = await this.#fetcher.get(url, { signal });
      cost.requests++;
      if (res.kind !== 'ok') throw new FeedConsistencyError(`${url} answered 304 to an unconditional GET`);
      cost.bytes += res.bytes;
      oldest = readFeedDocument(res.text, { fromPosition: sub.position });
      if (oldest.feedId !== doc.feedId) throw new FeedConsistencyError(`${url} belongs to feed ${oldest.feedId}, not ${doc.feedId}`);
      pages.push(oldest);
    }
    const todo = entriesAfter(pages, sub.position, sub.lastAtomId);
    const newest = Math.max(newestInHead, todo.at(-1)?.position ?? 0, sub.position);
    this.#store.setNewestSeen(newest);

    let position = sub.position;
    let processed = 0;
    let parked = 0;
    for (const entry of todo) {
      if (signal?.aborted) return { kind: 'aborted' };
      if (this.#apply(entry, position) === 'parked') parked++;
      else processed++;
      position = entry.position;
    }
    this.#db.transaction(() => {
      this.#store.setFeedId(doc.feedId);
      // A later 304 must mean "nothing you have not processed", so keep validators only when caught up.
      this.#store.setValidators(position >= newestInHead ? head.validators : undefined);
      this.#store.recordSuccess(this.#now().toISOString(), newest);
    }).immediate();
    return { kind: 'read', processed, parked, position, newest, ...cost };
  }

  #apply(entry: ConsumedEntry, from: number): 'processed' | 'parked' {
    if ((this.#o.onFailure ?? 'park') === 'park') {
      const waitingFor = this.#store.parkedOfOrder(entry.orderId)[0];
      if (waitingFor) {
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
