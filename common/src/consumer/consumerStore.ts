import type { Db, Migration } from '../db/database.ts';
import type { ConsumedEntry } from './atomReader.ts';
import type { Validators } from './feedFetcher.ts';

/** The consumer's tables; a service migrates them into its own database. */
export const consumerMigrations: readonly Migration[] = [
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
        position INTEGER NOT NULL DEFAULT 0,
        last_atom_id TEXT,
        etag TEXT,
        last_modified TEXT,
        newest_seen INTEGER NOT NULL DEFAULT 0,
        last_success_at TEXT,
        last_error TEXT,
        last_error_at TEXT,
        failures INTEGER NOT NULL DEFAULT 0
      );
      -- Handler failures of the entry at the head of a subscription, counted across restarts.
      CREATE TABLE consumer_attempts (
        name TEXT NOT NULL,
        atom_id TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        last_error TEXT NOT NULL,
        PRIMARY KEY (name, atom_id)
      );
      -- Entries a handler kept failing on: kept whole, listed, replayable.
      CREATE TABLE consumer_parked (
        name TEXT NOT NULL,
        atom_id TEXT NOT NULL,
        position INTEGER NOT NULL,
        entry TEXT NOT NULL,
        error TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        parked_at TEXT NOT NULL,
        PRIMARY KEY (name, atom_id)
      );
    `,
  },
  {
    id: 'consumer-002-parked-by-order',
    sql: `
      -- Later entries of an order wait behind its parked entry, so they need finding by order.
      ALTER TABLE consumer_parked ADD COLUMN order_id TEXT;
      UPDATE consumer_parked SET order_id = json_extract(entry, '$.orderId');
      CREATE INDEX consumer_parked_order ON consumer_parked (name, order_id, position);
    `,
  },
  {
    id: 'consumer-003-page-cursor',
    sql: `
      -- The archive page the read position stands in (NULL: the subscription document), so a
      -- consumer goes on from there instead of walking back from the head on every poll.
      ALTER TABLE consumer_subscriptions ADD COLUMN page_url TEXT;
      -- The oldest page reached by a walk back still under way, so a restart resumes the walk.
      ALTER TABLE consumer_subscriptions ADD COLUMN walk_url TEXT;
    `,
  },
  {
    id: 'consumer-004-parked-by-position',
    sql: `
      -- /status lists the oldest parked entries and the CLI pages through them by position:
      -- read from an index, not by sorting every parked row (with its entry) each time.
      CREATE INDEX consumer_parked_position ON consumer_parked (name, position);
    `,
  },
];

export interface SubscriptionRow {
  readonly name: string;
  readonly feedUrl: string;
  readonly feedId: string | null;
  readonly started: number;
  readonly position: number;
  readonly lastAtomId: string | null;
  readonly etag: string | null;
  readonly lastModified: string | null;
  readonly newestSeen: number;
  readonly lastSuccessAt: string | null;
  readonly lastError: string | null;
  readonly lastErrorAt: string | null;
  readonly failures: number;
  /** The archive page holding the read position, or the next one to read (null: the subscription document). */
  readonly pageUrl: string | null;
  /** The oldest page a walk back in progress has reached (null: no walk under way). */
  readonly walkUrl: string | null;
}

/** A parked entry as listed for operators: what it is and why it is parked, without the entry itself. */
export interface ParkedSummary {
  readonly subscription: string;
  readonly atomId: string;
  readonly position: number;
  readonly type: string;
  readonly orderId: string;
  readonly error: string;
  readonly attempts: number;
  readonly parkedAt: string;
}

/** A parked entry, whole: what a replay runs through the handler again. */
export interface ParkedEntry extends ParkedSummary {
  readonly entry: ConsumedEntry;
}

const SUB_COLUMNS = `name, feed_url AS feedUrl, feed_id AS feedId, started, position, last_atom_id AS lastAtomId, etag,
  last_modified AS lastModified, newest_seen AS newestSeen, last_success_at AS lastSuccessAt,
  last_error AS lastError, last_error_at AS lastErrorAt, failures, page_url AS pageUrl, walk_url AS walkUrl`;

interface ParkedRow { name: string; atom_id: string; position: number; entry: string; error: string; attempts: number; parked_at: string }
interface ParkedSummaryRow { name: string; atom_id: string; position: number; type: string; order_id: string; error: string; attempts: number; parked_at: string }

/** SQL for one subscription's state. Every method runs in the caller's transaction, if any. */
export class ConsumerStore {
  readonly #db: Db;
  readonly #name: string;
  readonly #q;

  constructor(db: Db, name: string) {
    this.#db = db;
    this.#name = name;
    this.#q = {
      get: db.prepare<[string], SubscriptionRow>(`SELECT ${SUB_COLUMNS} FROM consumer_subscriptions WHERE name = ?`),
      ensure: db.prepare('INSERT INTO consumer_subscriptions (name, feed_url) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET feed_url = excluded.feed_url'),
      advance: db.prepare('UPDATE consumer_subscriptions SET position = ?, last_atom_id = ? WHERE name = ? AND position = ?'),
      feedId: db.prepare('UPDATE consumer_subscriptions SET feed_id = ?, started = 1 WHERE name = ?'),
      validators: db.prepare('UPDATE consumer_subscriptions SET etag = ?, last_modified = ? WHERE name = ?'),
      success: db.prepare('UPDATE consumer_subscriptions SET last_success_at = ?, failures = 0, newest_seen = max(newest_seen, ?) WHERE name = ?'),
      newest: db.prepare('UPDATE consumer_subscriptions SET newest_seen = ? WHERE name = ?'),
      failure: db.prepare('UPDATE consumer_subscriptions SET last_error = ?, last_error_at = ?, failures = failures + 1 WHERE name = ?'),
      reset: db.prepare('UPDATE consumer_subscriptions SET started = 1, position = 0, last_atom_id = NULL, etag = NULL, last_modified = NULL, feed_id = NULL, failures = 0, page_url = NULL, walk_url = NULL WHERE name = ?'),
      page: db.prepare('UPDATE consumer_subscriptions SET page_url = ?, walk_url = NULL WHERE name = ?'),
      walk: db.prepare('UPDATE consumer_subscriptions SET walk_url = ? WHERE name = ?'),
      attempts: db.prepare<[string, string], { attempts: number }>('SELECT attempts FROM consumer_attempts WHERE name = ? AND atom_id = ?'),
      bumpAttempt: db.prepare('INSERT INTO consumer_attempts (name, atom_id, attempts, last_error) VALUES (?, ?, 1, ?) ON CONFLICT (name, atom_id) DO UPDATE SET attempts = attempts + 1, last_error = excluded.last_error'),
      clearAttempts: db.prepare('DELETE FROM consumer_attempts WHERE name = ?'),
      park: db.prepare('INSERT OR REPLACE INTO consumer_parked (name, atom_id, position, entry, error, attempts, parked_at, order_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      parkedOfOrder: db.prepare<[string, string], ParkedRow>('SELECT * FROM consumer_parked WHERE name = ? AND order_id = ? ORDER BY position'),
      parked: db.prepare<[string], ParkedRow>('SELECT * FROM consumer_parked WHERE name = ? ORDER BY position'),
      parkedCount: db.prepare<[string], number>('SELECT count(*) FROM consumer_parked WHERE name = ?').pluck(),
      // The entry column stays in the database: only its type is read out of it.
      parkedSummaries: db.prepare<[string, number, number], ParkedSummaryRow>(`SELECT name, atom_id, position, json_extract(entry, '$.type') AS type, order_id,
        error, attempts, parked_at FROM consumer_parked WHERE name = ? AND position > ? ORDER BY position LIMIT ?`),
      parkedOne: db.prepare<[string, string], ParkedRow>('SELECT * FROM consumer_parked WHERE name = ? AND atom_id = ?'),
      unpark: db.prepare('DELETE FROM consumer_parked WHERE name = ? AND atom_id = ?'),
      updatePark: db.prepare('UPDATE consumer_parked SET error = ?, attempts = attempts + 1 WHERE name = ? AND atom_id = ?'),
    };
  }

  ensure(feedUrl: string): void { this.#q.ensure.run(this.#name, feedUrl); }
  get(): SubscriptionRow { return this.#q.get.get(this.#name)!; }

  /** Moves the read position from `from` to `entry`; false if someone else moved it first. */
  advance(from: number, to: { position: number; atomId: string }): boolean {
    return this.#q.advance.run(to.position, to.atomId, this.#name, from).changes === 1;
  }

  setFeedId(feedId: string): void { this.#q.feedId.run(feedId, this.#name); }
  setValidators(v: Validators | undefined): void { this.#q.validators.run(v?.etag ?? null, v?.lastModified ?? null, this.#name); }
  recordSuccess(at: string, newestSeen: number): void { this.#q.success.run(at, newestSeen, this.#name); }
  setNewestSeen(n: number): void { this.#q.newest.run(n, this.#name); }
  /** Says which page the read position stands in (null: the subscription document); ends any walk back. */
  setPage(url: string | null): void { this.#q.page.run(url, this.#name); }
  /** Records how far a walk back has come, so a restart goes on from there. */
  setWalk(url: string | null): void { this.#q.walk.run(url, this.#name); }
  recordFailure(message: string, at: string): void { this.#q.failure.run(message, at, this.#name); }
  reset(): void { this.#q.reset.run(this.#name); this.#q.clearAttempts.run(this.#name); }

  attempts(atomId: string): number { return this.#q.attempts.get(this.#name, atomId)?.attempts ?? 0; }
  bumpAttempt(atomId: string, error: string): number {
    this.#q.bumpAttempt.run(this.#name, atomId, error);
    return this.attempts(atomId);
  }
  clearAttempts(): void { this.#q.clearAttempts.run(this.#name); }

  park(entry: ConsumedEntry, error: string, attempts: number, at: string): void {
    this.#q.park.run(this.#name, entry.atomId, entry.position, JSON.stringify(entry), error, attempts, at, entry.orderId);
  }
  parked(): ParkedEntry[] { return this.#q.parked.all(this.#name).map(toParked); }
  parkedCount(): number { return this.#q.parkedCount.get(this.#name)!; }
  /** Up to `limit` parked entries after position `after`, oldest first, without the entries themselves: a page of the list. */
  parkedSummaries(after: number, limit: number): ParkedSummary[] {
    return this.#q.parkedSummaries.all(this.#name, after, limit).map((r) => ({
      subscription: r.name, atomId: r.atom_id, position: r.position, type: r.type, orderId: r.order_id, error: r.error, attempts: r.attempts, parkedAt: r.parked_at,
    }));
  }
  /** The parked entries of one order, oldest first. */
  parkedOfOrder(orderId: string): ParkedEntry[] { return this.#q.parkedOfOrder.all(this.#name, orderId).map(toParked); }
  parkedOne(atomId: string): ParkedEntry | undefined {
    const row = this.#q.parkedOne.get(this.#name, atomId);
    return row ? toParked(row) : undefined;
  }
  unpark(atomId: string): void { this.#q.unpark.run(this.#name, atomId); }
  parkFailedAgain(atomId: string, error: string): void { this.#q.updatePark.run(error, this.#name, atomId); }

  get db(): Db { return this.#db; }
}

/** Every subscription in a database, for status pages and command lines. */
export function listSubscriptions(db: Db): SubscriptionRow[] {
  return db.prepare<[], SubscriptionRow>(`SELECT ${SUB_COLUMNS} FROM consumer_subscriptions ORDER BY name`).all();
}

function toParked(r: ParkedRow): ParkedEntry {
  const entry = JSON.parse(r.entry) as ConsumedEntry;
  return { subscription: r.name, atomId: r.atom_id, position: r.position, type: entry.type, orderId: entry.orderId, error: r.error, attempts: r.attempts, parkedAt: r.parked_at, entry };
}
