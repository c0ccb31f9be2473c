import { runServiceCli } from '@shop/common';
import { createApp } from './app.ts';
import { loadConfig } from './config.ts';
import { migrations } from './db/migrations.ts';

const NOTES = { replayed: 'its invoice (and entry on the billing feed) is committed', reset: 'entries already applied change nothing (no order is invoiced twice)' };

/**
 * Runs one operator command (positions, parked, replay, reset; see `help`) on billing's own
 * database, found from the same environment as the service; returns the exit code. With DATABASE_URL, in its PostgreSQL database, as the service.
 */
export function runCli(args: readonly string[], env: Readonly<Record<string, string | undefined>> = process.env, out: (line: string) => void = console.log): Promise<number> {
  if (env['DATABASE_URL']) return runPgCli(args, env, out);
  return runServiceCli(args, env, out, {
    serviceName: 'billing-service', databaseFile: 'billing.db', loadConfig, migrations,
    consumers: (deps) => [createApp(deps).orderFeed],
    notes: NOTES,
  });
}

/** With DATABASE_URL: the order feed subscription in billing's PostgreSQL database (the driver is loaded only then). */
async function runPgCli(args: readonly string[], env: Readonly<Record<string, string | undefined>>, out: (line: string) => void): Promise<number> {
  const [{ PgFeedStore, runPgServiceCli }, { createPgApp }, { pgMigrations }] = await Promise.all([import('@shop/common/pg'), import('./pgApp.ts'), import('./db/pgBillingStore.ts')]);
  return runPgServiceCli(args, env, out, {
    serviceName: 'billing-service', loadConfig, migrations: pgMigrations,
    consumers: async ({ pool, url, config, logger }) => {
      const feed = await PgFeedStore.open(pool, { pageSize: config.feedPageSize });
      return [createPgApp({ config, logger }, { url, pool, feed }, { leadership: false }).orderFeed];
    },
    notes: NOTES,
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await runCli(process.argv.slice(2));
}
