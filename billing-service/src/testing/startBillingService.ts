import { join } from 'node:path';
import { type Db, createLogger, migrate, openDatabase } from '@shop/common';
import { takePort } from '@shop/common/testing';
import { type BillingApp, createApp } from '../app.ts';
import { loadConfig } from '../config.ts';
import { migrations } from '../db/migrations.ts';

export interface RunningBillingService extends BillingApp {
  readonly url: string;
  readonly db: Db;
  close(): Promise<void>;
}

/** Billing on a real port and a real SQLite file, configured as from the environment; never polls by itself. */
export async function startBillingService(dataDir: string, env: Record<string, string> = {}, now?: () => Date): Promise<RunningBillingService> {
  const port = await takePort();
  const { url } = port;
  const config = loadConfig({ DATA_DIR: dataDir, PUBLIC_URL: url, CONSUMER_LONG_POLL: '0', ...env });
  const db = openDatabase(join(config.dataDir, 'billing.db'));
  migrate(db, migrations);
  const built = createApp({ db, config, logger: createLogger({}, 'silent'), consumer: { backoff: { baseMs: 1, maxMs: 5 }, maxAttempts: 2 }, ...(now ? { now } : {}) });
  port.serve(built.handler);
  return {
    ...built,
    url,
    db,
    close: async () => {
      await built.orderFeed.close();
      built.access.close();
      await port.close();
      db.close();
    },
  };
}

/** An order feed payload from the order service's contract examples (see orderExamples.ts); override what a test needs. */
export { orderPlacedPayload } from './orderExamples.ts';
