import { runServiceCli } from '@shop/common';
import { createApp } from './app.ts';
import { loadConfig } from './config.ts';
import { migrations } from './db/migrations.ts';

const NOTES = { replayed: 'what it scheduled (and its entries on the shipping feed) is committed', reset: 'an entry already applied changes nothing' };

/**
 * Runs one operator command (positions, parked, replay, reset; see `help`) on shipping's own
 * database, found from the same environment as the service; returns the exit code. With DATABASE_URL, in its PostgreSQL database, as the service.
 */
export function runCli(args: readonly string[], env: Readonly<Record<string, string | undefined>> = process.env, out: (line: string) => void = console.log): Promise<number> {
  if (env['DATABASE_URL']) return runPgCli(args, env, out);
  return runServiceCli(args, env, out, {
    serviceName: 'shipping-service', databaseFile: 'shipping.db', loadConfig, migrations,
    consumers: (deps) => { const { orderFeed, billingFeed } = createApp(deps); return [orderFeed, billingFeed]; },
    notes: NOTES,
  });
}

/** With DATABASE_URL: the order and billing feed subscriptions in shipping's PostgreSQL database (the driver is loaded only then). */
async function runPgCli(args: readonly string[], env: Readonly<Record<string, string | undefined>>, out: (line: string) => void): Promise<number> {
  const [{ PgFeedStore, runPgServiceCli }, { createPgApp }, { pgDownloadLinkSecret, pgMigrations }] = await Promise.all([import('@shop/common/pg'), import('./pgApp.ts'), import('./db/pgShippingStore.ts')]);
  return runPgServiceCli(args, env, out, {
    serviceName: 'shipping-service', loadConfig, migrations: pgMigrations,
    consumers: async ({ pool, url, config, logger }) => {
      const feed = await PgFeedStore.open(pool, { pageSize: config.feedPageSize });
      const linkSecret = await pgDownloadLinkSecret(pool, config.downloadLinkSecret);
      const { orderFeed, billingFeed } = createPgApp({ config, logger }, { url, pool, feed, linkSecret }, { leadership: false });
      return [orderFeed, billingFeed];
    },
    notes: NOTES,
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await runCli(process.argv.slice(2));
}
