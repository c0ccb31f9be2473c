import type { Db } from '../db/database.ts';
import type { Logger } from '../log/logger.ts';
import type { ConsumedEntry } from './atomReader.ts';
import type { ConsumerStore, ParkedSummary, SubscriptionRow } from './consumerStore.ts';
import { errorMessage } from './entryApplier.ts';
import type { NextEntry } from './feedReadLoop.ts';

/** How many parked entries status() lists: a status page stays small however many are parked. */
export const STATUS_PARKED_LIMIT = 100;

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

/** What a consumer knows beyond its database row, for as long as the process runs: its poll loop writes it, operators read it. */
export interface PollState {
  /** Set while backing off after a failed poll. */
  retryAt: Date | undefined;
  /** Failed polls in a row. */
  failures: number;
  /** The entry after the read position as last seen on a page, which the lag in seconds is measured from. */
  next: NextEntry | undefined;
  readonly totals: { polls: number; requests: number; bytes: number; notModified: number; failures: number };
}

export interface ConsumerOperationsDeps {
  readonly name: string;
  readonly db: Db;
  readonly store: ConsumerStore;
  readonly log: Logger;
  readonly now: () => Date;
  readonly handler: (entry: ConsumedEntry) => void;
  readonly state: PollState;
}

/** A subscription's operator API: where it stands, what is parked, replaying an entry, starting over. */
export class ConsumerOperations {
  readonly #d: ConsumerOperationsDeps;

  constructor(deps: ConsumerOperationsDeps) { this.#d = deps; }

  status(): ConsumerStatus {
    const { store, state } = this.#d;
    const row = store.get();
    return {
      ...row, behind: Math.max(0, row.newestSeen - row.position), lagSeconds: this.#lagSeconds(row), retryAt: state.retryAt?.toISOString() ?? null,
      parked: store.parkedSummaries(0, STATUS_PARKED_LIMIT), parkedTotal: store.parkedCount(), totals: { ...state.totals },
    };
  }

  progress(): ConsumerProgress {
    const { store, state } = this.#d;
    const row = store.get();
    return {
      name: this.#d.name, position: row.position, newestSeen: row.newestSeen, behind: Math.max(0, row.newestSeen - row.position),
      lagSeconds: this.#lagSeconds(row), lastSuccessAt: row.lastSuccessAt, parked: store.parkedCount(),
      polls: state.totals.polls, failures: state.totals.failures,
    };
  }

  #lagSeconds(row: SubscriptionRow): number | null {
    if (row.position >= row.newestSeen) return 0;
    const next = this.#d.state.next;
    if (next === undefined) return null;
    return Math.max(0, this.#d.now().getTime() - next.updatedMs) / 1000;
  }

  /** See FeedConsumer.parked. */
  parked(page: { readonly after?: number; readonly limit?: number } = {}): ParkedSummary[] {
    return this.#d.store.parkedSummaries(page.after ?? 0, page.limit ?? -1);
  }

  /** See FeedConsumer.replayParked. */
  replayParked(atomId: string): ReplayResult {
    const { db, store, log, handler } = this.#d;
    const p = store.parkedOne(atomId);
    if (!p) return { ok: false, reason: 'not-parked' };
    const ofOrder = store.parkedOfOrder(p.orderId);
    if (ofOrder[0]?.atomId !== atomId) return { ok: false, reason: 'earlier-entry-parked', error: `replay ${ofOrder[0]?.atomId} (position ${ofOrder[0]?.position}) first` };
    let replayed = 0;
    for (const next of ofOrder) {
      try {
        db.transaction(() => { handler(next.entry); store.unpark(next.atomId); }).immediate();
        log.info('parked entry replayed', { atomId: next.atomId, position: next.position, orderId: next.orderId });
        replayed++;
      } catch (err) {
        const error = errorMessage(err);
        store.parkFailedAgain(next.atomId, error);
        return { ok: false, reason: 'handler-failed', error: replayed > 0 ? `${replayed} replayed, then ${next.atomId}: ${error}` : error };
      }
    }
    return { ok: true, replayed };
  }

  /** See FeedConsumer.resetPosition. */
  resetPosition(): void {
    const { db, store, state } = this.#d;
    db.transaction(() => store.reset()).immediate();
    state.next = undefined;
    state.retryAt = undefined;
    state.failures = 0;
  }
}
