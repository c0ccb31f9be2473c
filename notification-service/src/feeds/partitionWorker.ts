import { setTimeout as sleep } from 'node:timers/promises';
import { FeedConsistencyError, type Logger } from '@shop/common';
import { PgConsumerStore, PgEntryApplier, type PgEntryHandler, type PgPageHandler, type PgPool } from '@shop/common/pg';
import type { PgNotificationStore } from '../db/pgNotificationStore.ts';

/** The channel the feeds' readers notify when they hand entries to a partition (payload: `<partition>:<feed>`). */
export const INBOX_CHANNEL = 'notification_inbox';

/**
 * The handlers of a feed's own subscription on PostgreSQL: hand each entry to its order's
 * partition (the inbox), a page in one statement, in the transaction that moves the feed's read
 * position, and tell the instances which partitions got entries once it commits. One instance
 * reads each feed (the subscription's leader). `handler` takes one entry (a replay).
 */
export function inboxHandlers(store: PgNotificationStore, subscription: string, partitionOf: (orderId: string) => number): { handler: PgEntryHandler; pageHandler: PgPageHandler } {
  const pageHandler: PgPageHandler = async (entries, tx) => {
    const partitions = entries.map((e) => partitionOf(e.orderId));
    await store.addToInbox(tx, subscription, partitions, entries);
    for (const p of new Set(partitions)) await tx.query('SELECT pg_notify($1, $2)', [INBOX_CHANNEL, `${p}:${subscription}`]);
  };
  return { handler: (entry, tx) => pageHandler([entry], tx), pageHandler };
}

/** How far (in feed positions) a busy partition applies before it deletes the inbox rows it applied. */
const CLEAR_EVERY = 2_000;

/** What a partition's read positions in a feed's inbox record as their feed: `inbox:orders`. */
export function inboxUrl(subscription: string): string {
  return `inbox:${subscription}`;
}

/** The name of a partition's read position in a feed's inbox: `orders@3`. */
export function partitionSubscription(subscription: string, partition: number): string {
  return `${subscription}@${partition}`;
}

export interface PartitionWorkerOptions {
  readonly partition: number;
  readonly subscriptions: readonly string[];
  readonly pool: PgPool;
  readonly store: PgNotificationStore;
  readonly handler: PgEntryHandler;
  /** Re-decides the partition's orders waiting on a part. */
  readonly checkWaiting: (partition: number) => Promise<number>;
  readonly logger: Logger;
  readonly now: () => Date;
  readonly maxAttempts: number;
  readonly backoff: { readonly baseMs: number; readonly maxMs: number };
  /** The pause when there is nothing to do (a notification wakes it sooner). */
  readonly idleMs: number;
  /** Entries applied in one transaction (default 200). */
  readonly batch?: number;
}

interface Lane {
  readonly subscription: string;
  readonly store: PgConsumerStore;
  readonly applier: PgEntryApplier;
  position: number;
  lastAtomId: string | null;
  /** Entries may be waiting: a notification came, or the last batch was full. */
  due: boolean;
  /** The inbox rows up to here are deleted (done when the worker is about to pause, not after every batch). */
  cleared: number;
  failures: number;
  retryAt: number;
  lastError: string | null;
}

/** What /status shows of a partition this instance works on. */
export interface PartitionWork {
  readonly partition: number;
  readonly positions: Record<string, number>;
  readonly lastError: string | null;
  readonly failures: number;
}

/**
 * Works one partition while this instance owns it: applies its inbox entries of each feed, in
 * feed order, through common's PgEntryApplier (a transaction a batch, a savepoint an entry, the
 * partition's read position moved by compare-and-set with each, a poison entry parked), then
 * re-decides its waiting orders. The feeds are applied one after another, never at once, so an
 * order's entries are applied one at a time. stop() lets the batch in flight finish.
 */
export class PartitionWorker {
  readonly #o: PartitionWorkerOptions;
  readonly #log: Logger;
  readonly #lanes: Lane[];
  readonly #abort = new AbortController();
  #wake: (() => void) | undefined;
  #woken = false;
  #reload = true;
  #failure: { at: string; error: string; count: number } | null = null;
  #running: Promise<void> | undefined;

  constructor(o: PartitionWorkerOptions) {
    this.#o = o;
    this.#log = o.logger.child({ partition: o.partition });
    this.#lanes = o.subscriptions.map((subscription) => {
      const store = new PgConsumerStore(partitionSubscription(subscription, o.partition));
      const applier = new PgEntryApplier({ pool: o.pool, store, log: this.#log.child({ subscription }), now: o.now, options: { name: store.name, handler: o.handler, onFailure: 'park', maxAttempts: o.maxAttempts } });
      return { subscription, store, applier, position: 0, lastAtomId: null, due: true, cleared: 0, failures: 0, retryAt: 0, lastError: null };
    });
  }

