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
  {
    id: 'notification-004-outbox-covering-indexes',
    sql: `
      -- An outbox row holds its email (html, text, the MIME bytes), and the columns the sender and
      -- /status ask about come after them, in overflow pages: every frequent question is answered
      -- from one of these indexes alone, never from the rows.
      -- (An index holds the columns of its own WHERE too: SQLite reads a row for any column it lacks.)
      -- Pending in outbox order (what is due, its order, since when), and per order (is an earlier one waiting?).
      DROP INDEX outbox_pending;
      DROP INDEX outbox_pending_by_order;
      CREATE INDEX outbox_pending ON outbox (id, order_id, next_attempt_at, created_at, sent_at, dead_at) WHERE sent_at IS NULL AND dead_at IS NULL;
      CREATE INDEX outbox_pending_by_order ON outbox (order_id, id, next_attempt_at, sent_at, dead_at) WHERE sent_at IS NULL AND dead_at IS NULL;
      -- Unsent, dead letters included, by state (/status, /metrics); 002 dropped outbox_unsent.
      CREATE INDEX outbox_unsent ON outbox (dead_at, last_error, created_at, sent_at) WHERE sent_at IS NULL;
      -- The sent count, kept in the transaction that marks an email sent rather than counted.
      CREATE TABLE outbox_sent_count (sent INTEGER NOT NULL);
      INSERT INTO outbox_sent_count (sent) SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL;
      CREATE TRIGGER outbox_count_sent AFTER UPDATE OF sent_at ON outbox WHEN (old.sent_at IS NULL) <> (new.sent_at IS NULL)
      BEGIN UPDATE outbox_sent_count SET sent = sent + CASE WHEN new.sent_at IS NULL THEN -1 ELSE 1 END; END;
      CREATE TRIGGER outbox_count_sent_inserted AFTER INSERT ON outbox WHEN new.sent_at IS NOT NULL
      BEGIN UPDATE outbox_sent_count SET sent = sent + 1; END;
      CREATE TRIGGER outbox_count_sent_deleted AFTER DELETE ON outbox WHEN old.sent_at IS NOT NULL
      BEGIN UPDATE outbox_sent_count SET sent = sent - 1; END;
    `,
  },
];
