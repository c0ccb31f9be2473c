import { missingParts } from '../domain/policy.ts';
import type { PgNotificationService } from '../pgNotificationService.ts';
import { outboxStatusOf } from './statusRoutes.ts';
import { templateStatusOf } from './templateRoutes.ts';

const PARKED_SHOWN = 100;

/**
 * What GET /status shows on PostgreSQL: this instance, who owns which partition and since when,
 * what each partition still has to apply, the feeds (read by whichever instance leads each), the
 * parked entries, the waiting orders and the outbox, which every instance shares.
 */
export async function pgStatusOf(service: PgNotificationService) {
  const { store, outbox, ownership } = service;
  const [snapshot, backlog, feeds, waiting, counts, states, retrying, dead] = await Promise.all([
    ownership.snapshot(store.pool), store.inboxBacklog(), Promise.all(service.feeds.map(async (f) => ({ s: await f.status(), parked: await store.parkedOfFeed(f.name, PARKED_SHOWN) }))),
    store.waiting(), outbox.counts(), outbox.outboxStates(), outbox.retrying(50), outbox.dead(200),
  ]);
  return {
    service: 'notification-service',
    instance: service.config.instanceName,
    partitions: {
      count: service.partitions,
      mine: ownership.owned(),
      lastChangeAt: ownership.lastChangeAt,
      instances: snapshot.instances.map((i) => ({ instance: i.instance, partitions: i.partitions })),
      owners: snapshot.owners.map((o) => ({ ...o, inbox: backlog.get(o.partition) ?? 0 })),
      working: service.workers().map((w) => w.status()),
    },
    feeds: feeds.map(({ s, parked }) => ({
      name: s.name, feedUrl: s.feedUrl, readBy: s.leader ? 'this instance' : 'another instance', position: s.position, lastEntryId: s.lastAtomId, newestSeen: s.newestSeen,
      behind: s.behind, lastSuccessAt: s.lastSuccessAt, lastError: s.lastError, lastErrorAt: s.lastErrorAt, failures: s.failures, retryAt: s.retryAt,
      parked: parked.parked, parkedTotal: parked.total, totals: s.totals,
    })),
    waitingOrders: waiting.map((o) => ({ orderId: o.orderId, missing: missingParts(o), readySince: o.readySince ?? null, overdue: o.overdue })),
    outbox: outboxStatusOf({ ...counts, ...states }, service.sender.transportStatus(), retrying, dead),
    templates: templateStatusOf(service),
  };
}
