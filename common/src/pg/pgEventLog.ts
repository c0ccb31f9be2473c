import type { Migration } from '../db/database.ts';
import type { RecordedEvent } from '../db/eventLog.ts';
import { type PgQueryable, type PgTx, StreamVersionConflictError, isUniqueViolation, toNumber } from './pgDatabase.ts';

export const pgEventLogMigrations: readonly Migration[] = [
  {
    id: 'events-001-log',
    sql: `
      CREATE TABLE events (
        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        event_id TEXT NOT NULL UNIQUE,
        stream_id TEXT NOT NULL,
        -- 1, 2, 3... within a stream. Two writers deciding on the same version of a stream both
        -- try to insert the same next version: one commits, the other conflicts and runs again.
        version INTEGER NOT NULL CHECK (version > 0),
        type TEXT NOT NULL,
        -- TEXT, not jsonb: an event reads back exactly as written, key order included.
        data TEXT NOT NULL,
        recorded_at TEXT NOT NULL,
        CONSTRAINT events_stream_version UNIQUE (stream_id, version)
      );
    `,
  },
];

/** An event as stored in PostgreSQL: also its version within its stream. */
export interface PgRecordedEvent<E> extends RecordedEvent<E> {
  readonly version: number;
}

/** What a command decided, ready to append. */
export interface NewEvent<E> {
  readonly eventId: string;
  readonly event: E;
  readonly recordedAt: string;
}

interface EventRow { seq: string; event_id: string; stream_id: string; version: number; data: string; recorded_at: string }

/**
 * A service's private, append-only log of internal events in PostgreSQL, one stream per
 * aggregate, with optimistic concurrency per stream: read a stream (its version), decide,
 * append at that version.
 */
export class PgEventLog<E extends { readonly type: string }> {
  /** Every event of one stream, oldest first. */
  async read(q: PgQueryable, streamId: string): Promise<PgRecordedEvent<E>[]> {
    const rows = await q.query<EventRow>('SELECT seq, event_id, stream_id, version, data, recorded_at FROM events WHERE stream_id = $1 ORDER BY version', [streamId]);
    return rows.rows.map(toRecorded<E>);
  }

  /** The stream's events and its version (0 for a stream with none): what `append` expects. */
  async readStream(q: PgQueryable, streamId: string): Promise<{ readonly version: number; readonly events: PgRecordedEvent<E>[] }> {
    const events = await this.read(q, streamId);
    return { version: events.at(-1)?.version ?? 0, events };
  }

  /**
   * Appends events to a stream that the caller read at `expectedVersion`, inside the caller's
   * transaction. Throws StreamVersionConflictError when another transaction appended to the
   * stream since (waiting for it to commit first, if it had not yet): the whole transaction is
   * then void; inPgTransaction runs it again.
   */
  async append(tx: PgTx, streamId: string, expectedVersion: number, events: readonly NewEvent<E>[]): Promise<PgRecordedEvent<E>[]> {
    if (events.length === 0) return [];
    const versions = events.map((_, i) => expectedVersion + i + 1);
    try {
      const res = await tx.query<{ seq: string }>(
        `INSERT INTO events (event_id, stream_id, version, type, data, recorded_at)
         SELECT e, $2, v, t, d, r FROM unnest($1::text[], $3::int[], $4::text[], $5::text[], $6::text[]) WITH ORDINALITY AS u(e, v, t, d, r, n)
         ORDER BY n RETURNING seq`,
        [events.map((e) => e.eventId), streamId, versions, events.map((e) => e.event.type), events.map((e) => JSON.stringify(e.event)), events.map((e) => e.recordedAt)],
      );
      const seqs = res.rows.map((r) => toNumber(r.seq)).sort((a, b) => a - b);
      return events.map((e, i) => ({ seq: seqs[i]!, eventId: e.eventId, streamId, version: versions[i]!, recordedAt: e.recordedAt, event: e.event }));
    } catch (e) {
      if (isUniqueViolation(e, 'events_stream_version')) throw new StreamVersionConflictError(streamId, expectedVersion, { cause: e });
      throw e;
    }
  }
}

function toRecorded<E>(r: EventRow): PgRecordedEvent<E> {
  return { seq: toNumber(r.seq), eventId: r.event_id, streamId: r.stream_id, version: r.version, recordedAt: r.recorded_at, event: JSON.parse(r.data) as E };
}
