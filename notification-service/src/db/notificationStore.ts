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
}

export interface OutboxEmail extends NewEmail {
  readonly id: number;
  readonly raw: Buffer | null;
  readonly attempts: number;
  readonly lastError: string | null;
  readonly sentAt: string | null;
  readonly sentVia: string | null;
}

const OUTBOX_COLUMNS = `id, key, order_id AS orderId, kind, to_name AS toName, to_address AS toAddress, subject, html, text,
  message_id AS messageId, created_at AS createdAt, raw, attempts, last_error AS lastError, sent_at AS sentAt, sent_via AS sentVia`;

/** The service's own tables: per-order policy state and the outbox. */
export class NotificationStore {
  readonly #q;

  constructor(readonly db: Db) {
    this.#q = {
      state: db.prepare<[string], { state: string }>('SELECT state FROM order_notifications WHERE order_id = ?'),
      save: db.prepare('INSERT INTO order_notifications (order_id, state, waiting, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (order_id) DO UPDATE SET state = excluded.state, waiting = excluded.waiting, updated_at = excluded.updated_at'),
      waiting: db.prepare<[], { state: string }>('SELECT state FROM order_notifications WHERE waiting = 1 ORDER BY order_id'),
      insert: db.prepare('INSERT INTO outbox (key, order_id, kind, to_name, to_address, subject, html, text, message_id, created_at) VALUES (@key, @orderId, @kind, @toName, @toAddress, @subject, @html, @text, @messageId, @createdAt) ON CONFLICT (key) DO NOTHING'),
      unsent: db.prepare<[], OutboxEmail>(`SELECT ${OUTBOX_COLUMNS} FROM outbox WHERE sent_at IS NULL ORDER BY id`),
      list: db.prepare<[number], OutboxEmail>(`SELECT ${OUTBOX_COLUMNS} FROM outbox ORDER BY id DESC LIMIT ?`),
      one: db.prepare<[number], OutboxEmail>(`SELECT ${OUTBOX_COLUMNS} FROM outbox WHERE id = ?`),
      setRaw: db.prepare('UPDATE outbox SET raw = ? WHERE id = ? AND raw IS NULL'),
      sent: db.prepare('UPDATE outbox SET sent_at = ?, sent_via = ?, attempts = attempts + 1, last_error = NULL WHERE id = ?'),
      failed: db.prepare('UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE id = ?'),
      counts: db.prepare<[], { total: number; unsent: number }>('SELECT count(*) AS total, count(*) FILTER (WHERE sent_at IS NULL) AS unsent FROM outbox'),
      unsentStates: db.prepare<[], { queued: number; failed: number; oldest: string | null }>(
        'SELECT count(*) FILTER (WHERE last_error IS NULL) AS queued, count(*) FILTER (WHERE last_error IS NOT NULL) AS failed, min(created_at) AS oldest FROM outbox WHERE sent_at IS NULL'),
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
    return this.#q.insert.run(email).changes === 1;
  }

  unsent(): OutboxEmail[] { return this.#q.unsent.all(); }
  list(limit = 200): OutboxEmail[] { return this.#q.list.all(limit); }
  email(id: number): OutboxEmail | undefined { return this.#q.one.get(id); }
  /** Keeps the first MIME rendering, so a resend sends the very same bytes. */
  setRaw(id: number, raw: Buffer): Buffer {
    this.#q.setRaw.run(raw, id);
    return this.email(id)!.raw!;
  }
  markSent(id: number, at: string, via: string): void { this.#q.sent.run(at, via, id); }
  markFailed(id: number, error: string): void { this.#q.failed.run(error, id); }
  counts(): { total: number; unsent: number } { return this.#q.counts.get()!; }
  /**
   * The outbox by state: `queued` (not tried yet, or tried without an error recorded), `failed`
   * (the last try failed; it is tried again), `sent`; and when the oldest unsent email was queued.
   */
  outboxStates(): { queued: number; failed: number; sent: number; oldestUnsentAt: string | null } {
    const { total, unsent } = this.counts();
    const u = this.#q.unsentStates.get()!;
    return { queued: u.queued, failed: u.failed, sent: total - unsent, oldestUnsentAt: u.oldest };
  }
}
