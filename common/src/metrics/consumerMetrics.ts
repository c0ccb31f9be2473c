import { Counter, Gauge } from 'prom-client';
import type { ConsumerProgress } from '../consumer/consumerOperations.ts';
import { type ServiceMetrics, setCounter } from './serviceMetrics.ts';

/**
 * Per feed subscription: where it reads, how far behind it is (in entries and in seconds), when a
 * poll last succeeded (a heartbeat: a stuck poller stops it, a quiet feed does not), failed polls
 * and parked entries. All read from `consumer.progress()` at scrape time, so polling pays nothing.
 */
export function registerConsumerMetrics(metrics: ServiceMetrics, consumers: readonly { progress(): ConsumerProgress }[]): void {
  const registers = [metrics.registry];
  const labelNames = ['subscription'] as const;
  const position = new Gauge({ name: 'consumer_read_position', help: 'Position of the last entry applied (or parked) from the feed.', labelNames, registers });
  const newest = new Gauge({ name: 'consumer_newest_position_seen', help: 'Newest feed position this subscription has seen.', labelNames, registers });
  const lagEntries = new Gauge({ name: 'consumer_lag_entries', help: 'Entries seen but not yet applied: newest position seen minus read position.', labelNames, registers });
  const lagSeconds = new Gauge({ name: 'consumer_lag_seconds', help: 'Age of the oldest entry not yet applied (its atom:updated), 0 when caught up; absent until a page was read since the start.', labelNames, registers });
  const lastSuccess = new Gauge({ name: 'consumer_last_success_timestamp_seconds', help: 'When a poll of the feed last succeeded (200 or 304), as a unix timestamp; 0 if never.', labelNames, registers });
  const parked = new Gauge({ name: 'consumer_parked_entries', help: 'Entries parked after failing the handler (listed on /status, replayable with the CLI).', labelNames, registers });
  const polls = new Counter({ name: 'consumer_polls_total', help: 'Polls of the feed since this process started.', labelNames, registers });
  const failures = new Counter({ name: 'consumer_poll_failures_total', help: 'Polls that failed (feed down, 5xx, bad document, gap, handler failure) since this process started.', labelNames, registers });

  metrics.beforeScrape(() => {
    for (const c of consumers) {
      const p = c.progress();
      const labels = { subscription: p.name };
      position.set(labels, p.position);
      newest.set(labels, p.newestSeen);
      lagEntries.set(labels, p.behind);
      if (p.lagSeconds === null) lagSeconds.remove(labels);
      else lagSeconds.set(labels, p.lagSeconds);
      lastSuccess.set(labels, p.lastSuccessAt === null ? 0 : Date.parse(p.lastSuccessAt) / 1000);
      parked.set(labels, p.parked);
      setCounter(polls, labels, p.polls);
      setCounter(failures, labels, p.failures);
    }
  });
}
