import { utcOffsetMinutes } from '@shop/common/time';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import type { OutboxEmail } from '../db/notificationStore.ts';

/**
 * Builds the RFC 5322 multipart/alternative message of an outbox email with nodemailer, dated
 * on the shop's clock (`shopTimeZone`, SHOP_TIME_ZONE) like every date in the email.
 */
/** What a message is built from: an outbox row, or an email about to be queued. */
export type MimeSource = Pick<OutboxEmail, 'toName' | 'toAddress' | 'subject' | 'text' | 'html' | 'messageId' | 'createdAt' | 'orderId' | 'kind'> & { readonly templateVersion?: string | null };

export function buildMime(email: MimeSource, from: string, shopTimeZone: string): Promise<Buffer> {
  const composer = new MailComposer({
    from,
    to: { name: email.toName, address: email.toAddress },
    subject: email.subject,
    text: email.text,
    html: email.html,
    messageId: email.messageId,
    date: mailDate(new Date(email.createdAt), shopTimeZone),
    headers: {
      'X-Shop-Order-Id': email.orderId, 'X-Shop-Email-Kind': email.kind,
      // Which templates made it: a complaint about an email leads to the exact files (see GET /templates).
      ...(email.templateVersion ? { 'X-Template-Version': email.templateVersion } : {}),
    },
  });
  return new Promise((resolve, reject) => composer.compile().build((err, message) => (err ? reject(err) : resolve(message))));
}

/**
 * An RFC 5322 date-time in `timeZone`'s local time with its offset, "Wed, 11 Jun 2025 00:30:00
 * +0100" (nodemailer would write UTC, "Tue, 10 Jun 2025 23:30:00 +0000": the same instant, but
 * a client that shows the header as written would show the day before the shop's).
 */
export function mailDate(instant: Date, timeZone: string): string {
  const offset = utcOffsetMinutes(instant, timeZone);
  const wall = new Date(Math.floor(instant.getTime() / 1000) * 1000 + offset * 60_000);
  const abs = Math.abs(offset);
  const zone = `${offset < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}${String(abs % 60).padStart(2, '0')}`;
  return wall.toUTCString().replace('GMT', zone);
}

/** A Message-ID fixed by the outbox key: a resend after a crash carries the same one. */
export function messageIdFor(key: string, domain: string): string {
  return `<${key.replace(/[^A-Za-z0-9._-]/g, '.')}@${domain}>`;
}
