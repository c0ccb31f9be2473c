import { randomBytes } from 'node:crypto';
import type { ConsumedEntry, ParkedSummary } from '@shop/common';
import { inPgTransaction, type PgPool, type PgQueryable } from '@shop/common/pg';
import { initialState, isWaiting, type NotificationState } from '../domain/policy.ts';

/** The channel a `reset` notifies (payload: the feed): the partitions read their positions again. */
export const RESET_CHANNEL = 'notification_reset';

/**
 * The policy's state per order and the inbox on PostgreSQL, shared by every instance. An order's
 * state is read with its row locked until the transaction ends, so two transactions applying
 * entries of one order (during a partition's handover) apply them one after the other.
 */
export class PgNotificationStore {
  /**
   * `light`: a pool that does not wait for the WAL flush, for deletes a crash may undo harmlessly
   * (the inbox rows a partition has applied: never read again, and the next delete takes them).
   */
  constructor(readonly pool: PgPool, private readonly light: PgPool = pool) {}

  /** The order's state, its row locked by `tx` (created first if new, so there is a row to lock). */
  async lockState(tx: PgQueryable, orderId: string, partition: number, at: string): Promise<NotificationState> {
    // One statement: a new order's row is made, an existing one is locked (the no-op update) and read.
    const row = (await tx.query<{ state: string }>(`INSERT INTO order_notifications (order_id, partition, state, waiting, updated_at) VALUES ($1, $2, $3, false, $4)
      ON CONFLICT (order_id) DO UPDATE SET order_id = excluded.order_id RETURNING state`, [orderId, partition, JSON.stringify(initialState(orderId)), at])).rows[0]!;
    return JSON.parse(row.state) as NotificationState;
  }

  /** Saves the state, with when it is next due for a decision of its own (`dueAt`; null: never). */
  async save(tx: PgQueryable, s: NotificationState, at: string, dueAt: string | null): Promise<void> {
    await tx.query('UPDATE order_notifications SET state = $2, waiting = $3, updated_at = $4, due_at = $5 WHERE order_id = $1', [s.orderId, JSON.stringify(s), isWaiting(s), at, dueAt]);
  }

  /** Corrects when an order is next due (one the periodic check found not due after all). */
  async setDueAt(tx: PgQueryable, orderId: string, dueAt: string | null): Promise<void> {
    await tx.query('UPDATE order_notifications SET due_at = $2 WHERE order_id = $1', [orderId, dueAt]);
  }

  /**
   * The partition's orders whose missing-part deadline has come by `now`, oldest deadline first,
   * at most `limit`, their rows locked by `tx` (rows another transaction holds are skipped).
   */
  async lockDue(tx: PgQueryable, partition: number, now: string, limit: number): Promise<NotificationState[]> {
    const r = await tx.query<{ state: string }>('SELECT state FROM order_notifications WHERE partition = $1 AND due_at <= $2 ORDER BY due_at LIMIT $3 FOR UPDATE SKIP LOCKED', [partition, now, limit]);
    return r.rows.map((row) => JSON.parse(row.state) as NotificationState);
  }

  /** Up to `limit` orders waiting for a part, of every partition (for /status). */
  async waiting(limit = 200): Promise<NotificationState[]> {
    const r = await this.pool.query<{ state: string }>('SELECT state FROM order_notifications WHERE waiting ORDER BY order_id LIMIT $1', [limit]);
    return r.rows.map((row) => JSON.parse(row.state) as NotificationState);
  }

  /** Hands feed entries to their orders' partitions (`partitions[i]` is `entries[i]`'s), in one statement of the transaction that moves the feed's read position. */
  async addToInbox(tx: PgQueryable, subscription: string, partitions: readonly number[], entries: readonly ConsumedEntry[]): Promise<void> {
    await tx.query(`INSERT INTO notification_inbox (subscription, partition, position, entry)
      SELECT $1, p, pos, e FROM unnest($2::int[], $3::bigint[], $4::text[]) AS t(p, pos, e) ON CONFLICT DO NOTHING`,
    [subscription, partitions, entries.map((e) => e.position), entries.map((e) => JSON.stringify(e))]);
  }

  /** A partition's entries of one feed after `position`, oldest first, at most `limit`. */
  async inbox(subscription: string, partition: number, position: number, limit: number): Promise<ConsumedEntry[]> {
    const r = await this.pool.query<{ entry: string }>('SELECT entry FROM notification_inbox WHERE subscription = $1 AND partition = $2 AND position > $3 ORDER BY position LIMIT $4',
      [subscription, partition, position, limit]);
    return r.rows.map((row) => JSON.parse(row.entry) as ConsumedEntry);
  }

