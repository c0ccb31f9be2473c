import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '@shop/common';
import nodemailer from 'nodemailer';
import type { NotificationStore, OutboxEmail } from '../db/notificationStore.ts';
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

export interface SendResult { readonly sent: number; readonly failed: number }

/**
 * Delivers the outbox in order. The MIME bytes are built once and stored before the first try,
 * so every try sends the same message. A crash after delivering but before marking it sent makes
 * it go again on restart: at least once, with the same Message-ID (and the same .eml file).
 */
export class OutboxSender {
  #inFlight: Promise<SendResult> | undefined;

  constructor(
    private readonly store: NotificationStore,
    private readonly transport: MailTransport,
    private readonly o: { from: string; logger: Logger; now?: () => Date; afterDeliver?: (email: OutboxEmail) => void },
  ) {}

  /** Sends what is unsent; a call while sending joins the run in flight. */
  sendPending(): Promise<SendResult> {
    this.#inFlight ??= this.#run().finally(() => { this.#inFlight = undefined; });
    return this.#inFlight;
  }

  async idle(): Promise<void> { await this.#inFlight?.catch(() => undefined); }

  close(): void { this.transport.close(); }

  async #run(): Promise<SendResult> {
    let sent = 0;
    let failed = 0;
    // An order whose email failed gets nothing more in this run: its "on its way" email must
    // never overtake its confirmation.
    const held = new Set<string>();
    for (const email of this.store.unsent()) {
      if (held.has(email.orderId)) continue;
      try {
        const raw = email.raw ?? this.store.setRaw(email.id, await buildMime(email, this.o.from));
        await this.transport.deliver(email, raw);
        this.o.afterDeliver?.(email);
        this.store.markSent(email.id, (this.o.now?.() ?? new Date()).toISOString(), this.transport.name);
        this.o.logger.info('email sent', { emailId: email.id, orderId: email.orderId, kind: email.kind, messageId: email.messageId, via: this.transport.name });
        sent++;
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        this.store.markFailed(email.id, error);
        held.add(email.orderId);
        this.o.logger.error('email not sent', { emailId: email.id, orderId: email.orderId, kind: email.kind, error });
        failed++;
      }
    }
    return { sent, failed };
  }
}
