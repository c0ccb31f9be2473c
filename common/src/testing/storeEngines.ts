// One behaviour suite, two engines: each store seen through the same async face, over SQLite
// (the existing synchronous classes, wrapped) or PostgreSQL (the pg* classes). A suite calls
// `engine.setup(this)` in its `before` hook (PostgreSQL's skips the suite when it is missing).
import { join } from 'node:path';
import type { Context } from 'mocha';
import type { Pool } from 'pg';
import { ConsumerStore, consumerMigrations, listSubscriptions } from '../consumer/consumerStore.ts';
import { type Db, inWriteTransaction, migrate, openDatabase } from '../db/database.ts';
import { EventLog, type RecordedEvent, eventLogMigrations } from '../db/eventLog.ts';
import type { NewFeedEntry, StoredFeedEntry } from '../feed/feedEntry.ts';
import { type FeedHead, type FeedPage, FeedStore, type StoredRendition, feedMigrations } from '../feed/feedStore.ts';
import { PgConsumerStore, listPgSubscriptions, pgConsumerMigrations } from '../pg/pgConsumerStore.ts';
import { type PgQueryable, inPgTransaction, openPgPool } from '../pg/pgDatabase.ts';
import { PgEventLog, pgEventLogMigrations } from '../pg/pgEventLog.ts';
import { pgFeedMigrations } from '../pg/pgFeedMigrations.ts';
import { PgFeedStore } from '../pg/pgFeedStore.ts';
import { migratePg } from '../pg/pgMigrate.ts';
import { requirePeer } from './peers.ts';
import { createTestDatabase, postgresqlPeer } from './postgres.ts';
import { tempDir } from './tempDir.ts';

/** A feed store, as a test drives it: each `append` call is one transaction. */
export interface FeedUnderTest {
  readonly feedId: string;
  append(entries: readonly NewFeedEntry[], options?: { readonly rollback?: boolean }): Promise<StoredFeedEntry[]>;
  head(): Promise<FeedHead>;
  page(n: number): Promise<FeedPage | undefined>;
  entriesOf(page: FeedPage, upTo?: number): Promise<StoredFeedEntry[]>;
  entry(key: string): Promise<StoredFeedEntry | undefined>;
  rendition(page: number, baseUrl: string): Promise<StoredRendition | undefined>;
  saveRendition(page: number, baseUrl: string, r: StoredRendition): Promise<StoredRendition>;
}

/** The events the behaviour suites append. */
export interface TestEvent { readonly type: string; readonly [field: string]: unknown }

/** An event log, as a test drives it: each `append` call is one transaction at the stream's current version. */
export interface EventLogUnderTest<E extends TestEvent = TestEvent> {
  append(streamId: string, events: readonly { eventId: string; event: E; recordedAt: string }[], options?: { readonly rollback?: boolean }): Promise<RecordedEvent<E>[]>;
  read(streamId: string): Promise<RecordedEvent<E>[]>;
}

const CONSUMER_METHODS = [
  'ensure', 'get', 'advance', 'setFeedId', 'setValidators', 'recordSuccess', 'setNewestSeen', 'setPage', 'setWalk', 'recordFailure', 'reset',
  'attempts', 'bumpAttempt', 'clearAttempts', 'park', 'parked', 'parkedCount', 'parkedSummaries', 'parkedOfOrder', 'parkedOne', 'unpark', 'parkFailedAgain',
] as const;
type ConsumerMethod = typeof CONSUMER_METHODS[number];
type ConsumerOps = { [K in ConsumerMethod]: PgConsumerStore[K] extends (q: PgQueryable, ...a: infer A) => infer R ? (...a: A) => R : never };

/** A consumer store, as a test drives it; `transaction` runs several calls in one transaction. */
export interface ConsumerUnderTest extends ConsumerOps {
  transaction<T>(fn: (s: ConsumerOps) => Promise<T>): Promise<T>;
  list(): Promise<readonly { name: string; position: number }[]>;
}

/** A database of one engine, fresh for a suite; stores opened on it share it, as two processes would. */
export interface EngineDatabase {
  openFeed(options: { pageSize: number; now?: () => Date }): Promise<FeedUnderTest>;
  openEventLog(): Promise<EventLogUnderTest>;
  openConsumer(name: string): Promise<ConsumerUnderTest>;
  close(): Promise<void>;
}

export interface StoreEngine {
  readonly name: string;
  /** In a suite's `before` hook. */
  setup(ctx: Context): Promise<void>;
  /** A new empty database (PostgreSQL: a database of its own; SQLite: a file). */
  database(): Promise<EngineDatabase>;
  teardown(): Promise<void>;
}

