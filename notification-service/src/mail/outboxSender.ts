import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '@shop/common';
import { DEFAULT_SHOP_TIME_ZONE } from '@shop/common/time';
import nodemailer from 'nodemailer';
import { NotificationStore, type OutboxEmail } from '../db/notificationStore.ts';
import { SqliteOutboxQueue } from '../db/sqliteOutboxQueue.ts';
import { afterFailure, classifyFailure, type DeliveryFailure, gaveUpByAge, recipientAddressProblem, retryDelayMs, type RetryPolicy } from './deliveryFailure.ts';
import { buildMime } from './mimeMessage.ts';
import type { OutboxClaim, OutboxQueue } from './outboxQueue.ts';

/** Delivers one finished RFC 5322 message. */
export interface MailTransport {
  readonly name: string;
  deliver(email: OutboxEmail, raw: Buffer): Promise<void>;
  close(): void;
}

/** Writes each message as `<id>-<kind>-<order>.eml`; a redelivery overwrites the same file. */
export function emlTransport(dir: string): MailTransport {
  mkdirSync(dir, { recursive: true });
  return {
    name: 'eml',
    async deliver(email, raw) {
      const file = join(dir, emlFileName(email));
      writeFileSync(`${file}.tmp`, raw);
      renameSync(`${file}.tmp`, file);
    },
    close() { /* nothing held */ },
  };
}

export function emlFileName(email: Pick<OutboxEmail, 'id' | 'kind' | 'orderId'>): string {
  return `${String(email.id).padStart(6, '0')}-${email.kind}-${email.orderId.replace(/[^A-Za-z0-9_-]/g, '_')}.eml`;
}

/**
 * Sends over SMTP (`smtp://user:pass@host:port`), the raw bytes as built, so the Message-ID never
 * changes. One pooled connection, kept open between emails: a new connection an email would cost
 * a greeting (and a TLS handshake) each time.
 */
export function smtpTransport(url: string, from: string): MailTransport {
  // Bounded waits: on PostgreSQL an email's row stays locked while it is being handed over.
  const transporter = nodemailer.createTransport({ url, pool: true, maxConnections: 1, connectionTimeout: 30_000, greetingTimeout: 30_000, socketTimeout: 60_000 });
  const sender = /<([^>]+)>/.exec(from)?.[1] ?? from;
  return {
    name: 'smtp',
    async deliver(email, raw) {
      await transporter.sendMail({ envelope: { from: sender, to: [email.toAddress] }, raw });
    },
    close() { transporter.close(); },
  };
}

export interface SendResult { readonly sent: number; readonly failed: number; readonly dead: number }

/** The mail transport as the sender sees it: reachable, or backed off after it could not be reached. */
export interface TransportStatus {
  readonly name: string;
  /** Tries in a row that could not reach the mail server; 0 once one does. */
  readonly failures: number;
  /** Since when it cannot be reached; null while it can. */
  readonly failingSince: string | null;
  readonly lastError: string | null;
  /** No email is tried before then (the transport's own backoff); null while it can be reached. */
  readonly retryAt: string | null;
}

export interface OutboxSenderOptions {
  readonly from: string;
  /** SHOP_TIME_ZONE: the zone of each message's Date header (default Europe/London). */
  readonly shopTimeZone?: string;
  readonly logger: Logger;
  readonly retry: RetryPolicy;
  readonly now?: () => Date;
  /** For the jitter of the backoff: [0, 1). */
  readonly random?: () => number;
  readonly afterDeliver?: (email: OutboxEmail) => void;
  /** On SQLite: how many due ids a run reads at a time (default 100); each email's content is read only as it is sent. */
  readonly batchSize?: number;
}

/** How one claimed email's try ended; `left`: another sender took it meanwhile. */
type TryResult = 'sent' | 'failed' | 'dead' | 'left' | { readonly expired: number };

