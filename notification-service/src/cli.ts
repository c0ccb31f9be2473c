import { existsSync } from 'node:fs';
import { ConfigError, consumerCliUsage, createLogger, migrate, openDatabase, runAsyncConsumerCli, runConsumerCli } from '@shop/common';
import { type NotificationConfig, readConfig } from './config.ts';
import { notificationMigrations } from './db/migrations.ts';
import type { OutboxEmail } from './db/notificationStore.ts';
import { buildNotificationService, SUBSCRIPTIONS } from './notificationService.ts';

/** The outbox's own commands, run here; the rest go to common's consumer command line. */
const OUTBOX_COMMANDS = [
  'dead                             the dead letters: emails given up on, with why',
  'resend <email-id>                queue an unsent email (dead, or waiting for its next try) to be sent now, same Message-ID',
  'resend-dead                      queue every dead letter to be sent again',
];

/**
 * Runs one operator command (positions, parked, replay, reset, dead, resend; see `help`) on this instance's
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
  if (config.databaseUrl !== undefined) return runPgCli(args, config, out);
  // Opening a missing file would create an empty database and report nothing wrong.
  if (!existsSync(config.dbFile)) { out(`notification-service: no database at ${config.dbFile}: set DATA_DIR as for the service`); return 2; }
  const db = openDatabase(config.dbFile);
  migrate(db, notificationMigrations);
  let service;
  try {
    service = buildNotificationService(db, config, { logger: createLogger({ service: 'notification-cli' }, 'warn') });
  } catch (err) {
    db.close();
    // No usable email templates (a replay renders emails): said as the service says it at start.
    if (!(err instanceof ConfigError)) throw err;
    out(`notification-service: ${err.message}`);
    return 2;
  }
  try {
    return await runOutboxCommand(args, service.store, out) ?? runConsumerCli(args, {
      consumers: service.consumers, serviceName: 'notification-service', out, moreCommands: OUTBOX_COMMANDS,
      notes: { replayed: 'any email it decided is in the outbox', reset: 'emails already queued are not sent twice' },
    });
  } finally {
    await service.stop();
    db.close();
  }
}

/**
 * The same commands on the PostgreSQL database the instances share (DATABASE_URL): the feeds'
 * positions, the entries their partitions parked, replays run as a partition would run them,
 * and the shared outbox. Builds the service without starting it: it takes no partition and
 * reads no feed.
 */
async function runPgCli(args: readonly string[], config: NotificationConfig, out: (line: string) => void): Promise<number> {
  const logger = createLogger({ service: 'notification-cli' }, 'warn');
  const { openNotificationPg, buildPgNotificationService } = await import('./pgNotificationService.ts');
  const { pgFeedOperations } = await import('./feeds/pgFeedOperations.ts');
  let pg;
  try {
    pg = await openNotificationPg(config.databaseUrl!, logger, { poolSize: 2 });
  } catch (err) {
    out(`notification-service: cannot open the database at DATABASE_URL: ${(err as Error).message}`);
    return 2;
  }
  try {
    let service;
    try {
      service = await buildPgNotificationService(pg, config, { logger });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      out(`notification-service: ${err.message}`);
      return 2;
    }
    try {
      return await runOutboxCommand(args, service.outbox, out) ?? await runAsyncConsumerCli(args, {
        consumers: service.feeds.map((f) => pgFeedOperations(service, f)), serviceName: 'notification-service', out, moreCommands: OUTBOX_COMMANDS,
        notes: { replayed: 'any email it decided is in the outbox', reset: 'for every partition; emails already queued are not sent twice' },
      });
    } finally {
      await service.stop();
    }
  } finally {
    await pg.close();
  }
}

/** The outbox as its commands use it: NotificationStore (SQLite) or PgOutboxStore. */
interface OutboxCommands {
  dead(limit?: number): OutboxEmail[] | Promise<OutboxEmail[]>;
  email(id: number): OutboxEmail | undefined | Promise<OutboxEmail | undefined>;
  requeue(id: number): boolean | Promise<boolean>;
  requeueDead(): number[] | Promise<number[]>;
}

/**
 * The outbox commands: the exit code, or undefined for a command that is not one of them. A
 * requeued email is sent by the service on its next delivery run (this process sends nothing, so
 * the two never deliver the same email at once).
 */
async function runOutboxCommand(args: readonly string[], store: OutboxCommands, out: (line: string) => void): Promise<number | undefined> {
  const [command, ...rest] = args;
  const usage = (problem: string) => { out(`${problem}\n\n${consumerCliUsage('notification-service', SUBSCRIPTIONS, OUTBOX_COMMANDS)}`); return 2; };
  const next = 'the service sends it on its next delivery run, with the same Message-ID';
  switch (command) {
    case 'dead': {
      if (rest.length > 0) return usage(`too many arguments for dead: ${rest.join(' ')}`);
      const dead = await store.dead(-1);
      if (dead.length === 0) out('no dead letters');
      for (const e of dead) out(`${e.id} ${e.kind} order ${e.orderId} to ${e.toAddress} (${e.attempts} tries, dead ${e.deadAt}): ${e.lastError}`);
      return 0;
    }
    case 'resend': {
      if (rest.length !== 1 || !/^[1-9]\d{0,15}$/.test(rest[0]!)) return usage('name the email to resend by its id (a number, as "dead" and /status list it)');
      const id = Number(rest[0]);
      const email = await store.email(id);
      if (!email) { out(`not resent: there is no email ${id}`); return 1; }
      if (email.sentAt) { out(`not resent: email ${id} was sent at ${email.sentAt} (via ${email.sentVia})`); return 1; }
      await store.requeue(id);
      out(`email ${id} (${email.kind} of order ${email.orderId} to ${email.toAddress}) is queued again${email.deadAt ? ` (dead since ${email.deadAt}: ${email.lastError})` : ''}; ${next}`);
      return 0;
    }
    case 'resend-dead': {
      if (rest.length > 0) return usage(`too many arguments for resend-dead: ${rest.join(' ')}`);
      const ids = await store.requeueDead();
      out(ids.length === 0 ? 'no dead letters' : `queued again: ${ids.length} dead ${ids.length === 1 ? 'letter' : 'letters'} (${ids.join(', ')}); ${next}`);
      return 0;
    }
    default:
      return undefined;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await runCli(process.argv.slice(2));
}
