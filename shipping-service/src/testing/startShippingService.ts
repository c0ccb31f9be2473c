import { join } from 'node:path';
import { type Db, createLogger, migrate, openDatabase } from '@shop/common';
import { takePort } from '@shop/common/testing';
import { type ShippingApp, createApp } from '../app.ts';
import { loadConfig } from '../config.ts';
import { migrations } from '../db/migrations.ts';

export interface RunningShippingService extends ShippingApp {
  readonly url: string;
  readonly db: Db;
  close(): Promise<void>;
}

/** Shipping on a real port and a real SQLite file, configured as from the environment; never polls by itself. */
export async function startShippingService(dataDir: string, env: Record<string, string> = {}, now?: () => Date): Promise<RunningShippingService> {
  const port = await takePort();
  const { url } = port;
  const config = loadConfig({ DATA_DIR: dataDir, PUBLIC_URL: url, CONSUMER_LONG_POLL: '0', ...env });
  const db = openDatabase(join(config.dataDir, 'shipping.db'));
  migrate(db, migrations);
  const built = createApp({ db, config, logger: createLogger({}, 'silent'), consumer: { backoff: { baseMs: 1, maxMs: 5 }, maxAttempts: 2 }, ...(now ? { now } : {}) });
  port.serve(built.handler);
  return {
    ...built,
    url,
    db,
    close: async () => {
      await Promise.all([built.orderFeed.close(), built.billingFeed.close()]);
      built.access.close();
      await port.close();
      db.close();
    },
  };
}