  get partition(): number { return this.#o.partition; }

  start(): void {
    this.#running ??= this.#run();
  }

  /** Entries of `subscription` (of every feed, when not named) may be waiting: look now rather than after the pause. */
  wake(subscription?: string): void {
    for (const lane of this.#lanes) if (subscription === undefined || lane.subscription === subscription) lane.due = true;
    this.#woken = true;
    this.#wake?.();
  }

  /** Starts no new batch from now on (the one in flight finishes); `stop()` waits for it. */
  halt(): void {
    this.#abort.abort();
    this.#wake?.();
  }

  /** Stops once the batch in flight is committed (or rolled back). */
  async stop(): Promise<void> {
    this.halt();
    await this.#running;
  }

  status(): PartitionWork {
    return {
      partition: this.#o.partition,
      positions: Object.fromEntries(this.#lanes.map((l) => [l.subscription, l.position])),
      lastError: this.#failure?.error ?? this.#lanes.map((l) => l.lastError).find((e) => e !== null) ?? null,
      failures: (this.#failure?.count ?? 0) + this.#lanes.reduce((n, l) => n + l.failures, 0),
    };
  }

  /**
   * Every lane's positions are read again before the next batch: a `reset` (or another instance
   * that owned the partition) moved them in the database.
   */
  reload(): void {
    this.#reload = true;
    this.wake();
  }

  async #run(): Promise<void> {
    this.#reload = true;
    let checkedAt = 0;
    while (!this.#abort.signal.aborted) {
      this.#woken = false;
      let more = false;
      // Nothing here may end the loop but stop(): a failed query (a failover, a killed backend,
      // no free connection) is retried after a backoff, while this instance keeps the partition.
      try {
        if (this.#reload) {
          this.#reload = false;
          for (const lane of this.#lanes) { await this.#load(lane, this.#o.pool); lane.due = true; }
        }
        for (const lane of this.#lanes) {
          if (this.#abort.signal.aborted) return;
          // A lane backing off after a failure waits for its time (it stays due).
          if (!lane.due || Date.now() < lane.retryAt) continue;
          // Cleared first: a notification during the drain sets it again, and is not lost.
          lane.due = false;
          if (await this.#drain(lane)) lane.due = true;
          if (lane.due) more = true;
        }
        if (this.#abort.signal.aborted) return;
        // The missing-part deadlines are minutes apart: a look per pause is plenty, not one per batch.
        if (Date.now() - checkedAt >= this.#o.idleMs) {
          checkedAt = Date.now();
          await this.#o.checkWaiting(this.#o.partition);
        }
        if (!more && !this.#woken) {
          for (const lane of this.#lanes) {
            if (lane.cleared >= lane.position) continue;
            await this.#o.store.clearInbox(lane.subscription, this.#o.partition, lane.position, lane.store.name);
            lane.cleared = lane.position;
          }
        }
        this.#failure = null;
      } catch (err) {
        this.#reload = true;
        this.#failure = { at: this.#o.now().toISOString(), error: err instanceof Error ? err.message : String(err), count: (this.#failure?.count ?? 0) + 1 };
        this.#log.error('partition work failed; will retry', { err, failures: this.#failure.count });
        // At least 100 ms: with RETRY_BASE_MS=0 a database that is down would otherwise be asked in a tight loop.
        await this.#pause(Math.max(100, this.#backoffMs(this.#failure.count)));
        continue;
      }
      if (!more && !this.#woken) {
        await this.#pause(this.#o.idleMs);
        // After a quiet pause every feed is looked at once (a notification may have been missed).
        if (!this.#woken) for (const lane of this.#lanes) lane.due = true;
      }
    }
  }

  async #load(lane: Lane, pool: PgPool): Promise<void> {
    await lane.store.ensure(pool, inboxUrl(lane.subscription));
    const row = await lane.store.get(pool);
    lane.position = row.position;
    lane.lastAtomId = row.lastAtomId;
    lane.cleared = Math.min(lane.cleared, row.position);
  }

  /** Applies one batch of the lane; true when there may be more at once. */
  async #drain(lane: Lane): Promise<boolean> {
    const { store, partition } = this.#o;
    const batch = this.#o.batch ?? 200;
    const todo = await store.inbox(lane.subscription, partition, lane.position, batch);
    if (todo.length === 0) return false;
    const progress = { position: lane.position, lastAtomId: lane.lastAtomId, processed: 0, parked: 0 };
    try {
      await lane.applier.applyPage(todo, progress);
      lane.failures = 0;
      lane.lastError = null;
    } catch (err) {
      if (err instanceof FeedConsistencyError) {
        // Another instance moved this position (it owned the partition a moment ago): go on from where it is.
        this.#log.warn('partition position moved by another instance; reading it again', { subscription: lane.subscription });
        this.#reload = true;
        return true;
      }
      lane.failures++;
      lane.lastError = err instanceof Error ? err.message : String(err);
      lane.retryAt = Date.now() + this.#backoffMs(lane.failures);
      this.#log.warn('partition apply failed; will retry', { subscription: lane.subscription, failures: lane.failures, error: lane.lastError });
    }
    const moved = progress.position !== lane.position;
    lane.position = progress.position;
    lane.lastAtomId = progress.lastAtomId;
    // During a long catch-up the partition is never idle: the applied rows go every few batches
    // too, so the inbox holds the backlog still to apply, not all that was ever handed over.
    if (lane.position - lane.cleared >= CLEAR_EVERY) {
      await store.clearInbox(lane.subscription, partition, lane.position, lane.store.name);
      lane.cleared = lane.position;
    }
    return moved && todo.length === batch;
  }

  /** The wait after `failures` failures in a row: RETRY_BASE_MS doubling, up to RETRY_MAX_MS. */
  #backoffMs(failures: number): number {
    const { baseMs, maxMs } = this.#o.backoff;
    return Math.min(maxMs, baseMs * 2 ** (failures - 1));
  }

  async #pause(ms: number): Promise<void> {
    if (this.#abort.signal.aborted) return;
    const done = new AbortController();
    this.#wake = () => done.abort();
    const stop = () => done.abort();
    this.#abort.signal.addEventListener('abort', stop, { once: true });
    await sleep(ms, undefined, { signal: done.signal }).catch(() => undefined);
    this.#abort.signal.removeEventListener('abort', stop);
    this.#wake = undefined;
  }
}
