import { Counter, Gauge } from 'prom-client';
import type { EngineMode } from '../command/commandEngine.ts';
import type { FeedPublisher } from '../feed/feedPublisher.ts';
import { type ServiceMetrics, setCounter } from './serviceMetrics.ts';

/** A feed this service publishes, named as its readers name their subscription to it (`orders`). */
export interface PublishedFeed {
  readonly name: string;
  readonly publisher: FeedPublisher<EngineMode>;
  /** Where its routes are mounted (default `/feed`: `/feed`, `/feed/archive/:page`, ...). */
  readonly path?: string;
}

/**
 * Per published feed: its head, what was appended and rendered since the process started, the
 * 304s answered (Koa's and the fast path's) and the long polls waiting. Read at scrape time
 * from what the store and publisher already keep, except the 304s, counted per request.
 */
export function registerFeedMetrics(metrics: ServiceMetrics, feeds: readonly PublishedFeed[]): void {
  const registers = [metrics.registry];
  const labelNames = ['feed'] as const;
  const head = new Gauge({ name: 'feed_head_position', help: 'Position of the newest entry in the feed (0 when empty).', labelNames, registers });
  const headTime = new Gauge({ name: 'feed_head_timestamp_seconds', help: 'Commit time of the newest entry (the feed\'s creation when empty), as a unix timestamp.', labelNames, registers });
  const appended = new Counter({ name: 'feed_entries_appended_total', help: 'Entries committed to the feed since this process started (by any process writing its database).', labelNames, registers });
  const rendered = new Counter({ name: 'feed_documents_rendered_total', help: 'Feed documents rendered (subscription pages, archives, HTML pages); 304s and stored archives render nothing.', labelNames, registers });
  const notModified = new Counter({ name: 'feed_not_modified_total', help: 'Requests for the feed answered 304 Not Modified, by Koa or the fast path in front of it.', labelNames, registers });
  const waiting = new Gauge({ name: 'feed_long_polls_waiting', help: 'Long polls (Prefer: wait) held open now, waiting for the next entry.', labelNames, registers });
  const byReader = new Counter({
    name: 'feed_requests_total',
    help: 'Requests for the feed\'s resources by reader: the credential\'s name, (anonymous) when the feed is open, (refused) for a 401.',
    labelNames: ['feed', 'reader'] as const, registers,
  });
  const authChecks = new Counter({
    name: 'feed_auth_checks_total',
    help: 'Credential checks asked by a cache in front (GET /auth/feed), by reader ((refused) for a 401).',
    labelNames: ['reader'] as const, registers,
  });
  metrics.onRequest((r) => {
    if (r.route === '/auth/feed') authChecks.inc({ reader: readerLabel(r.principal?.name, r.status) });
  });

  const startedAt = new Map<string, number>();
  for (const f of feeds) { const h = f.publisher.headNow(); if (h) startedAt.set(f.name, h.lastPosition); }
  for (const f of feeds) {
    const path = f.path ?? '/feed';
    const labels = { feed: f.name };
    notModified.inc(labels, 0);
    metrics.onRequest((r) => {
      if (r.route !== path && !r.route.startsWith(`${path}/`)) return;
      if (r.status === 304) notModified.inc(labels);
      byReader.inc({ feed: f.name, reader: readerLabel(r.principal?.name, r.status) });
    });
  }

  metrics.beforeScrape(() => {
    for (const { name, publisher } of feeds) {
      // On PostgreSQL, the head held in memory (the gauges skip a scrape while it is not known).
      const h = publisher.headNow();
      if (h) {
        if (!startedAt.has(name)) startedAt.set(name, h.lastPosition);
        head.set({ feed: name }, h.lastPosition);
        headTime.set({ feed: name }, h.lastUpdatedMs / 1000);
        setCounter(appended, { feed: name }, Math.max(0, h.lastPosition - startedAt.get(name)!));
      }
      setCounter(rendered, { feed: name }, publisher.stats.renders);
      waiting.set({ feed: name }, publisher.waiting);
    }
  });
}

function readerLabel(name: string | undefined, status: number): string {
  return name ?? (status === 401 ? '(refused)' : '(anonymous)');
}
