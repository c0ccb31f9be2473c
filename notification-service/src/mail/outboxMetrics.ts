import type { ServiceMetrics } from '@shop/common';
import { Gauge } from 'prom-client';
import type { OutboxStates } from '../notificationView.ts';

/**
 * The outbox by state, read from the database at scrape time. `dead` counts the emails given up
 * on (a permanent failure, or a temporary one past its tries): each needs a person (`resend`).
 * The oldest unsent age leaves dead letters out: they have their own alert.
 */
export function registerOutboxMetrics(metrics: ServiceMetrics, states: () => Promise<OutboxStates>, now: () => Date = () => new Date()): void {
  const registers = [metrics.registry];
  const emails = new Gauge({ name: 'notification_outbox_emails', help: 'Emails in the outbox by state: queued (not tried yet), failed (last try failed, will be retried after its backoff), sent, dead (given up on; resend with the CLI).', labelNames: ['state'] as const, registers });
  const oldest = new Gauge({ name: 'notification_outbox_oldest_unsent_age_seconds', help: 'How long the oldest unsent email (dead letters aside) has been in the outbox (0 when none is waiting).', registers });
  metrics.beforeScrape(async () => {
    const s = await states();
    emails.set({ state: 'queued' }, s.queued);
    emails.set({ state: 'failed' }, s.failed);
    emails.set({ state: 'sent' }, s.sent);
    emails.set({ state: 'dead' }, s.dead);
    oldest.set(s.oldestUnsentAt === null ? 0 : Math.max(0, now().getTime() - Date.parse(s.oldestUnsentAt)) / 1000);
  });
}
