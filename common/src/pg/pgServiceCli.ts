import type { Pool } from 'pg';
import { type AsyncOperableConsumer, type ConsumerCliOptions, runAsyncConsumerCli } from '../consumer/consumerCli.ts';
import { cliLogger, loadCliConfig } from '../consumer/serviceCli.ts';
import type { Migration } from '../db/database.ts';
import type { Logger } from '../log/logger.ts';
import { openPgPool } from './pgDatabase.ts';
import { migratePg } from './pgMigrate.ts';

type Env = Readonly<Record<string, string | undefined>>;

/** A subscription the command line runs on and then closes (PgFeedConsumer). */
export interface PgCliConsumer extends AsyncOperableConsumer {
  close(): Promise<void>;
}

export interface PgServiceCliOptions<C extends { readonly databaseUrl: string | undefined }> {
  /** The npm workspace (`billing-service`): prefixes the refusals, names the usage line and the log's `service`. */
  readonly serviceName: string;
  /** The service's own config loader: the command line reads the same environment as the service. */
  readonly loadConfig: (env: Env) => C;
  /** The service's PostgreSQL migrations (migratePg: safe while instances of the service run). */
  readonly migrations: readonly Migration[];
  /**
   * Builds the service's PostgreSQL feed consumers on the open pool, as the service does, but
   * without leadership: the command line never polls, and its operations need no leadership.
   */
  readonly consumers: (deps: { readonly pool: Pool; readonly url: string; readonly config: C; readonly logger: Logger }) => Promise<readonly PgCliConsumer[]>;
  readonly notes?: ConsumerCliOptions['notes'];
  readonly moreCommands?: ConsumerCliOptions['moreCommands'];
}

/**
 * `runServiceCli` for a service on PostgreSQL (DATABASE_URL): loads its config, opens a small
 * pool on its database, migrates it, builds its consumers (not polling, not leading), runs one
 * operator command through their async API (a replay runs the handler and removes the parked
 * entry in one transaction, as the running service would) and closes everything. Returns the exit
 * code: 2 also for a configuration the service would refuse or a database it cannot reach.
 */
export async function runPgServiceCli<C extends { readonly databaseUrl: string | undefined }>(
  args: readonly string[], env: Env, out: (line: string) => void, o: PgServiceCliOptions<C>,
): Promise<number> {
  const config = loadCliConfig(o, env, out);
  if (config === undefined) return 2;
  const url = config.databaseUrl;
  if (!url) { out(`${o.serviceName}: set DATABASE_URL as for the service`); return 2; }
  const logger = cliLogger(o.serviceName);
  const pool = openPgPool(url, { max: 2, applicationName: `${o.serviceName} cli`, onError: (e) => logger.warn('idle PostgreSQL connection failed', { error: e.message }) });
  try {
    try {
      await migratePg(pool, o.migrations);
    } catch (err) {
      out(`${o.serviceName}: cannot open the database at DATABASE_URL: ${(err as Error).message}`);
      return 2;
    }
    const consumers = await o.consumers({ pool, url, config, logger });
    try {
      return await runAsyncConsumerCli(args, { consumers, serviceName: o.serviceName, out, notes: o.notes, moreCommands: o.moreCommands });
    } finally {
      await Promise.all(consumers.map((c) => c.close()));
    }
  } finally {
    await pool.end();
  }
}