/**
 * Delivers the outbox as a mail server would. Each run takes the emails due now, in order:
 * - sent: done; the next email of its order may follow in the same run;
 * - a temporary failure of the email (SMTP 4xx, anything unknown): tried again after its own
 *   backoff with jitter (RetryPolicy), until it has had `maxAttempts` tries or waited `maxAgeMs`
 *   since it was queued, then dead;
 * - a permanent failure (SMTP 5xx, a recipient address no server accepts): dead at once.
 * An order's later email waits while an earlier one is pending (its "on its way" must never
 * overtake its confirmation), but not behind a dead one: a dead letter holds nothing back. When
 * the mail server cannot be reached (or refuses our login), that is no email's fault: the run ends
 * there, no email is charged a try, and the whole transport backs off (the same backoff as an
 * email's), so an outage costs one try per backoff step rather than one per run, and only age
 * (`maxAgeMs`) gives an email up during one. A run reads each email's content only when it sends
 * it, so a long queue costs nothing while it cannot go.
 *
 * The outbox is an OutboxQueue: a NotificationStore (SQLite, this instance alone) or a shared
 * PostgreSQL one (PgOutboxQueue), where each instance runs its own sender and an email is claimed
 * by locking its row for the length of its try, so no two instances ever try one email at once.
 *
 * The MIME bytes are built once and stored (committed) before the first try, so every try, and a
 * resend of a dead letter, sends the same message. A crash after delivering but before marking it
 * sent makes it go again, on restart or (PostgreSQL) by another instance once the dead one's
 * connection is gone and its row lock with it: at least once, at most once more per crash, with
 * the same Message-ID (and the same .eml file).
 */
export class OutboxSender {
  readonly #queue: OutboxQueue;
  #inFlight: Promise<SendResult> | undefined;
  #stopping = false;
  #transport: { failures: number; failingSince: string | null; lastError: string | null; retryAt: Date | null } = { failures: 0, failingSince: null, lastError: null, retryAt: null };

  constructor(
    outbox: NotificationStore | OutboxQueue,
    private readonly transport: MailTransport,
    private readonly o: OutboxSenderOptions,
  ) {
    this.#queue = outbox instanceof NotificationStore ? new SqliteOutboxQueue(outbox, o.batchSize) : outbox;
  }

  /** Sends what is due; a call while sending joins the run in flight. */
  sendPending(): Promise<SendResult> {
    this.#inFlight ??= this.#run().finally(() => { this.#inFlight = undefined; });
    return this.#inFlight;
  }

