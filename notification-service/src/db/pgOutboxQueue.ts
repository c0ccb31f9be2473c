import type { PgPool } from '@shop/common/pg';
import type { PoolClient } from 'pg';
import type { OutboxClaim, OutboxQueue } from '../mail/outboxQueue.ts';
import type { OutboxEmail } from './notificationStore.ts';
import { PG_OUTBOX_COLUMNS, PG_PENDING, type PgOutboxRow, toOutboxEmail } from './pgOutboxStore.ts';

/**
 * The order rule across instances: no earlier email of the order is pending. Stricter than
 * SQLite's (which lets an order's email go after an earlier one that is due, since its own run
 * tries that one first): here the earlier one may be in another instance's hands right now.
 */
const NO_EARLIER_PENDING = `NOT EXISTS (SELECT 1 FROM outbox e WHERE e.order_id = o.order_id AND e.id < o.id AND e.sent_at IS NULL AND e.dead_at IS NULL)`;
const DUE = `${PG_PENDING} AND (next_attempt_at IS NULL OR next_attempt_at <= $1) AND ${NO_EARLIER_PENDING}`;
/**
 * The first due email after $2: the first one never tried (in id order, on outbox_fresh) or the
 * first retry whose time has come (a range of outbox_retry_due), whichever comes first. Two
 * queries an index each, rather than one OR that reads every email waiting for a retry (a mail
 * provider deferring for hours leaves many).
 */
const CANDIDATE = `SELECT min(id) AS id FROM (
  (SELECT id FROM outbox o WHERE id > $2 AND ${PG_PENDING} AND next_attempt_at IS NULL AND ${NO_EARLIER_PENDING} ORDER BY id LIMIT 1)
  UNION ALL
  (SELECT id FROM outbox o WHERE id > $2 AND ${PG_PENDING} AND next_attempt_at <= $1 AND ${NO_EARLIER_PENDING} ORDER BY id LIMIT 1)) c`;
/** The candidate, unless another instance holds it. */
const LOCK = 'SELECT id FROM outbox WHERE id = $1 FOR UPDATE SKIP LOCKED';
/** Read again once locked, in a statement of its own and so a fresh snapshot: still due? */
const RECHECK = `SELECT ${PG_OUTBOX_COLUMNS} FROM outbox o WHERE id = $2 AND ${DUE}`;

/**
 * The outbox shared by every instance in PostgreSQL. An instance claims one email at a time by
 * locking its row (FOR UPDATE SKIP LOCKED) in a transaction that stays open while the email is
 * delivered and commits the outcome of the try; the others skip the row, and an order's later
 * emails, until then. If the instance dies before committing, its connection goes and the row
 * is pending and free again: another instance sends it once more, with the stored MIME bytes.
 */
export class PgOutboxQueue implements OutboxQueue {
  constructor(private readonly pool: PgPool) {}

  async *due(now: string): AsyncGenerator<OutboxClaim> {
    let after = 0;
    for (;;) {
      const claim = await this.claimNext(now, after);
      if (!claim) return;
      after = claim.email.id;
      yield claim;
    }
  }

  /** Locks the first email due at `now` after id `after` that no other instance holds; undefined when there is none. */
  async claimNext(now: string, after: number): Promise<OutboxClaim | undefined> {
    const connection = await ClaimConnection.open(this.pool);
    try {
      for (;;) {
        await connection.client.query('BEGIN');
        const { rows: [candidate] } = await connection.client.query<{ id: string | null }>(CANDIDATE, [now, after]);
        if (!candidate?.id) break;
        const { rows: [locked] } = await connection.client.query(LOCK, [candidate.id]);
        const { rows: [row] } = locked ? await connection.client.query<PgOutboxRow>(RECHECK, [now, candidate.id]) : { rows: [] };
        if (row) return new PgOutboxClaim(connection, toOutboxEmail(row));
        // Another instance holds it, or it was sent, given up or held back by an earlier email since the first statement.
        await connection.client.query('ROLLBACK');
        after = Number(candidate.id);
      }
    } catch (e) {
      connection.free(e);
      throw e;
    }
    await connection.end('ROLLBACK');
    return undefined;
  }

