import { DatabaseError, Pool, type PoolClient, type QueryResult, type QueryResultRow } from 'pg';

/** Anything that runs a query: the pool (autocommit) or a transaction's client. */
export interface PgQueryable {
  query<R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[]): Promise<QueryResult<R>>;
}

/** A transaction in progress: queries run inside it; `afterCommit` runs once it has committed. */
export interface PgTx extends PgQueryable {
  readonly client: PoolClient;
  /** Runs `fn` after COMMIT succeeded (never after a rollback), in the order registered. */
  afterCommit(fn: () => void): void;
}

export interface PgPoolOptions {
  /** Connections in the pool (default 10). */
  readonly max?: number;
  /** Shown in pg_stat_activity, e.g. `order-service`. */
  readonly applicationName?: string;
  /** An idle connection failed (the server restarted, say). Default: ignored; the pool replaces it. */
  readonly onError?: (error: Error) => void;
  /**
   * false: its commits do not wait for their WAL flush (`synchronous_commit=off`). Only for writes
   * a crash may lose harmlessly (a consumer's bookkeeping); a later durable commit on the server
   * makes them durable too, since WAL is flushed in order.
   */
  readonly synchronousCommit?: boolean;
  /**
   * A session left idle inside a transaction longer than this is ended by the server (its
   * transaction rolled back, its locks freed): for pools whose transactions wait on something
   * outside the database, such as an SMTP server. Default: no limit.
   */
  readonly idleInTransactionTimeoutMs?: number;
}

/** How long opening a connection may take (pools, leadership and partition sessions). */
export const CONNECT_TIMEOUT_MS = 10_000;

/** A connection pool for `postgres://` URLs. End it with `await pool.end()`. */
export function openPgPool(connectionString: string, options: PgPoolOptions = {}): Pool {
  // The server's keepalive on every session: a client machine that vanishes mid-transaction (no
  // FIN, no RST) has its transaction rolled back and its row locks freed after about
  // idle + interval * count = 11 s, rather than the kernel's default of over two hours.
  const settings = ['tcp_keepalives_idle=5', 'tcp_keepalives_interval=2', 'tcp_keepalives_count=3'];
  if (options.synchronousCommit === false) settings.push('synchronous_commit=off');
  if (options.idleInTransactionTimeoutMs !== undefined) settings.push(`idle_in_transaction_session_timeout=${options.idleInTransactionTimeoutMs}`);
  const pool = new Pool({
    connectionString, max: options.max ?? 10, application_name: options.applicationName, keepAlive: true,
    options: settings.map((x) => `-c ${x}`).join(' '),
    // A server that takes the connection and never answers (hung, or a proxy that lost it) fails the connect instead of hanging it.
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  });
  // Without a listener an idle client's error (a restarted server) would crash the process.
  pool.on('error', options.onError ?? (() => {}));
  return pool;
}

export interface PgTransactionOptions {
  /**
   * How many times to run `fn` again, in a new transaction, after a transient conflict: a
   * serialization failure, a deadlock, or another writer appending to the same stream first
   * (StreamVersionConflictError). Default 3. `fn` must be safe to run again: it re-reads.
   */
  readonly retries?: number;
}

/**
 * Runs `fn` in one READ COMMITTED transaction on a connection of its own, commits, then runs the
 * `afterCommit` hooks. Rolls back and rethrows on any error (after the retries, for conflicts).
 * READ COMMITTED is required by the feed store: an appender waiting on the feed's head row must
 * read the row its predecessor committed, where REPEATABLE READ would fail instead.
 */
export async function inPgTransaction<T>(pool: Pool, fn: (tx: PgTx) => Promise<T>, options: PgTransactionOptions = {}): Promise<T> {
  const retries = options.retries ?? 3;
  for (let attempt = 0; ; attempt += 1) {
    const client = await pool.connect();
    const hooks: (() => void)[] = [];
    let broken: unknown;
    try {
      await client.query('BEGIN ISOLATION LEVEL READ COMMITTED');
      const tx: PgTx = { client, query: (text, values) => client.query(text, values), afterCommit: (f) => { hooks.push(f); } };
      const result = await fn(tx);
      await client.query('COMMIT');
      for (const h of hooks) h();
      return result;
    } catch (e) {
      // A connection that cannot even roll back is not handed back to the pool.
      await client.query('ROLLBACK').catch((rollbackError: unknown) => { broken = rollbackError; });
      if (attempt < retries && isTransientConflict(e)) continue;
      throw e;
    } finally {
      client.release(broken instanceof Error ? broken : undefined);
    }
  }
}

/** Another writer got there first: the stream's next version is taken. Run the command again. */
export class StreamVersionConflictError extends Error {
  override readonly name = 'StreamVersionConflictError';
  constructor(readonly streamId: string, readonly expectedVersion: number, options?: { cause?: unknown }) {
    super(`stream ${streamId} moved past version ${expectedVersion} while this command was deciding`, options);
  }
}

/** A conflict that running the transaction again can resolve. */
export function isTransientConflict(e: unknown): boolean {
  if (e instanceof StreamVersionConflictError) return true;
  return e instanceof DatabaseError && (e.code === '40001' || e.code === '40P01');
}

/**
 * A failure of the database rather than of what was asked of it: a serialization failure or
 * deadlock (class 40), a lock or statement timeout (55P03, 57014), the server shutting down or
 * the session terminated (class 57), no resources (class 53). Running the same work again later
 * may succeed, so it says nothing about the entry or command being applied.
 */
export function isTransientDatabaseError(e: unknown): boolean {
  return e instanceof DatabaseError && typeof e.code === 'string' && (/^(40|53|57)/.test(e.code) || e.code === '55P03');
}

/** A unique_violation, optionally of one named constraint. */
export function isUniqueViolation(e: unknown, constraint?: string): e is DatabaseError {
  return e instanceof DatabaseError && e.code === '23505' && (constraint === undefined || e.constraint === constraint);
}

/** int8 arrives as a string (it can exceed 2^53); our positions and versions never do. */
export function toNumber(v: string | number | null | undefined): number {
  return v === null || v === undefined ? 0 : Number(v);
}
