import type { Migration } from '@shop/common';
import { pgConsumerMigrations, pgEventLogMigrations, pgFeedMigrations, pgIdempotencyMigrations } from '@shop/common/pg';

/**
 * The order service's schema on PostgreSQL (DATABASE_URL): its events, its feed and archive
 * renditions, idempotency keys, and the shipping feed's read position and parked entries. Applied at start under an advisory lock, so instances
 * starting together apply each step once.
 */
export const pgMigrations: readonly Migration[] = [...pgEventLogMigrations, ...pgFeedMigrations, ...pgIdempotencyMigrations, ...pgConsumerMigrations];