  /**
   * Forgets a partition's entries of one feed up to `position`, applied under the read position
   * `reader` (`orders@3`); nothing if that position is no longer past them (a reset since).
   */
  async clearInbox(subscription: string, partition: number, position: number, reader: string): Promise<void> {
    await this.light.query(`DELETE FROM notification_inbox WHERE subscription = $1 AND partition = $2 AND position <= $3
      AND $3 <= (SELECT position FROM consumer_subscriptions WHERE name = $4)`, [subscription, partition, position, reader]);
  }

  /** The inbox's rows per partition (for /status and /metrics): entries not applied yet, and applied ones not deleted yet. */
  async inboxBacklog(): Promise<Map<number, number>> {
    const r = await this.pool.query<{ partition: number; n: string }>('SELECT partition, count(*) AS n FROM notification_inbox GROUP BY partition');
    return new Map(r.rows.map((row) => [row.partition, Number(row.n)]));
  }

  /**
   * The entries of a feed parked by its partitions (subscriptions `orders@3`...) or by its reader,
   * oldest first, at most `limit`, without the entries themselves; and how many there are.
   */
  async parkedOfFeed(subscription: string, limit: number | null, after = 0): Promise<{ parked: ParkedSummary[]; total: number }> {
    const where = "WHERE (name = $1 OR name LIKE $1 || '@%')";
    const [rows, count] = await Promise.all([
      this.pool.query<{ name: string; atom_id: string; position: string; type: string; order_id: string; error: string; attempts: number; parked_at: string }>(
        `SELECT name, atom_id, position, entry::json ->> 'type' AS type, order_id, error, attempts, parked_at FROM consumer_parked ${where} AND position > $3 ORDER BY position LIMIT $2`, [subscription, limit, after]),
      this.pool.query<{ n: string }>(`SELECT count(*) AS n FROM consumer_parked ${where}`, [subscription]),
    ]);
    return {
      parked: rows.rows.map((r) => ({ subscription: r.name, atomId: r.atom_id, position: Number(r.position), type: r.type, orderId: r.order_id, error: r.error, attempts: r.attempts, parkedAt: r.parked_at })),
      total: Number(count.rows[0]?.n ?? 0),
    };
  }

  /** The subscription (`orders`, or a partition's `orders@3`) that parked this entry of a feed, if any did. */
  async parkedBy(subscription: string, atomId: string): Promise<string | undefined> {
    const r = await this.pool.query<{ name: string }>("SELECT name FROM consumer_parked WHERE (name = $1 OR name LIKE $1 || '@%') AND atom_id = $2 LIMIT 1", [subscription, atomId]);
    return r.rows[0]?.name;
  }

  /**
   * Reads a feed again from its start: its reader's position and every partition's position in
   * it back to 0 and its inbox emptied, in one transaction (the instances at work find their
   * positions moved and read them again). Emails already queued are not queued twice.
   */
  async resetFeed(subscription: string): Promise<void> {
    await inPgTransaction(this.pool, async (tx) => {
      await tx.query(`UPDATE consumer_subscriptions SET started = 1, position = 0, last_atom_id = NULL, etag = NULL, last_modified = NULL, feed_id = NULL,
        failures = 0, page_url = NULL, walk_url = NULL WHERE name = $1 OR name LIKE $1 || '@%'`, [subscription]);
      await tx.query("DELETE FROM consumer_attempts WHERE name = $1 OR name LIKE $1 || '@%'", [subscription]);
      await tx.query('DELETE FROM notification_inbox WHERE subscription = $1', [subscription]);
      // The instances at work read their positions again before their next batch.
      await tx.query('SELECT pg_notify($1, $2)', [RESET_CHANNEL, subscription]);
    });
  }

  /**
   * The number of partitions this database was set up with: the first instance's PARTITIONS is
   * recorded; every later one must name the same (or none), since it decides where orders live.
   */
  async partitions(wanted: number | undefined, fallback: number): Promise<{ ok: true; partitions: number } | { ok: false; recorded: number }> {
    await this.pool.query("INSERT INTO notification_settings (name, value) VALUES ('partitions', $1) ON CONFLICT (name) DO NOTHING", [String(wanted ?? fallback)]);
    const recorded = Number((await this.pool.query<{ value: string }>("SELECT value FROM notification_settings WHERE name = 'partitions'")).rows[0]!.value);
    return wanted === undefined || wanted === recorded ? { ok: true, partitions: recorded } : { ok: false, recorded };
  }

  /** A secret generated once and shared: the first instance's random value wins. */
  async generatedSecret(name: string): Promise<string> {
    await this.pool.query('INSERT INTO notification_settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, randomBytes(32).toString('base64url')]);
    return (await this.pool.query<{ value: string }>('SELECT value FROM notification_settings WHERE name = $1', [name])).rows[0]!.value;
  }
}
