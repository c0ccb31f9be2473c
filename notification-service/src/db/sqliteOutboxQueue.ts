import type { OutboxClaim, OutboxQueue } from '../mail/outboxQueue.ts';
import type { NotificationStore, OutboxEmail } from './notificationStore.ts';

/**
 * The SQLite outbox of one instance: nobody else sends from it, so a claim locks nothing. A run
 * reads the due ids in batches (no email's content) and each email only as it is claimed; an
 * order whose email failed in this run is held back for the rest of it, since the ids of the
 * batch were read before that email got its next attempt time.
 */
export class SqliteOutboxQueue implements OutboxQueue {
  constructor(private readonly store: NotificationStore, private readonly batchSize = 100) {}

  async *due(now: string): AsyncGenerator<OutboxClaim> {
    const held = new Set<string>();
    let after = 0;
    for (;;) {
      const ids = this.store.dueIds(now, after, this.batchSize);
      for (const { id, orderId } of ids) {
        after = id;
        if (held.has(orderId)) continue;
        const email = this.store.email(id);
        if (!email || email.sentAt !== null || email.deadAt !== null) continue;
        yield this.#claim(email, () => held.add(orderId));
      }
      if (ids.length < this.batchSize) return;
    }
  }

  async expire(queuedBefore: string, error: string, at: string): Promise<number[]> {
    return this.store.expire(queuedBefore, error, at);
  }

  #claim(email: OutboxEmail, hold: () => void): OutboxClaim {
    const { store } = this;
    return {
      email,
      async storeRaw(raw) { return store.setRaw(email.id, raw); },
      async sent(at, via) { store.markSent(email.id, at, via); },
      async retry(error, nextAttemptAt) { store.markRetry(email.id, error, nextAttemptAt); hold(); },
      async dead(error, at) { store.markDead(email.id, error, at); },
      async release() { /* nothing held */ },
    };
  }
}
