import { ConfigError, type Logger, runPollLoop, ServiceHealth } from '@shop/common';
import { migratePg, openPgPool, PgFeedConsumer, PgListener, type PgPool } from '@shop/common/pg';
import type { Dispatcher } from 'undici';
import { DEFAULT_PARTITIONS, type NotificationConfig } from './config.ts';
import { notificationPgMigrations } from './db/pgMigrations.ts';
import { PgNotificationStore, RESET_CHANNEL } from './db/pgNotificationStore.ts';
import { PgOutboxQueue } from './db/pgOutboxQueue.ts';
import { PgOutboxStore } from './db/pgOutboxStore.ts';
import { PgTemplateStore } from './db/pgTemplateStore.ts';
import { INBOX_CHANNEL, inboxHandlers, PartitionWorker } from './feeds/partitionWorker.ts';
import { OUTBOX_CHANNEL, PgNotificationHandler } from './feeds/pgNotificationHandler.ts';
import { pgStatusOf } from './http/pgStatus.ts';
import { EmailRenderer } from './mail/emailRenderer.ts';
import { emlTransport, type MailTransport, OutboxSender, smtpTransport } from './mail/outboxSender.ts';
import { sampleEmails } from './mail/sampleEmails.ts';
import { TemplateLibrary } from './mail/templateLibrary.ts';
import { ViewLinks } from './mail/viewLinks.ts';
import { SUBSCRIPTIONS } from './notificationService.ts';
import type { NotificationView } from './notificationView.ts';
import { registerPartitionMetrics } from './partitions/partitionMetrics.ts';
import { PgPartitionOwnership } from './partitions/pgPartitionOwnership.ts';

/**
 * Connections in an instance's pool. With the feeds' pool (4), the LISTEN session (1), a
 * session per feed's read lock (3) and the partition session (1), an instance holds at most 17.
 */
export const POOL_SIZE = 8;

/** The notification service's PostgreSQL connections, opened and migrated (safe when instances start together). */
export interface NotificationPg {
  readonly url: string;
  readonly pool: PgPool;
  /** Commits without waiting for the WAL flush: the feeds' readers and their bookkeeping, and the applied inbox rows' deletes. */
  readonly bookkeeping: PgPool;
  readonly listener: PgListener;
  close(): Promise<void>;
}

export async function openNotificationPg(url: string, logger: Logger, o: { poolSize?: number } = {}): Promise<NotificationPg> {
  // An outbox claim keeps its transaction open while SMTP takes the message (at most a minute or
  // so, smtpTransport's timeouts): a session stuck longer is ended by the server, its row freed.
  const pool = openPgPool(url, {
    max: o.poolSize ?? POOL_SIZE, applicationName: 'notification-service', idleInTransactionTimeoutMs: 180_000,
    onError: (e) => logger.warn('idle PostgreSQL connection failed', { error: e.message }),
  });
  const bookkeeping = openPgPool(url, { max: 4, applicationName: 'notification-service feeds', synchronousCommit: false, onError: () => {} });
  try {
    await migratePg(pool, notificationPgMigrations);
  } catch (e) {
    await pool.end().catch(() => {});
    await bookkeeping.end().catch(() => {});
    throw e;
  }
  const listener = new PgListener({ connectionString: url, onError: (e) => logger.warn('PostgreSQL LISTEN connection lost; reconnecting', { error: e.message }) });
  return { url, pool, bookkeeping, listener, close: async () => { await listener.close(); await pool.end(); await bookkeeping.end(); } };
}

export interface PgNotificationService extends NotificationView {
  readonly store: PgNotificationStore;
  readonly outbox: PgOutboxStore;
  readonly handler: PgNotificationHandler;
  /** The three feeds' readers: one instance reads each (leadership), handing entries to the partitions. */
  readonly feeds: readonly PgFeedConsumer[];
  readonly ownership: PgPartitionOwnership;
  readonly sender: OutboxSender;
  readonly partitions: number;
  /** The partitions this instance works on now, with where each stands. */
  workers(): PartitionWorker[];
  /** Joins: leads the feeds it can, takes its share of the partitions, sends emails. */
  start(): Promise<void>;
  /** Leaves: hands its partitions and feeds over (each after its work in flight), stops sending. */
  stop(): Promise<void>;
}

