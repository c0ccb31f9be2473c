import { createLogger } from '@shop/common';
import { takePort } from '@shop/common/testing';
import { loadConfig } from '../config.ts';
import { type OrderPg, type PgOrderApp, createPgApp, openOrderPg } from '../pgApp.ts';

export interface RunningPgOrderService extends PgOrderApp {
  readonly url: string;
  readonly pg: OrderPg;
  close(): Promise<void>;
}

/**
 * An instance of the order service on a real port over PostgreSQL (`databaseUrl`); never polls
 * (nor leads the shipping subscription) by itself.
 * Several on one database are several instances of the service.
 */
export async function startPgOrderService(dataDir: string, databaseUrl: string, env: Record<string, string> = {}): Promise<RunningPgOrderService> {
  const port = await takePort(Number(env['PORT'] ?? 0));
  const config = loadConfig({ DATA_DIR: dataDir, PUBLIC_URL: port.url, CONSUMER_LONG_POLL: '0', DATABASE_URL: databaseUrl, ...env });
  const logger = createLogger({}, 'silent');
  const pg = await openOrderPg(databaseUrl, { pageSize: config.feedPageSize, logger });
  const built = createPgApp({ config, logger, consumer: { backoff: { baseMs: 1, maxMs: 5 }, maxAttempts: 2 } }, pg);
  port.serve(built.handler);
  return {
    ...built,
    url: port.url,
    pg,
    close: async () => {
      await built.shippingFeed.close();
      built.access.close();
      await port.close();
      await pg.close();
    },
  };
}
