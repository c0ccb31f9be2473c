import { createLogger } from '@shop/common';
import { tempDir } from '@shop/common/testing';
import { buildPgNotificationService, type NotificationPg, openNotificationPg, type PgNotificationService } from '../pgNotificationService.ts';
import { type ShopFeeds, startShopFeeds } from './shopFeeds.ts';
import { SmtpPeer } from './smtpPeer.ts';

/** One notification instance on PostgreSQL, in this process, with real feeds and a real SMTP peer. */
export interface PgInstance {
  readonly feeds: ShopFeeds;
  readonly smtp: SmtpPeer;
  readonly pg: NotificationPg;
  readonly service: PgNotificationService;
  /** The environment it was configured from (for the command line). */
  readonly env: Readonly<Record<string, string>>;
  /** The Message-IDs received whose key has `-<kind>@` (e.g. `confirmation`). */
  received(kind: string): string[];
  close(): Promise<void>;
}

/** Starts the instance on the database at `url` (`requirePostgres`), `extra` added to its environment; ticks of 100 ms. */
export async function startPgInstance(url: string, extra: Record<string, string> = {}): Promise<PgInstance> {
  const dir = tempDir();
  const feeds = await startShopFeeds();
  const smtp = new SmtpPeer();
  const port = await smtp.start();
  const env = {
    DATABASE_URL: url, SMTP_URL: `smtp://127.0.0.1:${port}`, POLL_SCHEDULE: '200ms', DATA_DIR: dir.path,
    ORDER_FEED_URL: feeds.orders.feedUrl, BILLING_FEED_URL: feeds.billing.feedUrl, SHIPPING_FEED_URL: feeds.shipping.feedUrl, ...extra,
  };
  const logger = createLogger({}, 'silent');
  const pg = await openNotificationPg(url, logger);
  const service = await buildPgNotificationService(pg, feeds.config(dir.path, env), { logger, ownershipIntervalMs: 100, leadershipRetryMs: 100 });
  await service.start();
  return {
    feeds, smtp, pg, service, env,
    received: (kind) => smtp.received.map((m) => String(m.messageId)).filter((id) => id.includes(`-${kind}@`)),
    async close() {
      await service.stop();
      await pg.close();
      await smtp.stop();
      await feeds.close();
      dir.remove();
    },
  };
}

/** Resolves with `check`'s first truthy answer, polling every 50 ms; throws naming `what` after `ms`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