export interface PgServiceDeps {
  readonly logger: Logger;
  readonly now?: () => Date;
  readonly dispatcher?: Dispatcher;
  readonly transport?: MailTransport;
  readonly random?: () => number;
  readonly templateDebounceMs?: number;
  /** How often the partitions are re-balanced and the ownership session checked (default 1000 ms). */
  readonly ownershipIntervalMs?: number;
  /** How often a follower tries to lead a feed (default 1000 ms). */
  readonly leadershipRetryMs?: number;
}

/**
 * The notification service on PostgreSQL: any number of instances share one database. Each feed
 * is read by one instance at a time (an advisory lock per feed), which hands every entry to the
 * partition of its order (the inbox, in the transaction that moves the feed's read position). Each
 * partition is worked by one instance at a time (PgPartitionOwnership), which applies the policy
 * to its entries in feed order under a read position of its own. Any instance sends any email:
 * the outbox is claimed row by row (PgOutboxQueue).
 */
export async function buildPgNotificationService(pg: NotificationPg, config: NotificationConfig, deps: PgServiceDeps): Promise<PgNotificationService> {
  const now = deps.now ?? (() => new Date());
  const logger = deps.logger.child({ instance: config.instanceName });
  const store = new PgNotificationStore(pg.pool, pg.bookkeeping);
  const recorded = await store.partitions(config.partitions, DEFAULT_PARTITIONS);
  if (!recorded.ok) {
    throw new ConfigError([`PARTITIONS=${config.partitions}, but this database's orders are divided into ${recorded.recorded} partitions (set by its first instance): unset PARTITIONS or set it to ${recorded.recorded}`]);
  }
  const partitions = recorded.partitions;
  const outbox = new PgOutboxStore(pg.pool);
  const templateStore = await PgTemplateStore.load(pg.pool, logger);
  const viewLinks = new ViewLinks(config.publicUrl, config.viewLinkSecret ?? await store.generatedSecret('view-link-secret'));
  const samples = sampleEmails({ missingPartAfterMs: config.missingPartAfterMs, onMissingPart: config.onMissingPart })
    .map((s) => ({ ...s, data: { ...s.data, viewUrl: viewLinks.urlFor(`order-${s.orderId}-${s.kind}`) } }));
  const templates = new TemplateLibrary({ dir: config.templatesDir, samples, store: templateStore, logger, now, debounceMs: deps.templateDebounceMs }).load();
  const renderer = new EmailRenderer(templates);
  const handler = new PgNotificationHandler(store, (q, email) => outbox.enqueue(q, email), renderer, {
    partitions, missingPartAfterMs: config.missingPartAfterMs, onMissingPart: config.onMissingPart, messageIdDomain: config.messageIdDomain, logger, now, viewLinks,
    mailFrom: config.mailFrom, shopTimeZone: config.shopTimeZone,
  });
  // A feed's reader commits without waiting for the WAL flush: what it writes (the entries handed
  // to the partitions and its read position) is lost together if at all, and then read again;
  // and a partition's commit that applied them flushes them first (the WAL is flushed in order).
  const idleMs = config.schedule.kind === 'interval' ? config.schedule.ms : 1000;
  const workers = new Map<number, PartitionWorker>();
  const ownership = new PgPartitionOwnership({
    connectionString: pg.url, partitions, instance: config.instanceName, intervalMs: deps.ownershipIntervalMs, logger, now,
    onAcquire: (partition) => {
      const w = new PartitionWorker({
        partition, subscriptions: SUBSCRIPTIONS, pool: pg.pool, store, handler: handler.handle, checkWaiting: (p) => handler.checkWaiting(p),
        logger, now, maxAttempts: config.maxAttempts, backoff: config.backoff, idleMs,
      });
      workers.set(partition, w);
      w.start();
    },
    onRelease: async (partition) => {
      await workers.get(partition)?.stop();
      workers.delete(partition);
    },
    onLost: (lost) => {
      // No new batch starts; one in flight may still commit, and the partition's read position
      // (compare-and-set) makes the new owner read past it, never apply it again.
      for (const p of lost) { void workers.get(p)?.stop(); workers.delete(p); }
    },
  });
  // The feeds' readers are spread too: an instance reads at most its share of the three feeds
  // (ceil(3 / live instances)), handing a surplus over, so the first to start does not read all.
  const fairFeeds = (): number => Math.ceil(SUBSCRIPTIONS.length / Math.max(1, ownership.instances));
  const feedsLed = (): number => feeds.filter((f) => f.isLeader).length;
  const feedShare = { mayLead: () => feedsLed() < fairFeeds(), shouldYield: () => feedsLed() > fairFeeds() };
  const feeds = SUBSCRIPTIONS.map((name) => new PgFeedConsumer(pg.bookkeeping, {
    name, feedUrl: config.feeds[name], startAt: config.startAt, ...inboxHandlers(store, name, (id) => handler.partitionOf(id)),
    // Handing an entry over cannot fail for the entry's sake: a failure (the database) is retried, never skipped.
    onFailure: 'block', maxAttempts: config.maxAttempts, backoff: config.backoff, longPollSeconds: config.longPollSeconds,
    token: config.feedTokens[name], allowedOrigins: config.feedAllowedOrigins, logger, dispatcher: deps.dispatcher, now,
    leadership: { connectionString: pg.url, service: 'notification-service', retryMs: deps.leadershipRetryMs, share: feedShare }, bookkeepingPool: pg.bookkeeping,
  }));
  const transport = deps.transport ?? (config.smtpUrl ? smtpTransport(config.smtpUrl, config.mailFrom) : emlTransport(config.outboxDir));
  const sender = new OutboxSender(new PgOutboxQueue(pg.pool), transport, { from: config.mailFrom, shopTimeZone: config.shopTimeZone, logger, now, retry: config.outboxRetry, random: deps.random });
  const health = new ServiceHealth(null, []);
  const stopping = new AbortController();
  const feedLoops: Promise<void>[] = [];
  let sending: Promise<void> | undefined;
  // A notification that an email was queued wakes the sender; one that comes while it sends makes it run again at once.
  let senderWoken = false;
  let endPause: (() => void) | undefined;
  const wakeSender = (): void => { senderWoken = true; endPause?.(); };
  const unlisten: (() => Promise<void>)[] = [];

  const sendLoop = async (): Promise<void> => {
    while (!stopping.signal.aborted) {
      senderWoken = false;
      await sender.sendPending().catch((err: unknown) => logger.error('outbox delivery failed', { err }));
      if (senderWoken || stopping.signal.aborted) continue;
      await new Promise<void>((resolve) => {
        const end = (): void => { clearTimeout(t); stopping.signal.removeEventListener('abort', end); endPause = undefined; resolve(); };
        const t = setTimeout(end, idleMs);
        endPause = end;
        stopping.signal.addEventListener('abort', end, { once: true });
      });
    }
  };

  const service: PgNotificationService = {
    config, store, outbox, handler, feeds, ownership, sender, partitions, templates, viewLinks, health, consumers: feeds,
    workers: () => [...workers.values()].sort((a, b) => a.partition - b.partition),
    status: () => pgStatusOf(service),
    emails: (limit) => outbox.list(limit),
    email: (id) => outbox.email(id),
    emailByKey: (key) => outbox.emailByKey(key),
    outboxStates: () => outbox.outboxStates(),
    registerMetrics: (metrics) => registerPartitionMetrics(metrics, service),
    async start() {
      unlisten.push(await pg.listener.listen(INBOX_CHANNEL, (payload) => {
        const [partition, feed] = payload.split(':');
        workers.get(Number(partition))?.wake(feed);
      }));
      unlisten.push(await pg.listener.listen(OUTBOX_CHANNEL, () => wakeSender()));
      unlisten.push(await pg.listener.listen(RESET_CHANNEL, () => { for (const w of workers.values()) w.reload(); }));
      // Notifications lost while the LISTEN connection was down: everyone looks again.
      const offResync = pg.listener.onResync(() => { for (const w of workers.values()) w.reload(); wakeSender(); });
      unlisten.push(async () => offResync());
      // Joins first: the live instances it then counts decide its share of the feeds too.
      await ownership.start();
      for (const f of feeds) await f.startLeading();
      for (const f of feeds) feedLoops.push(runPollLoop(f, stopping.signal, idleMs).then(() => f.close()));
      sending = sendLoop();
    },
    async stop() {
      templates.close();
      stopping.abort();
      // Every partition stops starting batches at once; the ownership then hands each over as its batch ends.
      for (const w of workers.values()) w.halt();
      // All at once: each feed handed over as soon as its poll in flight ends, each partition
      // after its batch in flight, and the sender stops after the email it is trying.
      await Promise.all([...feedLoops, ownership.stop(), sender.stop(), sending]);
      // Never started (the command line): closed here.
      if (feedLoops.length === 0) await Promise.all(feeds.map((f) => f.close()));
      for (const off of unlisten.splice(0)) await off();
      await templateStore.flushed();
      sender.close();
    },
  };
  return service;
}
