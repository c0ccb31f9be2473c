import type { Migration } from '../db/database.ts';
import type { PgQueryable, PgTx } from './pgDatabase.ts';

export const pgIdempotencyMigrations: readonly Migration[] = [
  {
    id: 'idempotency-001-keys',
    sql: `
      -- One row per Idempotency-Key a client sent: what it asked (a hash of the request) and
      -- what it made (the order, the payment), so a retry through any instance gets the same.
      CREATE TABLE idempotency_keys (
        key TEXT PRIMARY KEY,
        request_hash TEXT NOT NULL,
        resource_id TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
    `,
  },
];

/** The outcome of claiming a key: ours now, or already used (with the same request, or another). */
export type IdempotencyClaim =
  | { readonly kind: 'claimed' }
  | { readonly kind: 'replayed'; readonly resourceId: string }
  | { readonly kind: 'key-reused'; readonly resourceId: string };

/** Idempotency keys shared by every instance of a service. */
export class PgIdempotencyKeys {
  /**
   * Claims `key` for `resourceId` inside the caller's transaction, before the command runs.
   * When another instance's transaction holds the same key uncommitted, this waits for it: if
   * it commits, the key is seen as used; if it rolls back, the claim is ours. So one key makes
   * one resource, across instances. Needs READ COMMITTED (inPgTransaction's level), where the
   * read after the conflict sees the row the other transaction committed.
   */
  async claim(tx: PgTx, c: { key: string; requestHash: string; resourceId: string; at: string }): Promise<IdempotencyClaim> {
    const inserted = await tx.query(
      'INSERT INTO idempotency_keys (key, request_hash, resource_id, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO NOTHING',
      [c.key, c.requestHash, c.resourceId, c.at],
    );
    if (inserted.rowCount === 1) return { kind: 'claimed' };
    const seen = await this.find(tx, c.key);
    if (!seen) throw new Error(`idempotency key ${c.key} conflicted but cannot be read`);
    return { kind: seen.requestHash === c.requestHash ? 'replayed' : 'key-reused', resourceId: seen.resourceId };
  }

  async find(q: PgQueryable, key: string): Promise<{ readonly requestHash: string; readonly resourceId: string } | undefined> {
    const r = await q.query<{ request_hash: string; resource_id: string }>('SELECT request_hash, resource_id FROM idempotency_keys WHERE key = $1', [key]);
    const row = r.rows[0];
    return row ? { requestHash: row.request_hash, resourceId: row.resource_id } : undefined;
  }
}
