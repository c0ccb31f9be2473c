import { existsSync } from 'node:fs';
import { ConfigError, consumerCliUsage, createLogger, migrate, openDatabase, runConsumerCli } from '@shop/common';
import { readConfig } from './config.ts';
import { notificationMigrations } from './db/migrations.ts';
import type { NotificationStore } from './db/notificationStore.ts';
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
    return runOutboxCommand(args, service.store, out) ?? runConsumerCli(args, {
      consumers: service.consumers, serviceName: 'notification-service', out, moreCommands: OUTBOX_COMMANDS,
      notes: { replayed: 'any email it decided is in the outbox', reset: 'emails already queued are not sent twice' },
    });
  } finally {
    await service.stop();
    db.close();
  }
}

/**
 * The outbox commands: the exit code, or undefined for a command that is not one of them. A
 * requeued email is sent by the service on its next delivery run (this process sends nothing, so
 * the two never deliver the same email at once).
 */
function runOutboxCommand(args: readonly string[], store: NotificationStore, out: (line: string) => void): number | undefined {
  const [command, ...rest] = args;
  const usage = (problem: string) => { out(`${problem}\n\n${consumerCliUsage('notification-service', SUBSCRIPTIONS, OUTBOX_COMMANDS)}`); return 2; };
  const next = 'the service sends it on its next delivery run, with the same Message-ID';
  switch (command) {
    case 'dead': {
      if (rest.length > 0) return usage(`too many arguments for dead: ${rest.join(' ')}`);
      const dead = store.dead(-1);
      if (dead.length === 0) out('no dead letters');
      for (const e of dead) out(`${e.id} ${e.kind} order ${e.orderId} to ${e.toAddress} (${e.attempts} tries, dead ${e.deadAt}): ${e.lastError}`);
      return 0;
    }
    case 'resend': {
      if (rest.length !== 1 || !/^[1-9]\d{0,15}$/.test(rest[0]!)) return usage('name the email to resend by its id (a number, as "dead" and /status list it)');
      const id = Number(rest[0]);
      const email = store.email(id);
      if (!email) { out(`not resent: there is no email ${id}`); return 1; }
      if (email.sentAt) { out(`not resent: email ${id} was sent at ${email.sentAt} (via ${email.sentVia})`); return 1; }
      store.requeue(id);
      out(`email ${id} (${email.kind} of order ${email.orderId} to ${email.toAddress}) is queued again${email.deadAt ? ` (dead since ${email.deadAt}: ${email.lastError})` : ''}; ${next}`);
      return 0;
    }
    case 'resend-dead': {
      if (rest.length > 0) return usage(`too many arguments for resend-dead: ${rest.join(' ')}`);
      const ids = store.requeueDead();
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
