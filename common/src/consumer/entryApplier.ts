import type { Db } from '../db/database.ts';
import type { Logger } from '../log/logger.ts';
import type { ConsumedEntry } from './atomReader.ts';
import type { ConsumerStore } from './consumerStore.ts';
import type { FeedSubscriptionOptions } from './feedConsumer.ts';
import { FeedConsistencyError } from './readPlan.ts';

/** How far a poll has come: moves with every entry applied or parked. */
export interface ReadProgress {
  position: number;
  lastAtomId: string | null;
  processed: number;
  parked: number;
}

export interface EntryApplierDeps {
  readonly db: Db;
  readonly store: ConsumerStore;
  readonly log: Logger;
  readonly now: () => Date;
  readonly options: FeedSubscriptionOptions;
}

/** The handler threw: the feed is fine, the entry is not (yet) applicable. */
class HandlerFailed extends Error {
  override name = 'HandlerFailed';
}

/**
 * Applies entries through a subscription's handler, moving the read position in the same
 * transaction; counts a handler's failures across polls and, past `maxAttempts`, parks the entry
 * (or blocks the feed there), holding the later entries of its order behind it.
 */
export class EntryApplier {
  readonly #db: Db;
  readonly #store: ConsumerStore;
  readonly #log: Logger;
  readonly #now: () => Date;
  readonly #o: FeedSubscriptionOptions;

  constructor(deps: EntryApplierDeps) {
    this.#db = deps.db;
    this.#store = deps.store;
    this.#log = deps.log;
    this.#now = deps.now;
    this.#o = deps.options;
  }

  /**
   * Applies a page's new entries in one SQLite transaction, each entry in a savepoint of its own
   * (a handler that throws undoes only its entry): one commit a page instead of one an entry. A
   * failure commits the entries before it, then is thrown to stop the poll; `state` says how far
   * it came either way.
   */
  applyPage(todo: readonly ConsumedEntry[], state: ReadProgress): void {
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
          this.#advance(from, entry);
          this.#store.park(entry, `held behind ${waitingFor.atomId} (position ${waitingFor.position}), parked earlier for the same order`, 0, this.#now().toISOString());
        }).immediate();
        this.#log.warn('entry held behind a parked entry of its order', { atomId: entry.atomId, position: entry.position, orderId: entry.orderId, behind: waitingFor.atomId });
        return 'parked';
      }
    }
    try {
      this.#db.transaction(() => {
        this.#advance(from, entry);
        this.#o.handler(entry);
        this.#store.clearAttempts();
        this.#store.unpark(entry.atomId);
      }).immediate();
      return 'processed';
    } catch (err) {
      if (err instanceof FeedConsistencyError) throw err;
      const error = errorMessage(err);
      const attempts = this.#db.transaction(() => this.#store.bumpAttempt(entry.atomId, error)).immediate();
      const max = this.#o.maxAttempts ?? 5;
      if ((this.#o.onFailure ?? 'park') === 'park' && attempts >= max) {
        this.#db.transaction(() => {
          this.#advance(from, entry);
          this.#store.park(entry, error, attempts, this.#now().toISOString());
          this.#store.clearAttempts();
        }).immediate();
        this.#log.warn('entry parked', { atomId: entry.atomId, position: entry.position, type: entry.type, orderId: entry.orderId, attempts, error });
        return 'parked';
      }
      throw new HandlerFailed(`handler failed on ${entry.type} ${entry.atomId} (position ${entry.position}, attempt ${attempts} of ${max}${this.#o.onFailure === 'block' ? ', blocking' : ''}): ${error}`);
    }
  }

  /** Moves the read position from `from` to `entry`, or fails the poll if someone else moved it first. */
  #advance(from: number, entry: ConsumedEntry): void {
    if (!this.#store.advance(from, entry)) throw new FeedConsistencyError(`the read position of ${this.#o.name} moved under this poll (another process reading the same subscription?)`);
  }
}

/** An error's message, whatever was thrown. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
