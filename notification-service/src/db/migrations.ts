import { consumerMigrations, type Migration } from '@shop/common';

export const notificationMigrations: readonly Migration[] = [
  ...consumerMigrations,
  {
    id: 'notification-001-orders-and-outbox',
    sql: `
      -- The policy's state per order, as JSON; waiting = 1 while a timer may still send an email.
      CREATE TABLE order_notifications (
        order_id TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        waiting INTEGER NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE INDEX order_notifications_waiting ON order_notifications (waiting) WHERE waiting = 1;
      -- Emails decided, in the same transaction as the decision. key = order id + kind, unique.
      CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        key TEXT NOT NULL UNIQUE,
        order_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        to_name TEXT NOT NULL,
        to_address TEXT NOT NULL,
        subject TEXT NOT NULL,
        html TEXT NOT NULL,
        text TEXT NOT NULL,
        message_id TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        raw BLOB,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        sent_at TEXT,
        sent_via TEXT
      );
      CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL;
    `,
  },
  {
    id: 'notification-002-outbox-retries',
    sql: `
      -- Per email: when to try it next (NULL: now), and when it was given up on (dead letter).
      ALTER TABLE outbox ADD COLUMN next_attempt_at TEXT;
      ALTER TABLE outbox ADD COLUMN dead_at TEXT;
      DROP INDEX outbox_unsent;
      -- Pending = neither sent nor dead: in outbox order, and by order for "does an earlier email of this order wait?".
      CREATE INDEX outbox_pending ON outbox (id) WHERE sent_at IS NULL AND dead_at IS NULL;
      CREATE INDEX outbox_pending_by_order ON outbox (order_id, id) WHERE sent_at IS NULL AND dead_at IS NULL;
      CREATE INDEX outbox_dead ON outbox (id) WHERE dead_at IS NOT NULL;
    `,
  },
  {
    id: 'notification-003-template-versions',
    sql: `
      -- Every template version that passed its check, with its files, and the one in use per kind:
      -- a restart with a broken file on disk still sends with the last good version.
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
      -- Secrets the service made itself (the view links' key when VIEW_LINK_SECRET is not set).
      CREATE TABLE notification_settings (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );
      -- Which template version an email was made from, and what it was made of (for its view page).
      ALTER TABLE outbox ADD COLUMN template_version TEXT;
      ALTER TABLE outbox ADD COLUMN template_data TEXT;
    `,
  },
];
