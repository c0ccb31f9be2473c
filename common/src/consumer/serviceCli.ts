import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../config/env.ts';
import { type Db, type Migration, migrate, openDatabase } from '../db/database.ts';
import { createLogger, type Logger } from '../log/logger.ts';
import { type ConsumerCliOptions, runConsumerCli } from './consumerCli.ts';
import type { FeedConsumer } from './feedConsumer.ts';

type Env = Readonly<Record<string, string | undefined>>;

export interface ServiceCliOptions<C extends { readonly dataDir: string }> {
  /** The npm workspace (`order-service`): prefixes the refusals, names the usage line and the log's `service` (`order-cli`). */
  readonly serviceName: string;
  /** The service's SQLite file in its DATA_DIR (`orders.db`). */
  readonly databaseFile: string;
  /** The service's own config loader: the command line reads the same environment as the service. */
  readonly loadConfig: (env: Env) => C;
  readonly migrations: readonly Migration[];
  /** Builds the service's feed consumers on the open database, as the service does (its createApp). */
  readonly consumers: (deps: { readonly db: Db; readonly config: C; readonly logger: Logger }) => readonly FeedConsumer[];
  readonly notes?: ConsumerCliOptions['notes'];
  readonly moreCommands?: ConsumerCliOptions['moreCommands'];
}

/** The service's config for a command line, or undefined after saying what is wrong with it. */
export function loadCliConfig<C>(o: { readonly serviceName: string; readonly loadConfig: (env: Env) => C }, env: Env, out: (line: string) => void): C | undefined {
  try {
    return o.loadConfig(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    out(`${o.serviceName}: ${err.message}`);
    return undefined;
  }
}

/** The command line's logger: warnings and errors only, named after the service. */
export function cliLogger(serviceName: string): Logger {
  return createLogger({ service: `${serviceName.replace(/-service$/, '')}-cli` }, 'warn');
}

/**
 * Runs one operator command (see `runConsumerCli`) on a service's feed subscriptions, in its own
 * database, found from the same environment as the service: loads its config, opens and
 * migrates its database, builds its consumers, runs the command and closes everything. Returns
 * the exit code: 2 also for a configuration the service would refuse, or a database that is not
 * there (opening a missing file would create an empty one and report nothing wrong).
 */
export async function runServiceCli<C extends { readonly dataDir: string }>(
  args: readonly string[], env: Env, out: (line: string) => void, o: ServiceCliOptions<C>,
): Promise<number> {
  const config = loadCliConfig(o, env, out);
  if (config === undefined) return 2;
  const file = join(config.dataDir, o.databaseFile);
  if (!existsSync(file)) { out(`${o.serviceName}: no database at ${file}: set DATA_DIR as for the service`); return 2; }
  const db = openDatabase(file);
  try {
    migrate(db, o.migrations);
    const logger = cliLogger(o.serviceName);
    const consumers = o.consumers({ db, config, logger });
    try {
      return runConsumerCli(args, { consumers, serviceName: o.serviceName, out, notes: o.notes, moreCommands: o.moreCommands });
    } finally {
      await Promise.all(consumers.map((c) => c.close()));
    }
  } finally {
    db.close();
  }
}
