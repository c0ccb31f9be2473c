import type { PgQueryable } from '@shop/common/pg';
import type { NewEmail, OutboxEmail } from './notificationStore.ts';

/** An outbox row as the columns below read it: int8 arrives as a string. */
export type PgOutboxRow = Omit<OutboxEmail, 'id'> & { readonly id: string };

export const PG_OUTBOX_COLUMNS = `id, key, order_id AS "orderId", kind, to_name AS "toName", to_address AS "toAddress", subject, html, text,
  message_id AS "messageId", created_at AS "createdAt", raw, attempts, last_error AS "lastError", sent_at AS "sentAt", sent_via AS "sentVia",
  next_attempt_at AS "nextAttemptAt", dead_at AS "deadAt", template_version AS "templateVersion", template_data AS "templateData"`;
/** Neither sent nor given up on. */
export const PG_PENDING = 'sent_at IS NULL AND dead_at IS NULL';

export function toOutboxEmail(row: PgOutboxRow): OutboxEmail {
  return { ...row, id: Number(row.id) };
}

const REQUEUE = 'SET dead_at = NULL, next_attempt_at = NULL, attempts = 0, last_error = NULL';

/**
 * The shared PostgreSQL outbox as the status pages, the metrics and the command line see it:
 * NotificationStore's outbox reads and commands, async, with the same shapes. Queuing takes the
 * caller's transaction (the one that saves the decision); the rest run on the pool.
 */
export class PgOutboxStore {
  constructor(private readonly pool: PgQueryable) {}

  /** Queues an email in `q`'s transaction; a second email with the same key is ignored (false). */
  async enqueue(q: PgQueryable, email: NewEmail & { readonly partition: number; readonly raw?: Buffer }): Promise<boolean> {
    const r = await q.query(`INSERT INTO outbox (key, order_id, partition, kind, to_name, to_address, subject, html, text, message_id, created_at, template_version, template_data, raw)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT (key) DO NOTHING`,
    [email.key, email.orderId, email.partition, email.kind, email.toName, email.toAddress, email.subject, email.html, email.text,
      email.messageId, email.createdAt, email.templateVersion ?? null, email.templateData ?? null, email.raw ?? null]);
    return r.rowCount === 1;
  }

  async email(id: number): Promise<OutboxEmail | undefined> { return (await this.#emails('WHERE id = $1', [id]))[0]; }
  /** The email with this key (`order-<id>-<kind>`): what its "view in your browser" link shows. */
  async emailByKey(key: string): Promise<OutboxEmail | undefined> { return (await this.#emails('WHERE key = $1', [key]))[0]; }
  async list(limit = 200): Promise<OutboxEmail[]> { return this.#emails('ORDER BY id DESC LIMIT $1', [limit]); }
  /** Pending emails whose last try failed, oldest first. */
  async retrying(limit = 100): Promise<OutboxEmail[]> { return this.#emails(`WHERE ${PG_PENDING} AND last_error IS NOT NULL ORDER BY id LIMIT $1`, [limit]); }
  /** The dead letters, oldest first. */
  /** The dead letters, oldest first; `limit` -1: all of them (as NotificationStore.dead). */
  async dead(limit = 100): Promise<OutboxEmail[]> { return this.#emails('WHERE dead_at IS NOT NULL ORDER BY id LIMIT $1', [limit < 0 ? null : limit]); }

  /**
   * Makes an unsent email (a dead letter, or one waiting for its next try) due now with a fresh
   * count of tries; false when there is no such unsent email. Its stored MIME bytes, and so its
   * Message-ID, stay as they were. Waits for an instance trying it right now to finish its try.
   */
  async requeue(id: number): Promise<boolean> {
    return (await this.pool.query(`UPDATE outbox ${REQUEUE} WHERE id = $1 AND sent_at IS NULL`, [id])).rowCount === 1;
  }

  /** Requeues every dead letter; returns their ids. */
  async requeueDead(): Promise<number[]> {
    const { rows } = await this.pool.query<{ id: string }>(`UPDATE outbox ${REQUEUE} WHERE dead_at IS NOT NULL RETURNING id`);
    return rows.map((r) => Number(r.id)).sort((a, b) => a - b);
  }

  async counts(): Promise<{ total: number; unsent: number }> {
    const { sent, unsent } = await this.#states();
    return { total: sent + unsent, unsent };
  }

  /**
   * The outbox by state: `queued` (not tried yet), `failed` (the last try failed; it is tried
   * again at its next attempt time), `sent`, `dead` (given up on); and when the oldest email
   * still to be sent (dead letters aside) was queued.
   */
  async outboxStates(): Promise<{ queued: number; failed: number; sent: number; dead: number; oldestUnsentAt: string | null }> {
    const { sent, queued, failed, dead, oldest } = await this.#states();
    return { queued, failed, sent, dead, oldestUnsentAt: oldest };
  }

  async #emails(where: string, values: unknown[]): Promise<OutboxEmail[]> {
    const { rows } = await this.pool.query<PgOutboxRow>(`SELECT ${PG_OUTBOX_COLUMNS} FROM outbox ${where}`, values);
    return rows.map(toOutboxEmail);
  }

  /** One statement, so the counts agree: the sent count is kept by a trigger, the unsent ones counted from outbox_unsent. */
  async #states(): Promise<{ sent: number; unsent: number; queued: number; failed: number; dead: number; oldest: string | null }> {
    const { rows: [r] } = await this.pool.query<Record<'sent' | 'unsent' | 'queued' | 'failed' | 'dead', string> & { oldest: string | null }>(
      `SELECT (SELECT sent FROM outbox_sent_count) AS sent, count(*) AS unsent,
        count(*) FILTER (WHERE dead_at IS NULL AND last_error IS NULL) AS queued, count(*) FILTER (WHERE dead_at IS NULL AND last_error IS NOT NULL) AS failed,
        count(*) FILTER (WHERE dead_at IS NOT NULL) AS dead, min(created_at) FILTER (WHERE dead_at IS NULL) AS oldest
      FROM outbox WHERE sent_at IS NULL`);
    return { sent: Number(r!.sent), unsent: Number(r!.unsent), queued: Number(r!.queued), failed: Number(r!.failed), dead: Number(r!.dead), oldest: r!.oldest };
  }
}
