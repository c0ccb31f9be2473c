import type { Dispatcher } from 'undici';
import type { Db } from '../db/database.ts';
import { createLogger, type Logger } from '../log/logger.ts';
import type { ConsumedEntry } from './atomReader.ts';
import { ConsumerOperations, type ConsumerProgress, type ConsumerStatus, type PollState, type ReplayResult } from './consumerOperations.ts';
import { ConsumerStore, type ParkedSummary } from './consumerStore.ts';
import { EntryApplier } from './entryApplier.ts';
import { FeedFetcher, type FetchTimeouts } from './feedFetcher.ts';
import { FeedReadLoop, type PollResult, sqliteReadLoopStore } from './feedReadLoop.ts';
import { pollWithBackoff } from './pollOnce.ts';

// The consumer in three parts: this class (options, polling, backoff), the read loop
// (feedReadLoop.ts, with entryApplier.ts applying entries) and the operator API (consumerOperations.ts).
export { STATUS_PARKED_LIMIT, type ConsumerProgress, type ConsumerStatus, type ReplayResult } from './consumerOperations.ts';
export type { PollResult } from './feedReadLoop.ts';

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

/**
 * Reads one RFC 5005 archived feed into a handler, durably and exactly once per entry: the read
 * position lives in the same SQLite database as the handler's writes and moves in the same
 * transaction. Walks back with prev-archive to the last entry processed, then forward in order.
 */
export class FeedConsumer {
  readonly name: string;
  readonly #o: FeedConsumerOptions;
  readonly #store: ConsumerStore;
  readonly #fetcher: FeedFetcher;
  readonly #log: Logger;
  readonly #now: () => Date;
  readonly #state: PollState = { retryAt: undefined, failures: 0, next: undefined, totals: { polls: 0, requests: 0, bytes: 0, notModified: 0, failures: 0 } };
  readonly #loop: FeedReadLoop;
  readonly #ops: ConsumerOperations;
  #inFlight: Promise<PollResult> | undefined;

  constructor(db: Db, options: FeedConsumerOptions) {
    this.name = options.name;
    this.#o = options;
    this.#now = options.now ?? (() => new Date());
    this.#log = (options.logger ?? createLogger({}, 'silent')).child({ subscription: options.name });
    this.#store = new ConsumerStore(db, options.name);
    this.#store.ensure(options.feedUrl);
    this.#fetcher = new FeedFetcher({ dispatcher: options.dispatcher, timeouts: options.timeouts, maxBodyBytes: options.maxBodyBytes ?? 8 * 1024 * 1024, token: options.token, origin: options.feedUrl, allowedOrigins: options.allowedOrigins });
    const deps = { db, store: this.#store, log: this.#log, now: this.#now };
    this.#loop = new FeedReadLoop({ ...deps, store: sqliteReadLoopStore(db, this.#store), applier: new EntryApplier({ ...deps, options }), fetcher: this.#fetcher, options, noteNext: (next) => { this.#state.next = next; } });
    this.#ops = new ConsumerOperations({ ...deps, name: options.name, handler: options.handler, state: this.#state });
  }

  /** Polls once. A call while a poll is in flight joins that poll instead of starting another. */
  pollOnce(signal?: AbortSignal): Promise<PollResult> {
    this.#inFlight ??= this.#poll(signal).finally(() => { this.#inFlight = undefined; });
    return this.#inFlight;
  }

  /** Resolves when the poll in flight (if any) has finished. */
  async idle(): Promise<void> { await this.#inFlight?.catch(() => undefined); }

  /** Where the subscription stands, its last error, the oldest parked entries and how many are parked. */
  status(): ConsumerStatus { return this.#ops.status(); }

  /** How far it has come, cheaply: what metrics read at each scrape. */
  progress(): ConsumerProgress { return this.#ops.progress(); }

  /**
   * The parked entries, oldest first, without the entries themselves: all of them, or a page of
   * at most `limit` after position `after` (the last position of the page before).
   */
  parked(page: { readonly after?: number; readonly limit?: number } = {}): ParkedSummary[] { return this.#ops.parked(page); }

  /**
   * Runs the handler again on a parked entry and then on the entries of the same order that were
   * held behind it, in feed order, each leaving the parking lot as it succeeds. Refused for an
   * entry with an older one of its order still parked: an order's entries apply in order.
   */
  replayParked(atomId: string): ReplayResult { return this.#ops.replayParked(atomId); }

  /** Forgets the read position: the next poll reads the feed again from its oldest archive. */
  resetPosition(): void { this.#ops.resetPosition(); }

  async close(): Promise<void> {
    await this.idle();
    await this.#fetcher.close();
  }

  #poll(signal: AbortSignal | undefined): Promise<PollResult> {
    return pollWithBackoff({
      state: this.#state, log: this.#log, now: this.#now, backoff: this.#o.backoff, random: this.#o.random,
      recordFailure: (error, at) => this.#store.recordFailure(error, at),
    }, (cost) => this.#loop.read(cost, signal), signal);
  }

}
