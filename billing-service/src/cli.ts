import { runServiceCli } from '@shop/common';
import { createApp } from './app.ts';
import { loadConfig } from './config.ts';
import { migrations } from './db/migrations.ts';

/**
 * Runs one operator command (positions, parked, replay, reset; see `help`) on billing's own
 * database, found from the same environment as the service; returns the exit code.
 */
export function runCli(args: readonly string[], env: Readonly<Record<string, string | undefined>> = process.env, out: (line: string) => void = console.log): Promise<number> {
  if (env['DATABASE_URL']) {
    // Said plainly rather than reporting on a billing.db the service no longer uses.
    out('billing-service: with DATABASE_URL the order feed subscription is in PostgreSQL, which this command line does not read yet; see its /status (and consumer_subscriptions, consumer_parked in the database)');
    return Promise.resolve(2);
  }
  return runServiceCli(args, env, out, {
    serviceName: 'billing-service', databaseFile: 'billing.db', loadConfig, migrations,
    consumers: (deps) => [createApp(deps).orderFeed],
    notes: { replayed: 'its invoice (and entry on the billing feed) is committed', reset: 'entries already applied change nothing (no order is invoiced twice)' },
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await runCli(process.argv.slice(2));
}
