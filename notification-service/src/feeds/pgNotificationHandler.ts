import type { ConsumedEntry, Logger } from '@shop/common';
import { inPgTransaction, type PgQueryable, type PgTx } from '@shop/common/pg';
import type { NewEmail } from '../db/notificationStore.ts';
import type { PgNotificationStore } from '../db/pgNotificationStore.ts';
import { factFrom } from '../domain/facts.ts';
import { type Decision, decide, dueAt, evolve, type PolicyConfig } from '../domain/policy.ts';
import { shardOf } from '../domain/shard.ts';
import type { EmailRenderer } from '../mail/emailRenderer.ts';
import { buildMime } from '../mail/mimeMessage.ts';
import type { ViewLinks } from '../mail/viewLinks.ts';
import { composeEmails, logDecision } from './composeEmails.ts';

/** Queues an email (with its MIME bytes) in the caller's transaction; false when one with its key was queued before. */
export type PgEnqueue = (q: PgQueryable, email: NewEmail & { readonly partition: number; readonly raw: Buffer }) => Promise<boolean>;

/** The channel an instance's outbox sender listens on: an email was queued. */
export const OUTBOX_CHANNEL = 'notification_outbox';

export interface PgNotificationHandlerOptions extends PolicyConfig {
  readonly partitions: number;
  readonly messageIdDomain: string;
  readonly logger: Logger;
  readonly now: () => Date;
  readonly viewLinks?: ViewLinks;
  /** MAIL_FROM and SHOP_TIME_ZONE: the message is built when it is queued (see #apply). */
  readonly mailFrom: string;
  readonly shopTimeZone: string;
}

/**
 * NotificationHandler on PostgreSQL: the policy applied to one entry inside the transaction that
 * moves its partition's read position, the order's state row locked while it is decided, the
 * emails queued and the state saved with it. The partition worker of the order's partition calls
 * it; the partition is the order's (the stable hash over PARTITIONS), so every instance agrees.
 */
export class PgNotificationHandler {
  constructor(
    private readonly store: PgNotificationStore,
    private readonly enqueue: PgEnqueue,
    private readonly renderer: EmailRenderer,
    private readonly o: PgNotificationHandlerOptions,
  ) {}

  partitionOf(orderId: string): number { return shardOf(orderId, this.o.partitions); }

  /** Applies one entry of the order's partition (a PgEntryHandler). */
  readonly handle = async (entry: ConsumedEntry, tx: PgTx): Promise<void> => {
    const fact = factFrom(entry);
    if (!fact) return;
    const at = this.o.now().toISOString();
    const state = evolve(await this.store.lockState(tx, fact.orderId, this.partitionOf(fact.orderId), at), fact);
    await this.#apply(tx, decide(state, this.o.now(), this.o));
  };

  /**
   * Re-decides the partition's orders whose missing-part deadline has come (a time-driven
   * decision), a bounded batch at a time; returns the emails queued. Reads only the orders due.
   */
  checkWaiting(partition: number, limit = 500): Promise<number> {
    return inPgTransaction(this.store.pool, async (tx) => {
      let emails = 0;
      for (const s of await this.store.lockDue(tx, partition, this.o.now().toISOString(), limit)) {
        const d = decide(s, this.o.now(), this.o);
        // decide() returns the same state when nothing is due (a row due by an older rule): only its time moves.
        if (d.state !== s) emails += await this.#apply(tx, d);
        else await this.store.setDueAt(tx, s.orderId, dueAt(s, this.o));
      }
      return emails;
    });
  }

  async #apply(tx: PgQueryable, d: Decision): Promise<number> {
    const at = this.o.now().toISOString();
    const partition = this.partitionOf(d.state.orderId);
    const queued = [];
    for (const c of composeEmails(d, at, { renderer: this.renderer, messageIdDomain: this.o.messageIdDomain, viewLinks: this.o.viewLinks })) {
      // Built now and queued with the decision, so every try (on any instance) sends these very
      // bytes, and the sender's claim needs no commit of its own before the mail server has them.
      const raw = await buildMime(c.email, this.o.mailFrom, this.o.shopTimeZone);
      queued.push({ ...c, fresh: await this.enqueue(tx, { ...c.email, partition, raw }) });
    }
    // Every instance's sender hears of it once this commits.
    if (queued.some((q) => q.fresh)) await tx.query('SELECT pg_notify($1, $2)', [OUTBOX_CHANNEL, String(partition)]);
    logDecision(this.o.logger, d, queued, this.o.onMissingPart);
    await this.store.save(tx, d.state, at, dueAt(d.state, this.o));
    return queued.filter((q) => q.fresh).length;
  }
}
