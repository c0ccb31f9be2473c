import type { Migration } from '../db/database.ts';
import type { ConsumedEntry } from '../consumer/atomReader.ts';
import type { ParkedEntry, ParkedSummary, SubscriptionRow } from '../consumer/consumerStore.ts';
import type { Validators } from '../consumer/feedFetcher.ts';
import { type PgQueryable, toNumber } from './pgDatabase.ts';

/** The consumer's tables in PostgreSQL: ConsumerStore's three SQLite steps as one. */
export const pgConsumerMigrations: readonly Migration[] = [
  {
    id: 'consumer-001-subscriptions',
    sql: `
      -- One row a subscription: its durable read position and what an operator needs to see.
      CREATE TABLE consumer_subscriptions (
        name TEXT PRIMARY KEY,
        feed_url TEXT NOT NULL,
        feed_id TEXT,
        -- 0 until the first poll decided where to start ('beginning' or 'now').
        started INTEGER NOT NULL DEFAULT 0,
        position BIGINT NOT NULL DEFAULT 0,
        last_atom_id TEXT,
        etag TEXT,
        last_modified TEXT,
        newest_seen BIGINT NOT NULL DEFAULT 0,
        last_success_at TEXT,
        last_error TEXT,
        last_error_at TEXT,
        failures INTEGER NOT NULL DEFAULT 0,
        -- The archive page the read position stands in (NULL: the subscription document).
        page_url TEXT,
        -- The oldest page reached by a walk back still under way, so a restart resumes the walk.
        walk_url TEXT
      );
      -- Handler failures of the entry at the head of a subscription, counted across restarts.
      CREATE TABLE consumer_attempts (
        name TEXT NOT NULL,
        atom_id TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        last_error TEXT NOT NULL,
        PRIMARY KEY (name, atom_id)
      );
      -- Entries a handler kept failing on: kept whole, listed, replayable. Later entries of an
      -- order wait behind its parked entry, so they need finding by order.
      CREATE TABLE consumer_parked (
        name TEXT NOT NULL,
        atom_id TEXT NOT NULL,
        position BIGINT NOT NULL,
        entry TEXT NOT NULL,
        error TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        parked_at TEXT NOT NULL,
        order_id TEXT,
        PRIMARY KEY (name, atom_id)
      );
      CREATE INDEX consumer_parked_order ON consumer_parked (name, order_id, position);
      -- Operators page through parked entries by position.
      CREATE INDEX consumer_parked_position ON consumer_parked (name, position);
    `,
  },
];

const SUB_COLUMNS = `name, feed_url AS "feedUrl", feed_id AS "feedId", started, position, last_atom_id AS "lastAtomId", etag,
  last_modified AS "lastModified", newest_seen AS "newestSeen", last_success_at AS "lastSuccessAt",
  last_error AS "lastError", last_error_at AS "lastErrorAt", failures, page_url AS "pageUrl", walk_url AS "walkUrl"`;

type SubRow = Omit<SubscriptionRow, 'position' | 'newestSeen'> & { position: string; newestSeen: string };
interface ParkedRow { name: string; atom_id: string; position: string; entry: string; error: string; attempts: number; parked_at: string }

/**
 * One subscription's state in PostgreSQL: ConsumerStore's methods, async, each run on `q`: the
 * pool, or the transaction that also applies the entries so both commit together.
 */
export class PgConsumerStore {
  constructor(readonly name: string) {}

  async ensure(q: PgQueryable, feedUrl: string): Promise<void> {
    await q.query('INSERT INTO consumer_subscriptions (name, feed_url) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET feed_url = excluded.feed_url', [this.name, feedUrl]);
  }

  async get(q: PgQueryable): Promise<SubscriptionRow> {
    const row = (await q.query<SubRow>(`SELECT ${SUB_COLUMNS} FROM consumer_subscriptions WHERE name = $1`, [this.name])).rows[0];
    if (!row) throw new Error(`no subscription ${this.name}: call ensure() first`);
    return toSubscription(row);
  }

  /**
   * Moves the read position from `from` to `to`; false if someone else moved it first. Inside a
   * transaction the row stays locked until it ends, so a second instance applying the same
   * entries waits, then finds the position moved and rolls back: entries apply once.
   */
  async advance(q: PgQueryable, from: number, to: { position: number; atomId: string }): Promise<boolean> {
    const r = await q.query('UPDATE consumer_subscriptions SET position = $1, last_atom_id = $2 WHERE name = $3 AND position = $4', [to.position, to.atomId, this.name, from]);
    return r.rowCount === 1;
  }

