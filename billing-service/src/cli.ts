import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, createLogger, migrate, openDatabase, runConsumerCli } from '@shop/common';
import { createApp } from './app.ts';
import { loadConfig } from './config.ts';
import { migrations } from './db/migrations.ts';

/**
 * Runs one operator command (positions, parked, replay, reset; see `help`) on billing's own
 * database, found from the same environment as the service; returns the exit code.
 */
export async function runCli(args: readonly string[], env: Readonly<Record<string, string | undefined>> = process.env, out: (line: string) => void = console.log): Promise<number> {
  let config;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    out(`billing-service: ${err.message}`);
    return 2;
  }
  const file = join(config.dataDir, 'billing.db');
  // Opening a missing file would create an empty database and report nothing wrong.
  if (!existsSync(file)) { out(`billing-service: no database at ${file}: set DATA_DIR as for the service`); return 2; }
  const db = openDatabase(file);
  try {
    migrate(db, migrations);
    const { orderFeed } = createApp({ db, config, logger: createLogger({ service: 'billing-cli' }, 'warn') });
    try {
      return runConsumerCli(args, {
        consumers: [orderFeed], serviceName: 'billing-service', out,
        notes: { replayed: 'its invoice (and entry on the billing feed) is committed', reset: 'entries already applied change nothing (no order is invoiced twice)' },
      });
    } finally {
      await orderFeed.close();
    }
  } finally {
    db.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await runCli(process.argv.slice(2));
}
