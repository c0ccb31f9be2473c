import type { Pool } from 'pg';
import { type ConsumerProgress, type ConsumerStatus, type PollState, type ReplayResult, STATUS_PARKED_LIMIT } from '../consumer/consumerOperations.ts';
import type { ParkedSummary, SubscriptionRow } from '../consumer/consumerStore.ts';
import { errorMessage } from '../consumer/entryApplier.ts';
import type { Logger } from '../log/logger.ts';
import type { PgConsumerStore } from './pgConsumerStore.ts';
import { inPgTransaction } from './pgDatabase.ts';
import { type PgEntryHandler, savepoint } from './pgEntryApplier.ts';

export interface PgConsumerOperationsDeps {
  readonly name: string;
  readonly pool: Pool;
  readonly store: PgConsumerStore;
  readonly log: Logger;
  readonly now: () => Date;
  readonly handler: PgEntryHandler;
  readonly state: PollState;
}

/**
 * ConsumerOperations on PostgreSQL, async. `progress()` stays synchronous for metrics: it answers
 * from the row and parked count read at the last `refresh()` (after each poll and operation).
 */
export class PgConsumerOperations {
  readonly #d: PgConsumerOperationsDeps;
  #row: SubscriptionRow | undefined;
  #parkedTotal = 0;

  constructor(deps: PgConsumerOperationsDeps) { this.#d = deps; }

  /** Reads the row and the parked count progress() answers from. */
  async refresh(): Promise<void> {
    const { pool, store } = this.#d;
    [this.#row, this.#parkedTotal] = await Promise.all([store.get(pool), store.parkedCount(pool)]);
  }

  /** A poll answered 304: only the heartbeat moved. */
  noteSuccess(at: string): void {
    if (this.#row) this.#row = { ...this.#row, lastSuccessAt: at, failures: 0 };
  }

  /** A poll read pages: where it got to, as the row now says, without reading it. */
  noteRead(position: number, newestSeen: number, parked: number, at: string): void {
    if (!this.#row) return;
    this.#row = { ...this.#row, position, newestSeen: Math.max(this.#row.newestSeen, newestSeen), lastSuccessAt: at, failures: 0 };
    this.#parkedTotal += parked;
  }

  async status(): Promise<ConsumerStatus> {
    const { pool, store, state } = this.#d;
    const [row, parked, parkedTotal] = await Promise.all([store.get(pool), store.parkedSummaries(pool, 0, STATUS_PARKED_LIMIT), store.parkedCount(pool)]);
    [this.#row, this.#parkedTotal] = [row, parkedTotal];
    return {
      ...row, behind: Math.max(0, row.newestSeen - row.position), lagSeconds: this.#lagSeconds(row), retryAt: state.retryAt?.toISOString() ?? null,
      parked, parkedTotal, totals: { ...state.totals },
    };
  }

  progress(): ConsumerProgress {
    const { state } = this.#d;
    const row = this.#row;
    return {
      name: this.#d.name, position: row?.position ?? 0, newestSeen: row?.newestSeen ?? 0, behind: row ? Math.max(0, row.newestSeen - row.position) : 0,
      lagSeconds: row ? this.#lagSeconds(row) : null, lastSuccessAt: row?.lastSuccessAt ?? null, parked: this.#parkedTotal,
      polls: state.totals.polls, failures: state.totals.failures,
    };
  }

  #lagSeconds(row: SubscriptionRow): number | null {
    if (row.position >= row.newestSeen) return 0;
    const next = this.#d.state.next;
    if (next === undefined) return null;
    return Math.max(0, this.#d.now().getTime() - next.updatedMs) / 1000;
  }

  parked(page: { readonly after?: number; readonly limit?: number } = {}): Promise<ParkedSummary[]> {
    // PostgreSQL's LIMIT NULL is no limit (SQLite's is -1).
    const limit = page.limit === undefined || page.limit < 0 ? null : page.limit;
    return this.#d.store.parkedSummaries(this.#d.pool, page.after ?? 0, limit as number);
  }

  async replayParked(atomId: string): Promise<ReplayResult> {
    const { pool, store, log, handler } = this.#d;
    const p = await store.parkedOne(pool, atomId);
    if (!p) return { ok: false, reason: 'not-parked' };
    const ofOrder = await store.parkedOfOrder(pool, p.orderId);
    if (ofOrder[0]?.atomId !== atomId) return { ok: false, reason: 'earlier-entry-parked', error: `replay ${ofOrder[0]?.atomId} (position ${ofOrder[0]?.position}) first` };
    let replayed = 0;
    try {
      for (const next of ofOrder) {
        try {
          await inPgTransaction(pool, (tx) => savepoint(tx, async (sp) => { await handler(next.entry, sp); await store.unpark(tx, next.atomId); }));
          log.info('parked entry replayed', { atomId: next.atomId, position: next.position, orderId: next.orderId });
          replayed++;
        } catch (err) {
          const error = errorMessage(err);
          await store.parkFailedAgain(pool, next.atomId, error);
          return { ok: false, reason: 'handler-failed', error: replayed > 0 ? `${replayed} replayed, then ${next.atomId}: ${error}` : error };
        }
      }
      return { ok: true, replayed };
    } finally {
      await this.refresh();
    }
  }

  async resetPosition(): Promise<void> {
    const { pool, store, state } = this.#d;
    await inPgTransaction(pool, (tx) => store.reset(tx));
    state.next = undefined;
    state.retryAt = undefined;
    state.failures = 0;
    await this.refresh();
  }
}
