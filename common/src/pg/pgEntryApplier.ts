import type { Pool } from 'pg';
import type { ConsumedEntry } from '../consumer/atomReader.ts';
import { errorMessage, type ReadProgress } from '../consumer/entryApplier.ts';
import { FeedConsistencyError } from '../consumer/readPlan.ts';
import type { Logger } from '../log/logger.ts';
import type { PgConsumerStore } from './pgConsumerStore.ts';
import { inPgTransaction, isTransientDatabaseError, type PgTx } from './pgDatabase.ts';

/** Applies one entry inside the transaction that moves the read position: its writes go through `tx`. Throw to fail. */
export type PgEntryHandler = (entry: ConsumedEntry, tx: PgTx) => Promise<void>;

/** Applies a page's new entries at once, in the transaction that moves the read position past them. */
export type PgPageHandler = (entries: readonly ConsumedEntry[], tx: PgTx) => Promise<void>;

export interface PgEntryApplierOptions {
  readonly name: string;
  readonly handler: PgEntryHandler;
  /**
   * When set, a page's entries are applied by this in one go, the read position moved once, no
   * savepoint an entry: for a handler that cannot fail for one entry's sake (one that copies
   * entries elsewhere), where a failure is the database's and the whole page is tried again.
   */
  readonly pageHandler?: PgPageHandler;
  readonly onFailure?: 'park' | 'block';
  readonly maxAttempts?: number;
}

export interface PgEntryApplierDeps {
  readonly pool: Pool;
  readonly store: PgConsumerStore;
  readonly log: Logger;
  readonly now: () => Date;
  readonly options: PgEntryApplierOptions;
}

class HandlerFailed extends Error {
  override name = 'HandlerFailed';
}

/**
 * EntryApplier on PostgreSQL: a page's new entries in one transaction, each in a savepoint of its
 * own (a handler that throws undoes only its entry), the read position moved by compare-and-set
 * with each. A failure commits the entries before it (and the failure's attempt count), then is
 * thrown to stop the poll; `state` says how far it came either way.
 */
export class PgEntryApplier {
  readonly #d: PgEntryApplierDeps;

  constructor(deps: PgEntryApplierDeps) { this.#d = deps; }

  async applyPage(todo: readonly ConsumedEntry[], state: ReadProgress): Promise<void> {
    if (todo.length === 0) return;
    const page = this.#d.options.pageHandler;
    if (page) {
      const last = todo[todo.length - 1]!;
      await inPgTransaction(this.#d.pool, async (tx) => {
        await this.#advance(tx, state.position, last);
        await page(todo, tx);
      });
      state.position = last.position;
      state.lastAtomId = last.atomId;
      state.processed += todo.length;
      return;
    }
    let failure: unknown;
    // Counted locally and copied to `state` after the commit: a rerun (a conflict) starts again.
    let done = { position: state.position, lastAtomId: state.lastAtomId, processed: 0, parked: 0 };
    await inPgTransaction(this.#d.pool, async (tx) => {
      failure = undefined;
      done = { position: state.position, lastAtomId: state.lastAtomId, processed: 0, parked: 0 };
      // Usually nothing is parked or failing: then an entry needs no look for a parked predecessor
      // and nothing to clear after it (one query a page instead of three an entry).
      const pending = await this.#d.store.pending(tx);
      for (const entry of todo) {
        try {
          if (await this.#apply(tx, entry, done.position, pending) === 'parked') done.parked++;
          else done.processed++;
        } catch (err) {
          failure = err;
          return;
        }
        done.position = entry.position;
        done.lastAtomId = entry.atomId;
      }
    });
    state.position = done.position;
    state.lastAtomId = done.lastAtomId;
    state.processed += done.processed;
    state.parked += done.parked;
    if (failure !== undefined) throw failure;
  }

  async #apply(tx: PgTx, entry: ConsumedEntry, from: number, pending: { attempts: boolean; parked: boolean }): Promise<'processed' | 'parked'> {
    const { store, log, options: o } = this.#d;
    const at = (): string => this.#d.now().toISOString();
    if ((o.onFailure ?? 'park') === 'park' && pending.parked) {
      const waitingFor = (await store.parkedOfOrder(tx, entry.orderId))[0];
      if (waitingFor && waitingFor.position < entry.position) {
        await this.#advance(tx, from, entry);
        pending.parked = true;
        await store.park(tx, entry, `held behind ${waitingFor.atomId} (position ${waitingFor.position}), parked earlier for the same order`, 0, at());
        log.warn('entry held behind a parked entry of its order', { atomId: entry.atomId, position: entry.position, orderId: entry.orderId, behind: waitingFor.atomId });
        return 'parked';
      }
    }
    try {
      await savepoint(tx, async (sp) => {
        await this.#advance(tx, from, entry);
        await o.handler(entry, sp);
        if (pending.attempts || pending.parked) await store.settle(tx, entry.atomId);
      });
      return 'processed';
    } catch (err) {
      // Not the entry's fault: no attempt is charged (a deadlock with another instance's batch
      // during a handover must not park a good entry); the poll fails and is tried again.
      if (err instanceof FeedConsistencyError || isTransientDatabaseError(err)) throw err;
      const error = errorMessage(err);
      const attempts = await store.bumpAttempt(tx, entry.atomId, error);
      pending.attempts = true;
      const max = o.maxAttempts ?? 5;
      if ((o.onFailure ?? 'park') === 'park' && attempts >= max) {
        await this.#advance(tx, from, entry);
        pending.parked = true;
        await store.park(tx, entry, error, attempts, at());
        await store.clearAttempts(tx);
        log.warn('entry parked', { atomId: entry.atomId, position: entry.position, type: entry.type, orderId: entry.orderId, attempts, error });
        return 'parked';
      }
      throw new HandlerFailed(`handler failed on ${entry.type} ${entry.atomId} (position ${entry.position}, attempt ${attempts} of ${max}${o.onFailure === 'block' ? ', blocking' : ''}): ${error}`);
    }
  }

  async #advance(tx: PgTx, from: number, entry: ConsumedEntry): Promise<void> {
    if (!await this.#d.store.advance(tx, from, entry)) throw new FeedConsistencyError(`the read position of ${this.#d.options.name} moved under this poll (another instance applying the same subscription?)`);
  }
}

/**
 * Runs `fn` in a savepoint of `tx`: on a throw only its writes are undone, and the error rethrown.
 * `fn` gets `tx` with afterCommit hooks of its own, kept only if the savepoint is released.
 */
export async function savepoint<T>(tx: PgTx, fn: (sp: PgTx) => Promise<T>): Promise<T> {
  const hooks: (() => void)[] = [];
  const sp: PgTx = { client: tx.client, query: (text, values) => tx.query(text, values), afterCommit: (f) => { hooks.push(f); } };
  await tx.query('SAVEPOINT entry');
  try {
    const r = await fn(sp);
    await tx.query('RELEASE SAVEPOINT entry');
    for (const h of hooks) tx.afterCommit(h);
    return r;
  } catch (err) {
    await tx.query('ROLLBACK TO SAVEPOINT entry');
    await tx.query('RELEASE SAVEPOINT entry');
    throw err;
  }
}
