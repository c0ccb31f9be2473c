import { type Db, FeedConsumer, type Logger, ServiceHealth } from '@shop/common';
import type { Dispatcher } from 'undici';
import type { NotificationConfig } from './config.ts';
import { notificationMigrations } from './db/migrations.ts';
import { NotificationStore } from './db/notificationStore.ts';
import { TemplateStore } from './db/templateStore.ts';
import { formatShard } from './domain/shard.ts';
import { NotificationHandler } from './feeds/notificationHandler.ts';
import { statusOf } from './http/statusRoutes.ts';
import { PollScheduler } from './feeds/pollScheduler.ts';
import { EmailRenderer } from './mail/emailRenderer.ts';
import { sampleEmails } from './mail/sampleEmails.ts';
import { TemplateLibrary } from './mail/templateLibrary.ts';
import { ViewLinks } from './mail/viewLinks.ts';
import { emlTransport, type MailTransport, OutboxSender, smtpTransport } from './mail/outboxSender.ts';
import type { NotificationView } from './notificationView.ts';

/** The subscriptions, in the order they are shown. */
export const SUBSCRIPTIONS = ['orders', 'billing', 'shipping'] as const;

export interface NotificationService extends NotificationView {
  readonly config: NotificationConfig;
  readonly store: NotificationStore;
  readonly handler: NotificationHandler;
  readonly consumers: readonly FeedConsumer[];
  readonly sender: OutboxSender;
  readonly scheduler: PollScheduler;
  /** The email templates in use, checked as they change (main.ts calls `templates.watch()`). */
  readonly templates: TemplateLibrary;
  readonly renderer: EmailRenderer;
  readonly viewLinks: ViewLinks;
  /** For /readyz; main.ts calls `health.shutDown()` on SIGTERM. */
  readonly health: ServiceHealth;
  consumer(name: string): FeedConsumer | undefined;
  /** One full cycle: poll every feed, re-check waiting orders, deliver the outbox. */
  cycle(): Promise<void>;
  stop(): Promise<void>;
}

export interface ServiceDeps {
  readonly logger: Logger;
  readonly now?: () => Date;
  readonly dispatcher?: Dispatcher;
  readonly transport?: MailTransport;
  readonly afterDeliver?: ConstructorParameters<typeof OutboxSender>[2]['afterDeliver'];
  /** The jitter of the outbox's backoff: [0, 1), Math.random by default. */
  readonly random?: () => number;
  /** How long the templates directory must be quiet before a change is checked (default 250 ms). */
  readonly templateDebounceMs?: number;
  /** How long a template may render before it is stopped (default TEMPLATE_TIME_LIMIT_MS, 2 s). */
  readonly templateTimeLimitMs?: number;
}

/** Wires the consumers, the policy, the outbox sender and the schedule on a migrated database. */
export function buildNotificationService(db: Db, config: NotificationConfig, deps: ServiceDeps): NotificationService {
  const now = deps.now ?? (() => new Date());
  // Every line this instance logs names its shard, so the logs of N instances can be merged.
  const logger = deps.logger.child({ shard: formatShard(config.shard) });
  const store = new NotificationStore(db);
  const templateStore = new TemplateStore(db);
  const viewLinks = new ViewLinks(config.publicUrl, config.viewLinkSecret ?? templateStore.generatedSecret('view-link-secret'));
  // The templates are checked with the emails the producers' example orders would really get.
  const samples = sampleEmails({ missingPartAfterMs: config.missingPartAfterMs, onMissingPart: config.onMissingPart })
    .map((s) => ({ ...s, data: { ...s.data, viewUrl: viewLinks.urlFor(`order-${s.orderId}-${s.kind}`) } }));
  const templates = new TemplateLibrary({ dir: config.templatesDir, samples, store: templateStore, logger, now, debounceMs: deps.templateDebounceMs, timeLimitMs: deps.templateTimeLimitMs }).load();
  const renderer = new EmailRenderer(templates);
  const handler = new NotificationHandler(store, renderer, {
    shard: config.shard, missingPartAfterMs: config.missingPartAfterMs, onMissingPart: config.onMissingPart,
    messageIdDomain: config.messageIdDomain, logger, now, viewLinks,
  });
  // Every subscription parks a poison entry: the policy gathers parts per order in any order,
  // so one order's bad entry must not hold up every other order's email.
  const consumers = SUBSCRIPTIONS.map((name) => new FeedConsumer(db, {
    name, feedUrl: config.feeds[name], startAt: config.startAt, handler: handler.handle, onFailure: 'park',
    maxAttempts: config.maxAttempts, backoff: config.backoff, longPollSeconds: config.longPollSeconds, token: config.feedTokens[name],
    allowedOrigins: config.feedAllowedOrigins,
    logger, dispatcher: deps.dispatcher, now,
  }));
  const transport = deps.transport ?? (config.smtpUrl ? smtpTransport(config.smtpUrl, config.mailFrom) : emlTransport(config.outboxDir));
  const sender = new OutboxSender(store, transport, { from: config.mailFrom, shopTimeZone: config.shopTimeZone, logger, now, retry: config.outboxRetry, random: deps.random, afterDeliver: deps.afterDeliver });
  const afterPoll = async () => { handler.checkWaiting(); await sender.sendPending(); };
  const scheduler = new PollScheduler(consumers, afterPoll, logger);
  const service: NotificationService = {
    config, store, handler, consumers, sender, scheduler, templates, renderer, viewLinks, health: new ServiceHealth(db, notificationMigrations),
    status: async () => statusOf(service),
    emails: async (limit) => store.list(limit),
    email: async (id) => store.email(id),
    emailByKey: async (key) => store.emailByKey(key),
    outboxStates: async () => store.outboxStates(),
    consumer: (name) => consumers.find((c) => c.name === name),
    cycle: () => scheduler.pollAll(),
    async stop() {
      templates.close();
      await scheduler.stop();
      await sender.idle();
      await Promise.all(consumers.map((c) => c.close()));
      sender.close();
    },
  };
  return service;
}
