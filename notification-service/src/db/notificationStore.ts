import type { Db } from '@shop/common';
import { initialState, isWaiting, type NotificationState } from '../domain/policy.ts';

export interface NewEmail {
  readonly key: string;
  readonly orderId: string;
  readonly kind: string;
  readonly toName: string;
  readonly toAddress: string;
  readonly subject: string;
  readonly html: string;
  readonly text: string;
  readonly messageId: string;
  readonly createdAt: string;
  /** The version of the templates it was made from (`built-in` when none could be used). */
  readonly templateVersion?: string | null;
  /** The template data it was made from, as JSON: its "view in your browser" page renders it again. */
  readonly templateData?: string | null;
}

export interface OutboxEmail extends NewEmail {
  readonly id: number;
  readonly raw: Buffer | null;
  readonly attempts: number;
  readonly lastError: string | null;
  readonly sentAt: string | null;
  readonly sentVia: string | null;
  /** When the sender may try it (again); null: as soon as it is its turn. */
  readonly nextAttemptAt: string | null;
  /** When it was given up on (a dead letter); `lastError` says why. */
  readonly deadAt: string | null;
}

const OUTBOX_COLUMNS = `id, key, order_id AS orderId, kind, to_name AS toName, to_address AS toAddress, subject, html, text,
  message_id AS messageId, created_at AS createdAt, raw, attempts, last_error AS lastError, sent_at AS sentAt, sent_via AS sentVia,
  next_attempt_at AS nextAttemptAt, dead_at AS deadAt, template_version AS templateVersion, template_data AS templateData`;
/** Neither sent nor given up on. */
const PENDING = 'sent_at IS NULL AND dead_at IS NULL';

/** The service's own tables: per-order policy state and the outbox. */
export class NotificationStore {
  readonly #q;

