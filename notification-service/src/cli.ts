import { createLogger, migrate, openDatabase } from '@shop/common';
import { readConfig } from './config.ts';
import { notificationMigrations } from './db/migrations.ts';
import { buildNotificationService, SUBSCRIPTIONS } from './notificationService.ts';
import { statusOf } from './http/statusRoutes.ts';

const USAGE = `Usage: npm run cli -w notification-service -- <command>
  positions                        read position, newest entry seen and errors of each feed
  parked                           the parked entries
  replay <subscription> <entry-id> run a parked entry through the policy again
  reset <subscription>             read that feed again from its oldest archive
Subscriptions: ${SUBSCRIPTIONS.join(', ')}. Uses the same environment (DATA_DIR, ...) as the service.`;

/** Runs one command against the service's database; returns the exit code. */
export async function runCli(args: readonly string[], env: Readonly<Record<string, string | undefined>> = process.env, out: (line: string) => void = console.log): Promise<number> {
  const [command, name, atomId] = args;
  if (!command || command === 'help' || command === '--help') { out(USAGE); return command ? 0 : 2; }
  const config = readConfig(env);
  const db = openDatabase(config.dbFile);
  migrate(db, notificationMigrations);
  const service = buildNotificationService(db, config, { logger: createLogger({ service: 'notification-cli' }, 'warn') });
  try {
    const consumer = name ? service.consumer(name) : undefined;
    if ((command === 'replay' || command === 'reset') && !consumer) {
      out(`${name ? `unknown subscription "${name}"` : 'name a subscription'}: one of ${SUBSCRIPTIONS.join(', ')}\n\n${USAGE}`);
      return 2;
    }
    switch (command) {
      case 'positions':
        for (const f of statusOf(service).feeds) {
          out(`${f.name.padEnd(9)} position ${f.position} of ${f.newestSeen} seen (${f.behind} behind), parked ${f.parked.length}, last success ${f.lastSuccessAt ?? 'never'}${f.lastError ? `, last error ${f.lastErrorAt}: ${f.lastError}` : ''}  ${f.feedUrl}`);
        }
        return 0;
      case 'parked': {
        const parked = statusOf(service).feeds.flatMap((f) => f.parked.map((p) => ({ feed: f.name, ...p })));
        if (parked.length === 0) out('no parked entries');
        for (const p of parked) out(`${p.feed} ${p.atomId} position ${p.position} ${p.type} order ${p.orderId} (${p.attempts} attempts): ${p.error}`);
        return 0;
      }
      case 'replay': {
        if (!consumer || !atomId) { out(`name the parked entry to replay (its id, from "parked")\n\n${USAGE}`); return 2; }
        const r = consumer.replayParked(atomId);
        out(r.ok ? `replayed ${atomId} (and ${r.replayed - 1} later entries of its order held behind it); any email it decided is in the outbox` : `not replayed: ${r.reason}${r.error ? `: ${r.error}` : ''}`);
        return r.ok ? 0 : 1;
      }
      case 'reset':
        if (!consumer) { out(USAGE); return 2; }
        consumer.resetPosition();
        out(`${name} will be read again from its oldest archive (emails already queued are not sent twice)`);
        return 0;
      default:
        out(USAGE);
        return 2;
    }
  } finally {
    await service.stop();
    db.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await runCli(process.argv.slice(2));
}
