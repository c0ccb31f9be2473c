import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, createLogger, migrate, openDatabase, runConsumerCli } from '@shop/common';
import { createApp } from './app.ts';
import { loadConfig } from './config.ts';
import { migrations } from './db/migrations.ts';

/**
 * Runs one operator command (positions, parked, replay, reset; see `help`) on the order
 * service's shipping feed subscription, in its own database found from the same environment as
 * the service; returns the exit code.
 */
export async function runCli(args: readonly string[], env: Readonly<Record<string, string | undefined>> = process.env, out: (line: string) => void = console.log): Promise<number> {
  let config;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    out(`order-service: ${err.message}`);
    return 2;
  }
  const file = join(config.dataDir, 'orders.db');
  // Opening a missing file would create an empty database and report nothing wrong.
  if (!existsSync(file)) { out(`order-service: no database at ${file}: set DATA_DIR as for the service`); return 2; }
  const db = openDatabase(file);
  try {
    migrate(db, migrations);
    const { shippingFeed } = createApp({ db, config, logger: createLogger({ service: 'order-cli' }, 'warn') });
    try {
      return runConsumerCli(args, {
        consumers: [shippingFeed], serviceName: 'order-service', out,
        notes: { replayed: 'the dispatch or delivery is noted on its order', reset: 'entries already applied change nothing (a dispatch is noted once)' },
      });
    } finally {
      await shippingFeed.close();
    }
  } finally {
    db.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await runCli(process.argv.slice(2));
}
