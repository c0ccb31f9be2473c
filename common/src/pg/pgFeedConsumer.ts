import type { Pool } from 'pg';
import type { ConsumedEntry } from '../consumer/atomReader.ts';
import type { ConsumerProgress, ConsumerStatus, PollState, ReplayResult } from '../consumer/consumerOperations.ts';
import type { ParkedSummary } from '../consumer/consumerStore.ts';
import type { FeedConsumerOptions } from '../consumer/feedConsumer.ts';
import { FeedFetcher } from '../consumer/feedFetcher.ts';
import { FeedReadLoop, type PollResult, type ReadLoopStore } from '../consumer/feedReadLoop.ts';
import { pollWithBackoff } from '../consumer/pollOnce.ts';
import { createLogger, type Logger } from '../log/logger.ts';
import { PgConsumerOperations } from './pgConsumerOperations.ts';
import { PgConsumerStore } from './pgConsumerStore.ts';
import { inPgTransaction } from './pgDatabase.ts';
import { PgEntryApplier, type PgEntryHandler, type PgPageHandler } from './pgEntryApplier.ts';
import { PgLeadership, type PgLeadershipOptions } from './pgLeadership.ts';

export interface PgFeedConsumerOptions extends Omit<FeedConsumerOptions, 'handler'> {
  /**
   * Applies one entry, in the PostgreSQL transaction that also moves the read position (one a
   * page, a savepoint an entry): every write goes through `tx`, so it commits with the position.
   */
  readonly handler: PgEntryHandler;
  /** Applies a page at once instead (see PgEntryApplierOptions.pageHandler); `handler` still replays a parked entry. */
  readonly pageHandler?: PgPageHandler;
  /**
   * Who applies the subscription among the service's instances: the holder of the advisory lock
   * `<service>:<name>` (PgLeadership, on a session of its own). Without it this instance always
   * applies (a single instance, the command line); the read position's compare-and-set still
   * keeps two appliers from applying an entry twice.
   */
  readonly leadership?: { readonly connectionString: string; readonly service: string; readonly retryMs?: number; readonly share?: PgLeadershipOptions['share'] };
  /**
   * Where the read loop's bookkeeping goes (the page and walk cursors, newest seen, validators,
   * last success or error): best a pool opened with `synchronousCommit: false`, so a poll waits
   * for one WAL flush (its page's entries and position) instead of three. A crash can lose only
   * bookkeeping written after the last durable commit, and every such loss is safe: an older page
   * cursor is read again past the position, a lost walk starts again, a lost validator refetches.
   * Default: `pool`.
   */
  readonly bookkeepingPool?: Pool;
}

/** ConsumerStatus, and whether this instance applies the subscription now. */
export interface PgConsumerStatus extends ConsumerStatus {
  readonly leader: boolean;
}

/**
 * FeedConsumer on PostgreSQL: the same read loop (walk back, read forward, one page in memory,
 * the page and walk cursors, parking, replay, reset), the read position in PostgreSQL and moved
 * in the transaction that runs the async handler. Only the instance that leads the subscription
 * polls; the others answer `following` until they lead.
 */
export class PgFeedConsumer {
  readonly name: string;
  readonly #o: PgFeedConsumerOptions;
  readonly #pool: Pool;
  readonly #store: PgConsumerStore;
  readonly #fetcher: FeedFetcher;
  readonly #log: Logger;
  readonly #now: () => Date;
  readonly #state: PollState = { retryAt: undefined, failures: 0, next: undefined, totals: { polls: 0, requests: 0, bytes: 0, notModified: 0, failures: 0 } };
  readonly #loop: FeedReadLoop;
  readonly #ops: PgConsumerOperations;
  readonly #leadership: PgLeadership | undefined;
  #ready: Promise<void> | undefined;
  #inFlight: Promise<PollResult> | undefined;

