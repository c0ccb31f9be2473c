import type { ConsumerProgress, ServiceHealth, ServiceMetrics } from '@shop/common';
import type { NotificationConfig } from './config.ts';
import type { OutboxEmail } from './db/notificationStore.ts';
import type { TemplateLibrary } from './mail/templateLibrary.ts';
import type { ViewLinks } from './mail/viewLinks.ts';

/** The outbox by state, as /status and /metrics show it. */
export interface OutboxStates {
  readonly queued: number;
  readonly failed: number;
  readonly sent: number;
  readonly dead: number;
  readonly oldestUnsentAt: string | null;
}

/**
 * What the HTTP face (app.ts: status, emails, templates, view links, metrics, health) needs of the
 * service, on either engine: the SQLite service (notificationService.ts) and the PostgreSQL one
 * (pgNotificationService.ts) both are one.
 */
export interface NotificationView {
  readonly config: NotificationConfig;
  readonly templates: TemplateLibrary;
  readonly viewLinks: ViewLinks;
  /** For /readyz; main.ts calls `health.shutDown()` on SIGTERM. */
  readonly health: ServiceHealth;
  /** The feeds' subscriptions, for the consumer metrics. */
  readonly consumers: readonly { progress(): ConsumerProgress }[];
  /** What GET /status shows (JSON; status.eta renders it as HTML). */
  status(): Promise<Record<string, unknown>>;
  /** The newest emails, newest first. */
  emails(limit?: number): Promise<OutboxEmail[]>;
  email(id: number): Promise<OutboxEmail | undefined>;
  /** The email with this key (`order-<id>-<kind>`): what its "view in your browser" link shows. */
  emailByKey(key: string): Promise<OutboxEmail | undefined>;
  outboxStates(): Promise<OutboxStates>;
  /** Adds the engine's own metrics (PostgreSQL: who owns which partition). */
  registerMetrics?(metrics: ServiceMetrics): void;
}
