import { runServiceCli } from '@shop/common';
import { createApp } from './app.ts';
import { loadConfig } from './config.ts';
import { migrations } from './db/migrations.ts';

/**
 * Runs one operator command (positions, parked, replay, reset; see `help`) on shipping's own
 * database, found from the same environment as the service; returns the exit code.
 */
export function runCli(args: readonly string[], env: Readonly<Record<string, string | undefined>> = process.env, out: (line: string) => void = console.log): Promise<number> {
  if (env['DATABASE_URL']) {
    // Said plainly rather than reporting on a shipping.db the service no longer uses.
    out('shipping-service: with DATABASE_URL the order and billing feed subscriptions are in PostgreSQL, which this command line does not read yet; see its /status (and consumer_subscriptions, consumer_parked in the database)');
    return Promise.resolve(2);
  }
  return runServiceCli(args, env, out, {
    serviceName: 'shipping-service', databaseFile: 'shipping.db', loadConfig, migrations,
    consumers: (deps) => { const { orderFeed, billingFeed } = createApp(deps); return [orderFeed, billingFeed]; },
    notes: { replayed: 'what it scheduled (and its entries on the shipping feed) is committed', reset: 'an entry already applied changes nothing' },
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await runCli(process.argv.slice(2));
}
