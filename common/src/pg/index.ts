// The PostgreSQL engine, a subpath of its own (`@shop/common/pg`) so that a service on SQLite
// never loads the driver.
export { CONNECT_TIMEOUT_MS, StreamVersionConflictError, inPgTransaction, isTransientConflict, isTransientDatabaseError, isUniqueViolation, openPgPool, type PgPoolOptions, type PgQueryable, type PgTransactionOptions, type PgTx } from './pgDatabase.ts';
export { MIGRATION_LOCK, migratePg, pendingPgMigrations } from './pgMigrate.ts';
export { PgEventLog, pgEventLogMigrations, type NewEvent, type PgRecordedEvent } from './pgEventLog.ts';
export { PgIdempotencyKeys, pgIdempotencyMigrations, type IdempotencyClaim } from './pgIdempotency.ts';
export { feedChannel, pgFeedMigrations } from './pgFeedMigrations.ts';
export { PgFeedStore, type PgFeedStoreOptions } from './pgFeedStore.ts';
export { PgCommandEngine, type PgCommandEngineOptions } from './pgCommandEngine.ts';
export { PgConsumerStore, listPgSubscriptions, pgConsumerMigrations } from './pgConsumerStore.ts';
export { PgListener, type PgListenerOptions } from './pgListener.ts';
export { PgLeadership, type PgLeadershipOptions } from './pgLeadership.ts';
export type { Pool as PgPool } from 'pg';
export { PgFeedConsumer, pgReadLoopStore, type PgConsumerStatus, type PgFeedConsumerOptions } from './pgFeedConsumer.ts';
export { PgEntryApplier, savepoint, type PgEntryHandler, type PgPageHandler } from './pgEntryApplier.ts';
export { runPgServiceCli, type PgCliConsumer, type PgServiceCliOptions } from './pgServiceCli.ts';