  constructor(readonly db: Db) {
    this.#q = {
      state: db.prepare<[string], { state: string }>('SELECT state FROM order_notifications WHERE order_id = ?'),
      save: db.prepare('INSERT INTO order_notifications (order_id, state, waiting, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (order_id) DO UPDATE SET state = excluded.state, waiting = excluded.waiting, updated_at = excluded.updated_at'),
      waiting: db.prepare<[], { state: string }>('SELECT state FROM order_notifications WHERE waiting = 1 ORDER BY order_id'),
      insert: db.prepare('INSERT INTO outbox (key, order_id, kind, to_name, to_address, subject, html, text, message_id, created_at, template_version, template_data) VALUES (@key, @orderId, @kind, @toName, @toAddress, @subject, @html, @text, @messageId, @createdAt, @templateVersion, @templateData) ON CONFLICT (key) DO NOTHING'),
      byKey: db.prepare<[string], OutboxEmail>(`SELECT ${OUTBOX_COLUMNS} FROM outbox WHERE key = ?`),
      // Due now, unless an earlier pending email of the same order is not due yet: an order's
      // emails go in the order they were decided. Dead ones hold nothing back. Ids only, from
      // the covering indexes (migration 004): the sender loads each email as it sends it.
      dueIds: db.prepare<[{ now: string; after: number; limit: number }], { id: number; orderId: string }>(`SELECT id, order_id AS orderId FROM outbox o INDEXED BY outbox_pending
        WHERE ${PENDING} AND id > @after AND (next_attempt_at IS NULL OR next_attempt_at <= @now)
        AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.order_id = o.order_id AND e.id < o.id AND e.sent_at IS NULL AND e.dead_at IS NULL AND e.next_attempt_at > @now)
        ORDER BY id LIMIT @limit`),
      retrying: db.prepare<[number], OutboxEmail>(`SELECT ${OUTBOX_COLUMNS} FROM outbox WHERE ${PENDING} AND last_error IS NOT NULL ORDER BY id LIMIT ?`),
      dead: db.prepare<[number], OutboxEmail>(`SELECT ${OUTBOX_COLUMNS} FROM outbox WHERE dead_at IS NOT NULL ORDER BY id LIMIT ?`),
      list: db.prepare<[number], OutboxEmail>(`SELECT ${OUTBOX_COLUMNS} FROM outbox ORDER BY id DESC LIMIT ?`),
      one: db.prepare<[number], OutboxEmail>(`SELECT ${OUTBOX_COLUMNS} FROM outbox WHERE id = ?`),
      setRaw: db.prepare('UPDATE outbox SET raw = ? WHERE id = ? AND raw IS NULL'),
      sent: db.prepare('UPDATE outbox SET sent_at = ?, sent_via = ?, attempts = attempts + 1, last_error = NULL WHERE id = ?'),
      retry: db.prepare('UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ?'),
      kill: db.prepare('UPDATE outbox SET attempts = attempts + 1, last_error = ?, dead_at = ? WHERE id = ?'),
      expire: db.prepare<[{ queuedBefore: string; error: string; at: string }], { id: number }>(`UPDATE outbox INDEXED BY outbox_pending SET last_error = @error, dead_at = @at
        WHERE ${PENDING} AND created_at <= @queuedBefore RETURNING id`),
      requeue: db.prepare(`UPDATE outbox SET dead_at = NULL, next_attempt_at = NULL, attempts = 0, last_error = NULL WHERE id = ? AND sent_at IS NULL`),
      requeueDead: db.prepare<[], { id: number }>('UPDATE outbox SET dead_at = NULL, next_attempt_at = NULL, attempts = 0, last_error = NULL WHERE dead_at IS NOT NULL RETURNING id'),
      // Neither reads a row: the sent count is kept by triggers (migration 004), the unsent ones are counted in outbox_unsent.
      counts: db.prepare<[], { sent: number; unsent: number }>('SELECT (SELECT sent FROM outbox_sent_count) AS sent, (SELECT count(*) FROM outbox WHERE sent_at IS NULL) AS unsent'),
      unsentStates: db.prepare<[], { queued: number; failed: number; dead: number; oldest: string | null }>(
        `SELECT count(*) FILTER (WHERE dead_at IS NULL AND last_error IS NULL) AS queued, count(*) FILTER (WHERE dead_at IS NULL AND last_error IS NOT NULL) AS failed,
          count(*) FILTER (WHERE dead_at IS NOT NULL) AS dead, min(created_at) FILTER (WHERE dead_at IS NULL) AS oldest FROM outbox WHERE sent_at IS NULL`),
    };
  }

  load(orderId: string): NotificationState {
    const row = this.#q.state.get(orderId);
    return row ? JSON.parse(row.state) as NotificationState : initialState(orderId);
  }

  save(s: NotificationState, at: string): void {
    this.#q.save.run(s.orderId, JSON.stringify(s), isWaiting(s) ? 1 : 0, at);
  }

  waiting(): NotificationState[] {
    return this.#q.waiting.all().map((r) => JSON.parse(r.state) as NotificationState);
  }

  /** Queues an email; a second email with the same key is ignored (false). */
  enqueue(email: NewEmail): boolean {
    return this.#q.insert.run({ templateVersion: null, templateData: null, ...email }).changes === 1;
  }

  /**
   * The ids (and orders) of the pending emails the sender may try at `now`, in outbox order after
   * `after`, at most `limit` (see the query for the order rule). Reads no email's content.
   */
  dueIds(now: string, after: number, limit: number): { id: number; orderId: string }[] { return this.#q.dueIds.all({ now, after, limit }); }
  /** Pending emails whose last try failed, oldest first. */
  retrying(limit = 100): OutboxEmail[] { return this.#q.retrying.all(limit); }
  /** The dead letters, oldest first. */
  dead(limit = 100): OutboxEmail[] { return this.#q.dead.all(limit); }
  list(limit = 200): OutboxEmail[] { return this.#q.list.all(limit); }
  email(id: number): OutboxEmail | undefined { return this.#q.one.get(id); }
  /** The email with this key (`order-<id>-<kind>`): what its "view in your browser" link shows. */
  emailByKey(key: string): OutboxEmail | undefined { return this.#q.byKey.get(key); }
  /** Keeps the first MIME rendering, so a resend sends the very same bytes. */
  setRaw(id: number, raw: Buffer): Buffer {
    this.#q.setRaw.run(raw, id);
    return this.email(id)!.raw!;
  }
  markSent(id: number, at: string, via: string): void { this.#q.sent.run(at, via, id); }
  /** A failed try that is to be tried again at `nextAttemptAt`. */
  markRetry(id: number, error: string, nextAttemptAt: string): void { this.#q.retry.run(error, nextAttemptAt, id); }
  /** A failed try after which the email is given up on. */
  markDead(id: number, error: string, at: string): void { this.#q.kill.run(error, at, id); }
  /** Gives up on every pending email queued at or before `queuedBefore`, charging none a try; returns their ids. */
  expire(queuedBefore: string, error: string, at: string): number[] { return this.#q.expire.all({ queuedBefore, error, at }).map((r) => r.id); }
  /**
   * Makes an unsent email (a dead letter, or one waiting for its next try) due now with a fresh
   * count of tries; false when there is no such unsent email. Its stored MIME bytes, and so its
   * Message-ID, stay as they were.
   */
  requeue(id: number): boolean { return this.#q.requeue.run(id).changes === 1; }
  /** Requeues every dead letter; returns their ids. */
  requeueDead(): number[] { return this.#q.requeueDead.all().map((r) => r.id); }
  counts(): { total: number; unsent: number } {
    const { sent, unsent } = this.#q.counts.get()!;
    return { total: sent + unsent, unsent };
  }
  /**
   * The outbox by state: `queued` (not tried yet), `failed` (the last try failed; it is tried
   * again at its next attempt time), `sent`, `dead` (given up on); and when the oldest email
   * still to be sent (dead letters aside) was queued.
   */
  outboxStates(): { queued: number; failed: number; sent: number; dead: number; oldestUnsentAt: string | null } {
    const { sent } = this.#q.counts.get()!;
    const u = this.#q.unsentStates.get()!;
    return { queued: u.queued, failed: u.failed, sent, dead: u.dead, oldestUnsentAt: u.oldest };
  }
}