  constructor(pool: Pool, options: PgFeedConsumerOptions) {
    this.name = options.name;
    this.#o = options;
    this.#pool = pool;
    this.#now = options.now ?? (() => new Date());
    this.#log = (options.logger ?? createLogger({}, 'silent')).child({ subscription: options.name });
    this.#store = new PgConsumerStore(options.name);
    this.#fetcher = new FeedFetcher({ dispatcher: options.dispatcher, timeouts: options.timeouts, maxBodyBytes: options.maxBodyBytes ?? 8 * 1024 * 1024, token: options.token, origin: options.feedUrl, allowedOrigins: options.allowedOrigins });
    const deps = { pool, store: this.#store, log: this.#log, now: this.#now };
    this.#loop = new FeedReadLoop({
      store: pgReadLoopStore(pool, this.#store, options.bookkeepingPool),
      applier: new PgEntryApplier({ ...deps, options }),
      fetcher: this.#fetcher, log: this.#log, now: this.#now, options,
      noteNext: (next) => { this.#state.next = next; },
    });
    this.#ops = new PgConsumerOperations({ ...deps, name: options.name, handler: options.handler, state: this.#state });
    const l = options.leadership;
    this.#leadership = l && new PgLeadership({
      connectionString: l.connectionString, name: `${l.service}:${options.name}`, retryMs: l.retryMs, share: l.share,
      onChange: (leader) => this.#log.info(leader ? 'leading the subscription' : 'no longer leading the subscription', { leadership: `${l.service}:${options.name}` }),
      onError: (e) => this.#log.warn('leadership session failed', { error: e.message }),
    });
  }

  /** Records the subscription (once) and reads its state; every other method waits for it. */
  ready(): Promise<void> {
    this.#ready ??= (async () => {
      await this.#store.ensure(this.#pool, this.#o.feedUrl);
      await this.#ops.refresh();
    })();
    return this.#ready;
  }

  /** Starts trying to lead the subscription (a no-op without `leadership`). */
  async startLeading(): Promise<void> {
    await this.ready();
    await this.#leadership?.start();
  }

  /** True when this instance applies the subscription now (always, without `leadership`). */
  get isLeader(): boolean { return this.#leadership ? this.#leadership.isLeader : true; }

  /** Resolves true once this instance leads, false if leadership stopped or `signal` aborted first. */
  whenLeader(signal?: AbortSignal): Promise<boolean> {
    return this.#leadership ? this.#leadership.whenLeader(signal) : Promise.resolve(true);
  }

  /** Polls once if this instance leads; a call while a poll is in flight joins it. */
  pollOnce(signal?: AbortSignal): Promise<PollResult> {
    this.#inFlight ??= this.#poll(signal).finally(() => { this.#inFlight = undefined; });
    return this.#inFlight;
  }

  async idle(): Promise<void> { await this.#inFlight?.catch(() => undefined); }

  async status(): Promise<PgConsumerStatus> {
    await this.ready();
    return { ...await this.#ops.status(), leader: this.isLeader };
  }

  /** As of the last poll or operation (synchronous, for metrics). */
  progress(): ConsumerProgress { return this.#ops.progress(); }

  async parked(page: { readonly after?: number; readonly limit?: number } = {}): Promise<ParkedSummary[]> { await this.ready(); return this.#ops.parked(page); }
  async replayParked(atomId: string): Promise<ReplayResult> { await this.ready(); return this.#ops.replayParked(atomId); }
  async resetPosition(): Promise<void> { await this.ready(); await this.#ops.resetPosition(); }

  /** Stops leading (another instance takes over at its next try), lets the poll in flight finish. */
  async close(): Promise<void> {
    await this.idle();
    await this.#leadership?.stop();
    await this.#fetcher.close();
  }

  async #poll(signal: AbortSignal | undefined): Promise<PollResult> {
    await this.ready();
    if (!this.isLeader) return { kind: 'following', retryAt: new Date(this.#now().getTime() + (this.#o.leadership?.retryMs ?? 1000)).toISOString() };
    let last: PollResult | undefined;
    try {
      last = await pollWithBackoff({
        state: this.#state, log: this.#log, now: this.#now, backoff: this.#o.backoff, random: this.#o.random,
        recordFailure: (error, at) => this.#store.recordFailure(this.#o.bookkeepingPool ?? this.#pool, error, at).catch(() => undefined),
      }, (cost) => this.#loop.read(cost, signal), signal);
      return last;
    } finally {
      // What a poll that did not fail changed is known here: no need to read the row again.
      if (last?.kind === 'not-modified') this.#ops.noteSuccess(this.#now().toISOString());
      else if (last?.kind === 'read') this.#ops.noteRead(last.position, last.newest, last.parked, this.#now().toISOString());
      else if (last?.kind !== 'backing-off') await this.#ops.refresh().catch(() => undefined);
    }
  }
}

/**
 * The ReadLoopStore of a PostgreSQL subscription: where it starts, on `pool` (durable); the
 * bookkeeping on `light` (see PgFeedConsumerOptions.bookkeepingPool).
 */
export function pgReadLoopStore(pool: Pool, store: PgConsumerStore, light: Pool = pool): ReadLoopStore {
  return {
    get: () => store.get(light),
    setFeedId: (feedId) => store.setFeedId(pool, feedId),
    setPage: (url) => store.setPage(light, url),
    setWalk: (url) => store.setWalk(light, url),
    // Not waited for: only metrics read it, and it only ever rises (GREATEST), in whatever order it lands.
    setNewestSeen: (n) => { store.raiseNewestSeen(light, n).catch(() => undefined); },
    recordSuccess: (at, newestSeen) => store.recordSuccess(light, at, newestSeen),
    startAtNow: (last: ConsumedEntry | undefined, feedId, validators, at, newestSeen) => inPgTransaction(pool, async (tx) => {
      if (last) await store.advance(tx, 0, last);
      await store.setFeedId(tx, feedId);
      await store.setPage(tx, null);
      await store.setValidators(tx, validators);
      await store.recordSuccess(tx, at, newestSeen);
    }),
    finishRead: (validators, at, newestSeen) => store.finishRead(light, validators, at, newestSeen),
  };
}