export function sqliteEngine(): StoreEngine {
  let dir: ReturnType<typeof tempDir> | undefined;
  let n = 0;
  return {
    name: 'SQLite',
    async setup() { dir = tempDir('store-engines-'); },
    async teardown() { dir?.remove(); },
    async database() {
      const file = join(dir!.path, `db${++n}.sqlite`);
      const opened: Db[] = [];
      const connect = (): Db => {
        const db = openDatabase(file);
        migrate(db, [...eventLogMigrations, ...feedMigrations, ...consumerMigrations]);
        opened.push(db);
        return db;
      };
      return {
        async openFeed(options) {
          const db = connect();
          const store = new FeedStore(db, options);
          return {
            feedId: store.feedId,
            append: async (entries, o) => inWriteTransaction(db, () => {
              const stored = entries.map((e) => store.append(e));
              if (o?.rollback) throw new RolledBack();
              return stored;
            }),
            head: async () => store.head(),
            page: async (p) => store.page(p),
            entriesOf: async (page, upTo) => store.entriesOf(page, upTo),
            entry: async (key) => store.entry(key),
            rendition: async (page, baseUrl) => store.rendition(page, baseUrl),
            saveRendition: async (page, baseUrl, r) => store.saveRendition(page, baseUrl, r),
          };
        },
        async openEventLog() {
          const db = connect();
          const log = new EventLog<TestEvent>(db);
          return {
            append: async (streamId, events, o) => inWriteTransaction(db, () => {
              const recorded = events.map((e) => log.append(streamId, e.eventId, e.event, e.recordedAt));
              if (o?.rollback) throw new RolledBack();
              return recorded;
            }),
            read: async (streamId) => log.read(streamId),
          };
        },
        async openConsumer(name) {
          const db = connect();
          const store = new ConsumerStore(db, name);
          const ops = Object.fromEntries(CONSUMER_METHODS.map((m) => [m, async (...a: unknown[]) => (store[m] as (...x: unknown[]) => unknown)(...a)])) as unknown as ConsumerOps;
          return {
            ...ops,
            // better-sqlite3 transactions are synchronous: the calls are queued, run inside it.
            transaction: async (fn) => {
              db.exec('BEGIN IMMEDIATE');
              try { const r = await fn(ops); db.exec('COMMIT'); return r; } catch (e) { db.exec('ROLLBACK'); throw e; }
            },
            list: async () => listSubscriptions(db),
          };
        },
        async close() { for (const db of opened) db.close(); },
      };
    },
  };
}

export function postgresEngine(): StoreEngine {
  return {
    name: 'PostgreSQL',
    async setup(c) {
      c.timeout(Math.max(c.timeout(), 60_000));
      await requirePeer(c, postgresqlPeer);
    },
    async teardown() {},
    async database() {
      const url = await createTestDatabase();
      const pools: Pool[] = [];
      const connect = async (): Promise<Pool> => {
        const pool = openPgPool(url, { max: 4 });
        pools.push(pool);
        await migratePg(pool, [...pgEventLogMigrations, ...pgFeedMigrations, ...pgConsumerMigrations]);
        return pool;
      };
      return {
        async openFeed(options) {
          const pool = await connect();
          const store = await PgFeedStore.open(pool, options);
          return {
            feedId: store.feedId,
            append: (entries, o) => inPgTransaction(pool, async (tx) => {
              const stored = await store.appendAll(tx, entries);
              if (o?.rollback) throw new RolledBack();
              return stored;
            }),
            head: () => store.head(),
            page: (p) => store.page(p),
            entriesOf: (page, upTo) => store.entriesOf(page, upTo),
            entry: (key) => store.entry(key),
            rendition: (page, baseUrl) => store.rendition(page, baseUrl),
            saveRendition: (page, baseUrl, r) => store.saveRendition(page, baseUrl, r),
          };
        },
        async openEventLog() {
          const pool = await connect();
          const log = new PgEventLog<TestEvent>();
          return {
            append: (streamId, events, o) => inPgTransaction(pool, async (tx) => {
              const { version } = await log.readStream(tx, streamId);
              const recorded = await log.append(tx, streamId, version, events);
              if (o?.rollback) throw new RolledBack();
              return recorded;
            }),
            read: (streamId) => log.read(pool, streamId),
          };
        },
        async openConsumer(name) {
          const pool = await connect();
          const store = new PgConsumerStore(name);
          const bind = (q: PgQueryable): ConsumerOps => Object.fromEntries(CONSUMER_METHODS.map((m) => [m, (...a: unknown[]) => (store[m] as (q: PgQueryable, ...x: unknown[]) => unknown)(q, ...a)])) as unknown as ConsumerOps;
          return {
            ...bind(pool),
            transaction: (fn) => inPgTransaction(pool, (tx) => fn(bind(tx)), { retries: 0 }),
            list: () => listPgSubscriptions(pool),
          };
        },
        async close() { await Promise.all(pools.map((p) => p.end())); },
      };
    },
  };
}

/** What a test throws to roll a transaction back on purpose. */
export class RolledBack extends Error {
  override readonly name = 'RolledBack';
  constructor() { super('rolled back on purpose'); }
}

/** The error `p` rejects with; fails when it resolves. */
export async function rejection(p: Promise<unknown>): Promise<unknown> {
  try { await p; } catch (e) { return e; }
  throw new Error('expected a rejection, but it resolved');
}

/** Both engines, for `for (const engine of storeEngines()) describe(engine.name, ...)`. */
export function storeEngines(): StoreEngine[] {
  return [sqliteEngine(), postgresEngine()];
}
