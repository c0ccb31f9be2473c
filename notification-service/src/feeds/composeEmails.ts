import type { Logger } from '@shop/common';
import type { NewEmail } from '../db/notificationStore.ts';
import type { Decision, DeliveryPart } from '../domain/policy.ts';
import { type EmailRenderer, emailData } from '../mail/emailRenderer.ts';
import { messageIdFor } from '../mail/mimeMessage.ts';
import type { ViewLinks } from '../mail/viewLinks.ts';

export interface ComposeOptions {
  readonly renderer: EmailRenderer;
  readonly messageIdDomain: string;
  readonly viewLinks?: ViewLinks;
}

/** An email a decision queues, with what its log line tells. */
export interface ComposedEmail {
  readonly email: NewEmail;
  readonly missing: readonly DeliveryPart[];
  readonly part: DeliveryPart | undefined;
}

/**
 * The emails a decision queues, rendered with the templates in use: each with its key (order and
 * kind, so queuing it twice is a no-op) and the Message-ID that key gives. Never throws for a
 * template: a broken one is not in use, and one that fails anyway gives the built-in form.
 */
export function composeEmails(d: Decision, at: string, o: ComposeOptions): ComposedEmail[] {
  return d.emails.map((intent) => {
    const missing = intent.kind === 'confirmation' ? intent.missing : [];
    const part = intent.kind === 'followup' ? intent.part : undefined;
    // One follow-up per late part, so the part is in the key (and so in the Message-ID).
    const key = `order-${d.state.orderId}-${intent.kind}${part ? `-${part}` : ''}`;
    const data = { ...emailData(d.state, intent), viewUrl: o.viewLinks?.urlFor(key) ?? null };
    const rendered = o.renderer.render(intent.kind, data);
    const email: NewEmail = {
      key, orderId: d.state.orderId, kind: intent.kind, toName: d.state.order!.customer.name, toAddress: d.state.order!.customer.email,
      ...rendered, messageId: messageIdFor(key, o.messageIdDomain), createdAt: at, templateData: JSON.stringify(data),
    };
    return { email, missing, part };
  });
}

/** Logs what a decision queued (a duplicate: the email was queued before) and an order found overdue. */
export function logDecision(logger: Logger, d: Decision, queued: readonly (ComposedEmail & { fresh: boolean })[], onMissingPart: string): void {
  for (const { email, missing, part, fresh } of queued) {
    logger.info('email queued', { orderId: email.orderId, kind: email.kind, missing, part, templateVersion: email.templateVersion, duplicate: !fresh });
  }
  if (d.becameOverdue.length > 0) {
    logger.warn('order waits for a part past its deadline', { orderId: d.state.orderId, missing: d.becameOverdue, policy: onMissingPart });
  }
}
