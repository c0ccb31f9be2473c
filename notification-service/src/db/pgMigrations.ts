import type { Migration } from '@shop/common';
import { pgConsumerMigrations } from '@shop/common/pg';

/**
 * The notification service's tables in PostgreSQL (DATABASE_URL), shared by every instance: the
 * three feeds' read positions and parked entries (common's consumer tables), the inbox that hands
 * each feed's entries to the partition that owns their order, the policy's state per order, the
 * outbox, the template versions and who owns which partition.
 */
export const notificationPgMigrations: readonly Migration[] = [
  ...pgConsumerMigrations,
  {
    id: 'notification-pg-001',
    sql: `
      -- Settings every instance must agree on (the number of partitions) and secrets the service
      -- made itself (the view links' key when VIEW_LINK_SECRET is not set).
      CREATE TABLE notification_settings (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );
      -- Each feed's entries, as its reader took them, addressed to the partition of their order.
      -- A feed has one reader at a time, which commits its entries in feed order: a partition
      -- reads its rows of a feed in position order and never misses one. Deleted once applied.
      CREATE TABLE notification_inbox (
        subscription TEXT NOT NULL,
        partition INTEGER NOT NULL,
        position BIGINT NOT NULL,
        entry TEXT NOT NULL,
        PRIMARY KEY (subscription, partition, position)
      );
      -- The policy's state per order, as JSON; waiting while a timer may still send an email.
      CREATE TABLE order_notifications (
        order_id TEXT PRIMARY KEY,
        partition INTEGER NOT NULL,
        state TEXT NOT NULL,
        waiting BOOLEAN NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE INDEX order_notifications_waiting ON order_notifications (partition, order_id) WHERE waiting;
      -- Emails decided, in the same transaction as the decision. key = order id + kind, unique.
      CREATE TABLE outbox (
        id BIGSERIAL PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        order_id TEXT NOT NULL,
        partition INTEGER NOT NULL,
        kind TEXT NOT NULL,
        to_name TEXT NOT NULL,
        to_address TEXT NOT NULL,
        subject TEXT NOT NULL,
        html TEXT NOT NULL,
        text TEXT NOT NULL,
        message_id TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        raw BYTEA,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        sent_at TEXT,
        sent_via TEXT,
        next_attempt_at TEXT,
        dead_at TEXT,
        template_version TEXT,
        template_data TEXT
      );
      -- Pending = neither sent nor dead: in outbox order, and per order ("is an earlier one still pending?").
      CREATE INDEX outbox_pending ON outbox (id) INCLUDE (order_id, next_attempt_at, created_at) WHERE sent_at IS NULL AND dead_at IS NULL;
      CREATE INDEX outbox_pending_by_order ON outbox (order_id, id) WHERE sent_at IS NULL AND dead_at IS NULL;
      CREATE INDEX outbox_unsent ON outbox (id) INCLUDE (dead_at, last_error, created_at) WHERE sent_at IS NULL;
      CREATE INDEX outbox_dead ON outbox (id) WHERE dead_at IS NOT NULL;
      -- The sent count, kept in the transaction that marks an email sent rather than counted.
      CREATE TABLE outbox_sent_count (sent BIGINT NOT NULL);
      INSERT INTO outbox_sent_count (sent) VALUES (0);
      CREATE FUNCTION outbox_count_sent() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'INSERT' THEN
          IF NEW.sent_at IS NOT NULL THEN UPDATE outbox_sent_count SET sent = sent + 1; END IF;
        ELSIF TG_OP = 'DELETE' THEN
          IF OLD.sent_at IS NOT NULL THEN UPDATE outbox_sent_count SET sent = sent - 1; END IF;
        ELSIF (OLD.sent_at IS NULL) <> (NEW.sent_at IS NULL) THEN
          UPDATE outbox_sent_count SET sent = sent + CASE WHEN NEW.sent_at IS NULL THEN -1 ELSE 1 END;
        END IF;
        RETURN NULL;
      END $$;
      CREATE TRIGGER outbox_count_sent AFTER INSERT OR DELETE OR UPDATE OF sent_at ON outbox FOR EACH ROW EXECUTE FUNCTION outbox_count_sent();
      -- Every template version that passed its check, and the one in use per kind (see TemplateStore).
      CREATE TABLE template_versions (
        name TEXT NOT NULL,
        version TEXT NOT NULL,
        files TEXT NOT NULL,
        accepted_at TEXT NOT NULL,
        PRIMARY KEY (name, version)
      );
      CREATE TABLE templates_in_use (
        name TEXT PRIMARY KEY,
        version TEXT NOT NULL,
        since TEXT NOT NULL
      );
      -- Who took each partition last and when: written by the instance that took it, for /status
      -- and /metrics. The advisory locks decide who owns a partition; this only records it.
      CREATE TABLE notification_partitions (
        partition INTEGER PRIMARY KEY,
        owner TEXT,
        since TEXT NOT NULL
      );
    `,
  },
  {
    id: 'notification-pg-002-due-orders',
    sql: `
      -- When a waiting order's missing-part deadline falls (NULL: nothing time-driven left), so the
      -- periodic check reads only the orders due, not every order waiting. Rows from before are
      -- due at once, and get their real time when checked.
      ALTER TABLE order_notifications ADD COLUMN due_at TEXT;
      UPDATE order_notifications SET due_at = updated_at WHERE waiting;
      DROP INDEX order_notifications_waiting;
      CREATE INDEX order_notifications_due ON order_notifications (partition, due_at) WHERE due_at IS NOT NULL;
      CREATE INDEX order_notifications_waiting ON order_notifications (order_id) WHERE waiting;
    `,
  },
  {
    id: 'notification-pg-003-claim-indexes',
    sql: `
      -- The sender's two questions, an index each: the first email never tried, in outbox order;
      -- the retries whose time has come, by that time (see PgOutboxQueue).
      CREATE INDEX outbox_fresh ON outbox (id) WHERE sent_at IS NULL AND dead_at IS NULL AND next_attempt_at IS NULL;
      CREATE INDEX outbox_retry_due ON outbox (next_attempt_at) WHERE sent_at IS NULL AND dead_at IS NULL AND next_attempt_at IS NOT NULL;
    `,
  },
];