  async setFeedId(q: PgQueryable, feedId: string): Promise<void> { await this.#set(q, 'feed_id = $2, started = 1', [feedId]); }
  async setValidators(q: PgQueryable, v: Validators | undefined): Promise<void> { await this.#set(q, 'etag = $2, last_modified = $3', [v?.etag ?? null, v?.lastModified ?? null]); }
  async recordSuccess(q: PgQueryable, at: string, newestSeen: number): Promise<void> { await this.#set(q, 'last_success_at = $2, failures = 0, newest_seen = GREATEST(newest_seen, $3)', [at, newestSeen]); }
  async setNewestSeen(q: PgQueryable, n: number): Promise<void> { await this.#set(q, 'newest_seen = $2', [n]); }
  /** Raises the newest position seen to `n` (never lowers it), so writes of it may land in any order. */
  async raiseNewestSeen(q: PgQueryable, n: number): Promise<void> { await this.#set(q, 'newest_seen = GREATEST(newest_seen, $2)', [n]); }
  /** Says which page the read position stands in (null: the subscription document); ends any walk back. */
  async setPage(q: PgQueryable, url: string | null): Promise<void> { await this.#set(q, 'page_url = $2, walk_url = NULL', [url]); }
  /** Records how far a walk back has come, so a restart goes on from there. */
  async setWalk(q: PgQueryable, url: string | null): Promise<void> { await this.#set(q, 'walk_url = $2', [url]); }
  async recordFailure(q: PgQueryable, message: string, at: string): Promise<void> { await this.#set(q, 'last_error = $2, last_error_at = $3, failures = failures + 1', [message, at]); }
  async reset(q: PgQueryable): Promise<void> {
    await this.#set(q, 'started = 1, position = 0, last_atom_id = NULL, etag = NULL, last_modified = NULL, feed_id = NULL, failures = 0, page_url = NULL, walk_url = NULL', []);
    await this.clearAttempts(q);
  }

  async attempts(q: PgQueryable, atomId: string): Promise<number> {
    return (await q.query<{ attempts: number }>('SELECT attempts FROM consumer_attempts WHERE name = $1 AND atom_id = $2', [this.name, atomId])).rows[0]?.attempts ?? 0;
  }
  async bumpAttempt(q: PgQueryable, atomId: string, error: string): Promise<number> {
    const r = await q.query<{ attempts: number }>(
      `INSERT INTO consumer_attempts (name, atom_id, attempts, last_error) VALUES ($1, $2, 1, $3)
       ON CONFLICT (name, atom_id) DO UPDATE SET attempts = consumer_attempts.attempts + 1, last_error = excluded.last_error RETURNING attempts`,
      [this.name, atomId, error]);
    return r.rows[0]!.attempts;
  }
  /** Whether any attempts are counted or entries parked: when neither, applying an entry need not clear them. */
  async pending(q: PgQueryable): Promise<{ attempts: boolean; parked: boolean }> {
    const r = await q.query<{ attempts: boolean; parked: boolean }>(
      'SELECT EXISTS (SELECT 1 FROM consumer_attempts WHERE name = $1) AS attempts, EXISTS (SELECT 1 FROM consumer_parked WHERE name = $1) AS parked', [this.name]);
    return r.rows[0]!;
  }
  /** An entry applied: its failures forgotten and, if it was parked, unparked, in one statement. */
  async settle(q: PgQueryable, atomId: string): Promise<void> {
    await q.query('WITH a AS (DELETE FROM consumer_attempts WHERE name = $1) DELETE FROM consumer_parked WHERE name = $1 AND atom_id = $2', [this.name, atomId]);
  }
  /** The end of a successful poll in one statement: validators kept (or cleared) and the success recorded. */
  async finishRead(q: PgQueryable, v: Validators | undefined, at: string, newestSeen: number): Promise<void> {
    await this.#set(q, 'etag = $2, last_modified = $3, last_success_at = $4, failures = 0, newest_seen = GREATEST(newest_seen, $5)', [v?.etag ?? null, v?.lastModified ?? null, at, newestSeen]);
  }
  async clearAttempts(q: PgQueryable): Promise<void> { await q.query('DELETE FROM consumer_attempts WHERE name = $1', [this.name]); }

  async park(q: PgQueryable, entry: ConsumedEntry, error: string, attempts: number, at: string): Promise<void> {
    await q.query(
      `INSERT INTO consumer_parked (name, atom_id, position, entry, error, attempts, parked_at, order_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (name, atom_id) DO UPDATE SET position = excluded.position, entry = excluded.entry, error = excluded.error,
         attempts = excluded.attempts, parked_at = excluded.parked_at, order_id = excluded.order_id`,
      [this.name, entry.atomId, entry.position, JSON.stringify(entry), error, attempts, at, entry.orderId]);
  }
  async parked(q: PgQueryable): Promise<ParkedEntry[]> {
    return (await q.query<ParkedRow>('SELECT * FROM consumer_parked WHERE name = $1 ORDER BY position', [this.name])).rows.map(toParked);
  }
  async parkedCount(q: PgQueryable): Promise<number> {
    return toNumber((await q.query<{ n: string }>('SELECT count(*) AS n FROM consumer_parked WHERE name = $1', [this.name])).rows[0]?.n);
  }
  /** Up to `limit` parked entries after position `after`, oldest first, without the entries themselves: a page of the list. */
  async parkedSummaries(q: PgQueryable, after: number, limit: number): Promise<ParkedSummary[]> {
    const rows = await q.query<Omit<ParkedRow, 'entry'> & { type: string; order_id: string }>(
      `SELECT name, atom_id, position, entry::json ->> 'type' AS type, order_id, error, attempts, parked_at
       FROM consumer_parked WHERE name = $1 AND position > $2 ORDER BY position LIMIT $3`, [this.name, after, limit]);
    return rows.rows.map((r) => ({ subscription: r.name, atomId: r.atom_id, position: toNumber(r.position), type: r.type, orderId: r.order_id, error: r.error, attempts: r.attempts, parkedAt: r.parked_at }));
  }
  /** The parked entries of one order, oldest first. */
  async parkedOfOrder(q: PgQueryable, orderId: string): Promise<ParkedEntry[]> {
    return (await q.query<ParkedRow>('SELECT * FROM consumer_parked WHERE name = $1 AND order_id = $2 ORDER BY position', [this.name, orderId])).rows.map(toParked);
  }
  async parkedOne(q: PgQueryable, atomId: string): Promise<ParkedEntry | undefined> {
    const row = (await q.query<ParkedRow>('SELECT * FROM consumer_parked WHERE name = $1 AND atom_id = $2', [this.name, atomId])).rows[0];
    return row ? toParked(row) : undefined;
  }
  async unpark(q: PgQueryable, atomId: string): Promise<void> { await q.query('DELETE FROM consumer_parked WHERE name = $1 AND atom_id = $2', [this.name, atomId]); }
  async parkFailedAgain(q: PgQueryable, atomId: string, error: string): Promise<void> {
    await q.query('UPDATE consumer_parked SET error = $1, attempts = attempts + 1 WHERE name = $2 AND atom_id = $3', [error, this.name, atomId]);
  }

  async #set(q: PgQueryable, assignments: string, values: unknown[]): Promise<void> {
    await q.query(`UPDATE consumer_subscriptions SET ${assignments} WHERE name = $1`, [this.name, ...values]);
  }
}

/** Every subscription in a database, for status pages and command lines. */
export async function listPgSubscriptions(q: PgQueryable): Promise<SubscriptionRow[]> {
  return (await q.query<SubRow>(`SELECT ${SUB_COLUMNS} FROM consumer_subscriptions ORDER BY name COLLATE "C"`)).rows.map(toSubscription);
}

function toSubscription(r: SubRow): SubscriptionRow {
  return { ...r, position: toNumber(r.position), newestSeen: toNumber(r.newestSeen) };
}

function toParked(r: ParkedRow): ParkedEntry {
  const entry = JSON.parse(r.entry) as ConsumedEntry;
  return { subscription: r.name, atomId: r.atom_id, position: toNumber(r.position), type: entry.type, orderId: entry.orderId, error: r.error, attempts: r.attempts, parkedAt: r.parked_at, entry };
}
