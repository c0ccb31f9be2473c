import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { type Db, createLogger, migrate, openDatabase } from '@shop/common';
import { takePort } from '@shop/common/testing';
import { type OrderApp, createApp } from '../app.ts';
import { loadConfig } from '../config.ts';
import { migrations } from '../db/migrations.ts';

export interface RunningOrderService extends OrderApp {
  readonly url: string;
  readonly db: Db;
  close(): Promise<void>;
}

/** Optional observers for tests that need to see what reaches the origin (e.g. behind a cache). */
export interface OrderServiceHooks {
  /** Called for every HTTP request the service receives, before the app handles it. */
  readonly onRequest?: (req: IncomingMessage) => void;
}

/** The order service on a real port and a real SQLite file, configured as from the environment; never polls the shipping feed by itself. */
export async function startOrderService(dataDir: string, env: Record<string, string> = {}, hooks: OrderServiceHooks = {}): Promise<RunningOrderService> {
  const port = await takePort(Number(env['PORT'] ?? 0));
  const { url } = port;
  const config = loadConfig({ DATA_DIR: dataDir, PUBLIC_URL: url, CONSUMER_LONG_POLL: '0', ...env });
  const db = openDatabase(join(config.dataDir, 'orders.db'));
  migrate(db, migrations);
  const built = createApp({ db, config, logger: createLogger({}, 'silent'), consumer: { backoff: { baseMs: 1, maxMs: 5 }, maxAttempts: 2 } });
  if (hooks.onRequest) port.serve(hooks.onRequest);
  port.serve(built.handler);
  return {
    ...built,
    url,
    db,
    close: async () => {
      await built.shippingFeed.close();
      built.access.close();
      await port.close();
      db.close();
    },
  };
}
