import type { Migration } from '../db/database.ts';

export const pgFeedMigrations: readonly Migration[] = [
  {
    id: 'feed-001-entries-and-pages',
    sql: `
      CREATE TABLE feed_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      -- The feed's one head row. An appending transaction updates it first, which locks it until
      -- that transaction ends: positions are handed out one transaction at a time, in commit
      -- order, and a rollback hands its numbers to the next (see the README, "PostgreSQL").
      CREATE TABLE feed_head (
        only_row BOOLEAN PRIMARY KEY DEFAULT true CHECK (only_row),
        last_position BIGINT NOT NULL DEFAULT 0,
        -- The newest entry's updated (RFC 3339, ms, UTC: compares as text); '' while empty.
        last_updated TEXT NOT NULL DEFAULT '',
        -- The open page, as in feed_pages: changed only under this row's lock, so an append
        -- learns it from the same statement that takes its positions.
        open_page INTEGER NOT NULL DEFAULT 0,
        open_first BIGINT NOT NULL DEFAULT 1,
        open_capacity INTEGER NOT NULL DEFAULT 1
      );
      INSERT INTO feed_head DEFAULT VALUES;
      CREATE TABLE feed_entries (
        position BIGINT PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        type TEXT NOT NULL,
        order_id TEXT NOT NULL,
        updated TEXT NOT NULL,
        body TEXT NOT NULL
      );
      CREATE INDEX feed_entries_order ON feed_entries (order_id);
      -- One row a page. A page's first position and capacity are fixed when it opens, so a later
      -- FEED_PAGE_SIZE never moves an archive that exists. sealed_at marks it complete.
      CREATE TABLE feed_pages (
        page INTEGER PRIMARY KEY,
        first_position BIGINT NOT NULL UNIQUE,
        capacity INTEGER NOT NULL CHECK (capacity > 0),
        sealed_at TEXT
      );
      -- Complete archives rendered once per public base URL, for every instance, served from
      -- these bytes ever after.
      CREATE TABLE feed_archive_renditions (
        page INTEGER NOT NULL REFERENCES feed_pages (page),
        base_url TEXT NOT NULL,
        identity BYTEA NOT NULL,
        gzip BYTEA NOT NULL,
        br BYTEA NOT NULL,
        etag TEXT NOT NULL,
        last_modified_ms BIGINT NOT NULL,
        PRIMARY KEY (page, base_url)
      );
    `,
  },
];

/** The NOTIFY channel of a feed: one per feed, the same for every instance. */
export function feedChannel(feedId: string): string {
  return `feed_${feedId.replace(/^urn:uuid:/, '').replace(/[^0-9a-f]/gi, '').toLowerCase()}`;
}
