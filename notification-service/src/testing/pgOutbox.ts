// The shared PostgreSQL outbox for tests: a migrated database, pools as separate instances would
// have them, senders over PgOutboxQueue, and transports that record who delivered what, in the
// order the deliveries happened across all instances.
import { createLogger } from '@shop/common';
import { migratePg, openPgPool, type PgPool } from '@shop/common/pg';
import { createTestDatabase } from '@shop/common/testing';
import { notificationPgMigrations } from '../db/pgMigrations.ts';
import { PgOutboxQueue } from '../db/pgOutboxQueue.ts';
import { PgOutboxStore } from '../db/pgOutboxStore.ts';
import type { NewEmail, OutboxEmail } from '../db/notificationStore.ts';
import type { RetryPolicy } from '../mail/deliveryFailure.ts';
import { type MailTransport, OutboxSender } from '../mail/outboxSender.ts';

export interface Delivery { readonly instance: string; readonly id: number; readonly messageId: string; readonly raw: Buffer }

export const queued = (orderId: string, kind: string, createdAt = '2025-06-10T08:00:00.000Z'): NewEmail & { partition: number } => ({
  key: `order-${orderId}-${kind}`, orderId, partition: 0, kind, toName: 'Ada', toAddress: 'ada@example.com', subject: `${kind} ${orderId}`,
  html: `<p>${kind} of ${orderId}</p>`, text: `${kind} of ${orderId}`, messageId: `<order-${orderId}-${kind}@shop.example>`, createdAt,
});

/**
 * A transport that records each delivery in `log`, shared by the instances: `before` may refuse
 * (throw) or hold the delivery; `after` runs once it is recorded (to cut the connection, say).
 */
export function recorder(instance: string, log: Delivery[], hooks: { before?: (e: OutboxEmail) => Promise<void> | void; after?: (e: OutboxEmail) => Promise<void> } = {}): MailTransport {
  return {
    name: 'recorder',
    async deliver(email, raw) {
      await hooks.before?.(email);
      log.push({ instance, id: email.id, messageId: email.messageId, raw });
      await hooks.after?.(email);
    },
    close() { /* nothing held */ },
  };
}

export const RETRY: RetryPolicy = { baseMs: 30_000, maxMs: 3_600_000, maxAttempts: 10, jitter: 0.2 };

/** A fresh migrated database; `instance()` opens a pool of its own, as another process would. */
export async function sharedOutbox(): Promise<{
  readonly url: string;
  readonly pool: PgPool;
  readonly store: PgOutboxStore;
  enqueue(...emails: (NewEmail & { partition: number })[]): Promise<void>;
  instance(name: string): PgPool;
  sender(pool: PgPool, transport: MailTransport, options?: { now?: () => Date; retry?: RetryPolicy }): OutboxSender;
  close(): Promise<void>;
}> {
  const url = await createTestDatabase();
  const pool = openPgPool(url, { applicationName: 'test' });
  await migratePg(pool, notificationPgMigrations);
  const store = new PgOutboxStore(pool);
  const pools: PgPool[] = [pool];
  return {
    url, pool, store,
    async enqueue(...emails) { for (const e of emails) await store.enqueue(pool, e); },
    instance(name) {
      const p = openPgPool(url, { applicationName: name, max: 3 });
      pools.push(p);
      return p;
    },
    sender: (p, transport, options = {}) => new OutboxSender(new PgOutboxQueue(p), transport, {
      from: 'Atom Shop <orders@shop.example>', logger: createLogger({}, 'silent'), random: () => 0.5, retry: options.retry ?? RETRY, now: options.now,
    }),
    async close() { await Promise.all(pools.map((p) => p.end())); },
  };
}
