import type { ServiceMetrics } from '@shop/common';
import { Gauge } from 'prom-client';
import type { NotificationStore } from '../db/notificationStore.ts';

/**
 * The outbox by state, read from the database at scrape time. There is no dead state yet (an
 * email that fails is tried again on every delivery run, for ever), so `dead` is always 0: the
 * series exists so that an alert on it needs no change once one is added.
 */
export function registerOutboxMetrics(metrics: ServiceMetrics, store: NotificationStore, now: () => Date = () => new Date()): void {
  const registers = [metrics.registry];
  const emails = new Gauge({ name: 'notification_outbox_emails', help: 'Emails in the outbox by state: queued (not sent yet), failed (last try failed, will be retried), sent, dead (given up; none yet).', labelNames: ['state'] as const, registers });
  const oldest = new Gauge({ name: 'notification_outbox_oldest_unsent_age_seconds', help: 'How long the oldest unsent email has been in the outbox (0 when none is waiting).', registers });
  metrics.beforeScrape(() => {
    const s = store.outboxStates();
    emails.set({ state: 'queued' }, s.queued);
    emails.set({ state: 'failed' }, s.failed);
    emails.set({ state: 'sent' }, s.sent);
    emails.set({ state: 'dead' }, 0);
    oldest.set(s.oldestUnsentAt === null ? 0 : Math.max(0, now().getTime() - Date.parse(s.oldestUnsentAt)) / 1000);
  });
}