  async idle(): Promise<void> { await this.#inFlight?.catch(() => undefined); }

  /** Ends the run in flight after the email being tried (the rest keep their turn), and starts no other. */
  async stop(): Promise<void> {
    this.#stopping = true;
    await this.idle();
  }

  close(): void { this.transport.close(); }

  /** Whether the mail server could be reached last time, and when it is tried again if not. */
  transportStatus(): TransportStatus {
    const t = this.#transport;
    return { name: this.transport.name, failures: t.failures, failingSince: t.failingSince, lastError: t.lastError, retryAt: t.retryAt?.toISOString() ?? null };
  }

  #now(): Date { return this.o.now?.() ?? new Date(); }

  async #run(): Promise<SendResult> {
    let sent = 0;
    let failed = 0;
    let dead = 0;
    const start = this.#now();
    // The mail server could not be reached: nothing is tried (or read) until its backoff is over.
    if (this.#stopping || (this.#transport.retryAt && start < this.#transport.retryAt)) return { sent, failed, dead };
    for await (const claim of this.#queue.due(start.toISOString())) {
      if (this.#stopping) { await claim.release(); break; }
      let result: TryResult;
      // Whatever happens (a database error), the claim is not kept: the email keeps its turn.
      try { result = await this.#try(claim); } finally { await claim.release(); }
      if (result === 'sent') sent++;
      else if (result === 'failed') failed++;
      else if (result === 'dead') dead++;
      // Nothing else can go now; the rest keep their turn (and are not charged a try).
      else if (result !== 'left') return { sent, failed, dead: dead + result.expired };
    }
    return { sent, failed, dead };
  }

  /**
   * One email's try and what follows from it. A failure of the transport (unreachable) charges
   * the email nothing: the transport backs off, and the emails queued too long ago are given up.
   */
  async #try(claim: OutboxClaim): Promise<TryResult> {
    const { email } = claim;
    const failure = await this.#deliver(claim);
    if (failure === undefined || failure === 'left') return failure ?? 'sent';
    if (failure.connection) {
      // Released first: on PostgreSQL its row lock would keep this very email from expiring.
      await claim.release();
      return { expired: await this.#unreachable(failure) };
    }
    const attempts = email.attempts + 1;
    const next = afterFailure(failure, attempts, this.o.retry, this.#now(), this.o.random ?? Math.random, new Date(email.createdAt));
    const fields = { emailId: email.id, orderId: email.orderId, kind: email.kind, attempts, error: failure.message };
    if (next.kind === 'dead') {
      await claim.dead(next.error, this.#now().toISOString());
      this.o.logger.error('email dead-lettered', { ...fields, reason: next.error });
      return 'dead';
    }
    await claim.retry(next.error, next.at.toISOString());
    this.o.logger.warn('email not sent, will retry', { ...fields, nextAttemptAt: next.at.toISOString() });
    return 'failed';
  }

  /**
   * The mail server could not be reached: no email is tried before the transport's backoff is
   * over, and every email waiting longer than the policy allows is given up on (each would fail
   * the same way now). Returns how many were.
   */
  async #unreachable(failure: DeliveryFailure): Promise<number> {
    const t = this.#transport;
    const now = this.#now();
    t.failures++;
    t.failingSince ??= now.toISOString();
    t.lastError = failure.message;
    t.retryAt = new Date(now.getTime() + retryDelayMs(t.failures, this.o.retry, this.o.random ?? Math.random));
    this.o.logger.warn('mail server unreachable, delivery paused', { via: this.transport.name, failures: t.failures, since: t.failingSince, retryAt: t.retryAt.toISOString(), error: failure.message });
    const { maxAgeMs } = this.o.retry;
    if (maxAgeMs === undefined) return 0;
    const reason = `${gaveUpByAge(this.o.retry)}: mail server unreachable: ${failure.message}`;
    const expired = await this.#queue.expire(new Date(now.getTime() - maxAgeMs).toISOString(), reason, now.toISOString());
    if (expired.length > 0) this.o.logger.error('emails dead-lettered', { emailIds: expired, reason });
    return expired.length;
  }

  /** The mail server answered (or took the message): the transport's backoff is over. */
  #reached(): void {
    const t = this.#transport;
    if (t.failures === 0) return;
    this.o.logger.info('mail server reachable again', { via: this.transport.name, failures: t.failures, since: t.failingSince });
    this.#transport = { failures: 0, failingSince: null, lastError: null, retryAt: null };
  }

  /**
   * One try: undefined when delivered (and marked sent), `left` when another sender took the
   * email while its MIME bytes were stored, else why not. Marking it sent is outside the catch:
   * once the message is handed over, a database error is not a failed try.
   */
  async #deliver(claim: OutboxClaim): Promise<DeliveryFailure | 'left' | undefined> {
    const { email } = claim;
    const badAddress = recipientAddressProblem(email.toAddress);
    if (badAddress) return { permanent: true, connection: false, message: `invalid recipient address: ${badAddress}` };
    let raw: Buffer | null | undefined = email.raw;
    try {
      raw ??= await claim.storeRaw(await buildMime(email, this.o.from, this.o.shopTimeZone ?? DEFAULT_SHOP_TIME_ZONE));
      if (raw) await this.transport.deliver(email, raw);
    } catch (err) {
      const failure = classifyFailure(err);
      // An answer about this message (a 4xx, a 5xx) comes from a server that was reached.
      if (!failure.connection) this.#reached();
      return failure;
    }
    if (!raw) return 'left';
    this.#reached();
    this.o.afterDeliver?.(email);
    await claim.sent(this.#now().toISOString(), this.transport.name);
    this.o.logger.info('email sent', { emailId: email.id, orderId: email.orderId, kind: email.kind, messageId: email.messageId, via: this.transport.name, attempts: email.attempts + 1 });
    return undefined;
  }
}
