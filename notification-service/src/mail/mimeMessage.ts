import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import type { OutboxEmail } from '../db/notificationStore.ts';

/** Builds the RFC 5322 multipart/alternative message of an outbox email with nodemailer. */
export function buildMime(email: OutboxEmail, from: string): Promise<Buffer> {
  const composer = new MailComposer({
    from,
    to: { name: email.toName, address: email.toAddress },
    subject: email.subject,
    text: email.text,
    html: email.html,
    messageId: email.messageId,
    date: new Date(email.createdAt),
    headers: { 'X-Shop-Order-Id': email.orderId, 'X-Shop-Email-Kind': email.kind },
  });
  return new Promise((resolve, reject) => composer.compile().build((err, message) => (err ? reject(err) : resolve(message))));
}

/** A Message-ID fixed by the outbox key: a resend after a crash carries the same one. */
export function messageIdFor(key: string, domain: string): string {
  return `<${key.replace(/[^A-Za-z0-9._-]/g, '.')}@${domain}>`;
}
