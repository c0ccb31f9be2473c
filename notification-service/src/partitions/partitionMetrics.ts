import type { ServiceMetrics } from '@shop/common';
import { Gauge } from 'prom-client';
import type { PgNotificationService } from '../pgNotificationService.ts';

/**
 * Who owns which partition, as this instance sees it at scrape time (from PostgreSQL's locks):
 * one series per partition with its owner and since when, so any instance's /metrics tells the
 * whole picture, and a partition nobody owns shows as owner="" (being taken over).
 */
export function registerPartitionMetrics(metrics: ServiceMetrics, service: PgNotificationService): void {
  const registers = [metrics.registry];
  const owner = new Gauge({ name: 'notification_partition_owned_since_seconds', help: 'Per partition, the instance that owns it (label owner; empty while nobody does) and since when it does (Unix time; 0 when not known).', labelNames: ['partition', 'owner'] as const, registers });
  const mine = new Gauge({ name: 'notification_partitions_owned', help: 'How many partitions this instance works on now.', registers });
  const changed = new Gauge({ name: 'notification_partitions_changed_timestamp_seconds', help: 'When this instance last took or handed over a partition (Unix time; 0 before the first).', registers });
  const instances = new Gauge({ name: 'notification_instances', help: 'Live instances sharing the partitions (holding the membership lock).', registers });
  const inbox = new Gauge({ name: 'notification_partition_inbox_entries', help: 'Per partition, the feed entries in its inbox: handed to it and not applied yet, and applied ones not yet deleted (a busy partition deletes them every 2,000 feed positions, an idle one at once).', labelNames: ['partition'] as const, registers });
  metrics.beforeScrape(async () => {
    const [snapshot, backlog] = await Promise.all([service.ownership.snapshot(service.store.pool), service.store.inboxBacklog()]);
    owner.reset();
    inbox.reset();
    for (const o of snapshot.owners) {
      owner.set({ partition: String(o.partition), owner: o.owner ?? '' }, o.since === null ? 0 : Date.parse(o.since) / 1000);
      inbox.set({ partition: String(o.partition) }, backlog.get(o.partition) ?? 0);
    }
    mine.set(service.ownership.owned().length);
    const last = service.ownership.lastChangeAt;
    changed.set(last === null ? 0 : Date.parse(last) / 1000);
    instances.set(snapshot.instances.length);
  });
}