  /**
   * Gives up on every pending email queued at or before `queuedBefore`, charging none a try, but
   * not one another instance is trying right now: its try decides. Returns their ids.
   */
  async expire(queuedBefore: string, error: string, at: string): Promise<number[]> {
    const { rows } = await this.pool.query<{ id: string }>(`UPDATE outbox SET last_error = $2, dead_at = $3
      WHERE id IN (SELECT id FROM outbox WHERE ${PG_PENDING} AND created_at <= $1 FOR UPDATE SKIP LOCKED) RETURNING id`, [queuedBefore, error, at]);
    return rows.map((r) => Number(r.id)).sort((a, b) => a - b);
  }
}

/**
 * A pool client held for one claim. While it is out of the pool nothing else listens for its
 * errors: a connection cut while idle in the transaction (the server restarted, the backend was
 * terminated) would be an uncaught error; kept here, the next query fails instead.
 */
class ClaimConnection {
  #freed = false;
  readonly #onError = (): void => { /* the next query on it fails */ };
  private constructor(readonly client: PoolClient) { client.on('error', this.#onError); }

  static async open(pool: PgPool): Promise<ClaimConnection> { return new ClaimConnection(await pool.connect()); }

  /** Runs `sql` (COMMIT or ROLLBACK) and hands the client back; on failure it is discarded and the error thrown. */
  async end(sql: 'COMMIT' | 'ROLLBACK'): Promise<void> {
    try {
      await this.client.query(sql);
    } catch (e) {
      this.free(e);
      throw e;
    }
    this.free();
  }

  /** Hands the client back to the pool, or, after an error, discards it (its transaction dies with it). */
  free(error?: unknown): void {
    if (this.#freed) return;
    this.#freed = true;
    this.client.off('error', this.#onError);
    this.client.release(error === undefined ? undefined : error instanceof Error ? error : new Error(String(error)));
  }
}

class PgOutboxClaim implements OutboxClaim {
  #ended = false;
  constructor(private readonly connection: ClaimConnection, readonly email: OutboxEmail) {}

  /**
   * Not on the pool: an UPDATE of the row from another connection would wait for this claim's
   * lock, held by the transaction waiting for it. So it is stored in the claim's transaction,
   * committed (durable before the delivery, whatever happens to the try), and the row locked
   * again. In between another instance may take the email (it then sends these same bytes): if
   * the row is locked, or no longer as claimed (sent, tried: `attempts` moved), this one leaves it.
   */
  async storeRaw(raw: Buffer): Promise<Buffer | undefined> {
    const { client } = this.connection;
    const { id, attempts } = this.email;
    try {
      await client.query('UPDATE outbox SET raw = $1 WHERE id = $2 AND raw IS NULL', [raw, id]);
      await client.query('COMMIT');
      await client.query('BEGIN');
      const { rows: [row] } = await client.query<{ raw: Buffer }>(
        `SELECT raw FROM outbox WHERE id = $1 AND ${PG_PENDING} AND attempts = $2 FOR UPDATE SKIP LOCKED`, [id, attempts]);
      if (row) return row.raw;
    } catch (e) {
      this.#ended = true;
      this.connection.free(e);
      throw e;
    }
    await this.release();
    return undefined;
  }

  sent(at: string, via: string): Promise<void> {
    return this.#end('UPDATE outbox SET sent_at = $2, sent_via = $3, attempts = attempts + 1, last_error = NULL WHERE id = $1', [at, via]);
  }

  retry(error: string, nextAttemptAt: string): Promise<void> {
    return this.#end('UPDATE outbox SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3 WHERE id = $1', [error, nextAttemptAt]);
  }

  dead(error: string, at: string): Promise<void> {
    return this.#end('UPDATE outbox SET attempts = attempts + 1, last_error = $2, dead_at = $3 WHERE id = $1', [error, at]);
  }

  /** Rolls back; never throws: a connection that cannot roll back is discarded, and its transaction with it. */
  async release(): Promise<void> {
    if (this.#ended) return;
    this.#ended = true;
    await this.connection.end('ROLLBACK').catch(() => undefined);
  }

  async #end(sql: string, values: unknown[]): Promise<void> {
    if (this.#ended) throw new Error(`the claim on email ${this.email.id} has already ended`);
    this.#ended = true;
    try {
      await this.connection.client.query(sql, [this.email.id, ...values]);
    } catch (e) {
      this.connection.free(e);
      throw e;
    }
    await this.connection.end('COMMIT');
  }
}
