import type { AsyncOperableConsumer, ConsumerStatus, ParkedSummary, ReplayResult } from '@shop/common';
import { PgFeedConsumer } from '@shop/common/pg';
import type { PgNotificationService } from '../pgNotificationService.ts';
import { inboxUrl } from './partitionWorker.ts';

/**
 * A feed as the operator's command line sees it on PostgreSQL: its reader's position, and the
 * entries its partitions parked (`orders@3`...) as one list. A replay runs the entry through the
 * policy as its partition would (in a transaction, then unparked); a reset reads the feed again
 * for every partition.
 */
export function pgFeedOperations(service: PgNotificationService, feed: PgFeedConsumer): AsyncOperableConsumer {
  const { store } = service;
  return {
    name: feed.name,
    async status(): Promise<ConsumerStatus> {
      const [s, parked] = await Promise.all([feed.status(), store.parkedOfFeed(feed.name, 100)]);
      return { ...s, parked: parked.parked, parkedTotal: parked.total };
    },
    async parked(page = {}): Promise<ParkedSummary[]> {
      const limit = page.limit === undefined || page.limit < 0 ? null : page.limit;
      return (await store.parkedOfFeed(feed.name, limit, page.after ?? 0)).parked;
    },
    async replayParked(atomId: string): Promise<ReplayResult> {
      const name = await store.parkedBy(feed.name, atomId);
      if (name === undefined) return { ok: false, reason: 'not-parked' };
      if (name === feed.name) return feed.replayParked(atomId);
      // The partition's own subscription, as its worker applies it (never polled: it has no feed of its own).
      const partition = new PgFeedConsumer(store.pool, { name, feedUrl: inboxUrl(feed.name), handler: service.handler.handle, onFailure: 'park' });
      try {
        return await partition.replayParked(atomId);
      } finally {
        await partition.close();
      }
    },
    resetPosition: () => store.resetFeed(feed.name),
  };
}
