import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '@shop/common';
import { DEFAULT_SHOP_TIME_ZONE } from '@shop/common/time';
import nodemailer from 'nodemailer';
import type { NotificationStore, OutboxEmail } from '../db/notificationStore.ts';
import { afterFailure, classifyFailure, type DeliveryFailure, recipientAddressProblem, type RetryPolicy } from './deliveryFailure.ts';
import { buildMime } from './mimeMessage.ts';

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

/** Sends over SMTP (`smtp://user:pass@host:port`), the raw bytes as built, so the Message-ID never changes. */
export function smtpTransport(url: string, from: string): MailTransport {
  const transporter = nodemailer.createTransport(url);
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
}

/**
 * Delivers the outbox as a mail server would. Each run takes the emails due now, in order:
 * - sent: done; the next email of its order may follow in the same run;
 * - a temporary failure (SMTP 4xx, no connection, anything unknown): tried again after its own
 *   backoff with jitter (RetryPolicy), until it has had `maxAttempts` tries, then dead;
 * - a permanent failure (SMTP 5xx, a recipient address no server accepts): dead at once.
 * An order's later email waits while an earlier one is pending (its "on its way" must never
 * overtake its confirmation), but not behind a dead one: a dead letter holds nothing back. When
 * the mail server cannot be reached, the run ends there; the others keep their turn.
 *
 * The MIME bytes are built once and stored before the first try, so every try, and a resend of a
 * dead letter, sends the same message. A crash after delivering but before marking it sent makes
 * it go again on restart: at least once, with the same Message-ID (and the same .eml file).
 */
export class OutboxSender {
  #inFlight: Promise<SendResult> | undefined;

  constructor(
    private readonly store: NotificationStore,
    private readonly transport: MailTransport,
    private readonly o: OutboxSenderOptions,
  ) {}

  /** Sends what is due; a call while sending joins the run in flight. */
  sendPending(): Promise<SendResult> {
    this.#inFlight ??= this.#run().finally(() => { this.#inFlight = undefined; });
    return this.#inFlight;
  }

  async idle(): Promise<void> { await this.#inFlight?.catch(() => undefined); }

  close(): void { this.transport.close(); }

  #now(): Date { return this.o.now?.() ?? new Date(); }

  async #run(): Promise<SendResult> {
    let sent = 0;
    let failed = 0;
    let dead = 0;
    // Orders whose email failed in this run and waits for its next try: their later emails wait too.
    const held = new Set<string>();
    for (const email of this.store.due(this.#now().toISOString())) {
      if (held.has(email.orderId)) continue;
      const failure = await this.#deliver(email);
      if (!failure) { sent++; continue; }
      const attempts = email.attempts + 1;
      const next = afterFailure(failure, attempts, this.o.retry, this.#now(), this.o.random ?? Math.random);
      const fields = { emailId: email.id, orderId: email.orderId, kind: email.kind, attempts, error: failure.message };
      if (next.kind === 'dead') {
        this.store.markDead(email.id, next.error, this.#now().toISOString());
        this.o.logger.error('email dead-lettered', { ...fields, reason: next.error });
        dead++;
      } else {
        this.store.markRetry(email.id, next.error, next.at.toISOString());
        this.o.logger.warn('email not sent, will retry', { ...fields, nextAttemptAt: next.at.toISOString() });
        held.add(email.orderId);
        failed++;
      }
      // Nothing else can go now; the rest keep their turn (and are not charged a try).
      if (failure.connection) break;
    }
    return { sent, failed, dead };
  }

  /** One try: undefined when delivered (and marked sent), else why not. */
  async #deliver(email: OutboxEmail): Promise<DeliveryFailure | undefined> {
    const badAddress = recipientAddressProblem(email.toAddress);
    if (badAddress) return { permanent: true, connection: false, message: `invalid recipient address: ${badAddress}` };
    try {
      const raw = email.raw ?? this.store.setRaw(email.id, await buildMime(email, this.o.from, this.o.shopTimeZone ?? DEFAULT_SHOP_TIME_ZONE));
      await this.transport.deliver(email, raw);
      this.o.afterDeliver?.(email);
      this.store.markSent(email.id, this.#now().toISOString(), this.transport.name);
    } catch (err) {
      return classifyFailure(err);
    }
    this.o.logger.info('email sent', { emailId: email.id, orderId: email.orderId, kind: email.kind, messageId: email.messageId, via: this.transport.name, attempts: email.attempts + 1 });
    return undefined;
  }
}
