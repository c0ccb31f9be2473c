import type { OutboxEmail } from '../db/notificationStore.ts';

/**
 * The outbox as the sender sees it, whatever keeps it: SQLite for one instance
 * (SqliteOutboxQueue), PostgreSQL shared by several (PgOutboxQueue).
 */
export interface OutboxQueue {
  /**
   * One delivery run at `now`: the emails due, claimed one at a time in outbox order, each only
   * when the previous one was ended (sent, retry, dead or release), and never an email while an
   * earlier one of its order waits for its next try. The run's own state (where it is, which
   * orders wait) lives in the iteration, so each run starts afresh.
   */
  due(now: string): AsyncIterable<OutboxClaim>;
  /** Gives up on every pending email queued at or before `queuedBefore`, charging none a try; returns their ids. */
  expire(queuedBefore: string, error: string, at: string): Promise<number[]>;
}

/** One email taken for one try: end it exactly once, with sent, retry, dead or release. */
export interface OutboxClaim {
  readonly email: OutboxEmail;
  /**
   * Stores the first MIME rendering, durably, before it is delivered (so a try that is lost
   * after delivering resends the same bytes), and returns what is stored. Undefined: while
   * storing it the email was taken by another sender; this one must leave it (and end nothing).
   */
  storeRaw(raw: Buffer): Promise<Buffer | undefined>;
  sent(at: string, via: string): Promise<void>;
  /** A failed try, to be tried again at `nextAttemptAt`. */
  retry(error: string, nextAttemptAt: string): Promise<void>;
  /** A failed try after which the email is given up on. */
  dead(error: string, at: string): Promise<void>;
  /** Nothing changed (the mail server could not be reached): the email keeps its turn. A no-op once ended. */
  release(): Promise<void>;
}
