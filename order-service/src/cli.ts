import { runServiceCli } from '@shop/common';
import { createApp } from './app.ts';
import { loadConfig } from './config.ts';
import { migrations } from './db/migrations.ts';

const NOTES = { replayed: 'the dispatch or delivery is noted on its order', reset: 'entries already applied change nothing (a dispatch is noted once)' };

/**
 * Runs one operator command (positions, parked, replay, reset; see `help`) on the order
 * service's shipping feed subscription, in its own database found from the same environment as
 * the service; returns the exit code. With DATABASE_URL, in its PostgreSQL database, as the service.
 */
export function runCli(args: readonly string[], env: Readonly<Record<string, string | undefined>> = process.env, out: (line: string) => void = console.log): Promise<number> {
  if (env['DATABASE_URL']) return runPgCli(args, env, out);
  return runServiceCli(args, env, out, {
    serviceName: 'order-service', databaseFile: 'orders.db', loadConfig, migrations,
    consumers: (deps) => [createApp(deps).shippingFeed],
    notes: NOTES,
  });
}

/** With DATABASE_URL: the shipping feed subscription in the order service's PostgreSQL database (the driver is loaded only then). */
async function runPgCli(args: readonly string[], env: Readonly<Record<string, string | undefined>>, out: (line: string) => void): Promise<number> {
  const [{ PgFeedStore, runPgServiceCli }, { createPgApp }, { pgMigrations }] = await Promise.all([import('@shop/common/pg'), import('./pgApp.ts'), import('./db/pgMigrations.ts')]);
  return runPgServiceCli(args, env, out, {
    serviceName: 'order-service', loadConfig, migrations: pgMigrations,
    consumers: async ({ pool, url, config, logger }) => {
      const feed = await PgFeedStore.open(pool, { pageSize: config.feedPageSize });
      return [createPgApp({ config, logger }, { url, pool, feed }, { leadership: false }).shippingFeed];
    },
    notes: NOTES,
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await runCli(process.argv.slice(2));
}
