import { existsSync } from 'node:fs';
import { ConfigError, createLogger, migrate, openDatabase, runConsumerCli } from '@shop/common';
import { readConfig } from './config.ts';
import { notificationMigrations } from './db/migrations.ts';
import { buildNotificationService } from './notificationService.ts';

/**
 * Runs one operator command (positions, parked, replay, reset; see `help`) on this instance's
 * database, found from the same environment as the service; returns the exit code.
 */
export async function runCli(args: readonly string[], env: Readonly<Record<string, string | undefined>> = process.env, out: (line: string) => void = console.log): Promise<number> {
  let config;
  try {
    config = readConfig(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    out(`notification-service: ${err.message}`);
    return 2;
  }
  // Opening a missing file would create an empty database and report nothing wrong.
  if (!existsSync(config.dbFile)) { out(`notification-service: no database at ${config.dbFile}: set DATA_DIR as for the service`); return 2; }
  const db = openDatabase(config.dbFile);
  migrate(db, notificationMigrations);
  const service = buildNotificationService(db, config, { logger: createLogger({ service: 'notification-cli' }, 'warn') });
  try {
    return runConsumerCli(args, {
      consumers: service.consumers, serviceName: 'notification-service', out,
      notes: { replayed: 'any email it decided is in the outbox', reset: 'emails already queued are not sent twice' },
    });
  } finally {
    await service.stop();
    db.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await runCli(process.argv.slice(2));
}
