import { runServiceCli } from '@shop/common';
import { createApp } from './app.ts';
import { loadConfig } from './config.ts';
import { migrations } from './db/migrations.ts';

/**
 * Runs one operator command (positions, parked, replay, reset; see `help`) on the order
 * service's shipping feed subscription, in its own database found from the same environment as
 * the service; returns the exit code.
 */
export function runCli(args: readonly string[], env: Readonly<Record<string, string | undefined>> = process.env, out: (line: string) => void = console.log): Promise<number> {
  if (env['DATABASE_URL']) {
    // Said plainly rather than reporting on an orders.db the service no longer uses.
    out('order-service: with DATABASE_URL the shipping feed subscription is in PostgreSQL, which this command line does not read yet; see its /status (and consumer_subscriptions, consumer_parked in the database)');
    return Promise.resolve(2);
  }
  return runServiceCli(args, env, out, {
    serviceName: 'order-service', databaseFile: 'orders.db', loadConfig, migrations,
    consumers: (deps) => [createApp(deps).shippingFeed],
    notes: { replayed: 'the dispatch or delivery is noted on its order', reset: 'entries already applied change nothing (a dispatch is noted once)' },
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await runCli(process.argv.slice(2));
}
