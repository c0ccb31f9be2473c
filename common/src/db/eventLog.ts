import type { Db, Migration } from './database.ts';

export const eventLogMigrations: readonly Migration[] = [
  {
    id: 'events-001-log',
    sql: `
      CREATE TABLE events (
        seq INTEGER PRIMARY KEY,
        event_id TEXT NOT NULL UNIQUE,
        stream_id TEXT NOT NULL,
        type TEXT NOT NULL,
        data TEXT NOT NULL,
        recorded_at TEXT NOT NULL
      );
      CREATE INDEX events_stream ON events (stream_id, seq);
    `,
  },
];

export interface RecordedEvent<E> {
  readonly seq: number;
  readonly eventId: string;
  readonly streamId: string;
  readonly recordedAt: string;
  readonly event: E;
}

/** A service's private, append-only log of internal events, one stream per aggregate. */
export class EventLog<E extends { readonly type: string }> {
  readonly #db: Db;
  readonly #insert;
  readonly #stream;

  constructor(db: Db) {
    this.#db = db;
    this.#insert = db.prepare('INSERT INTO events (event_id, stream_id, type, data, recorded_at) VALUES (?, ?, ?, ?, ?)');
    this.#stream = db.prepare<[string], { seq: number; event_id: string; stream_id: string; data: string; recorded_at: string }>(
      'SELECT seq, event_id, stream_id, data, recorded_at FROM events WHERE stream_id = ? ORDER BY seq',
    );
  }

  /** Appends one event; must run inside the caller's write transaction. */
  append(streamId: string, eventId: string, event: E, recordedAt: string): RecordedEvent<E> {
    if (!this.#db.inTransaction) throw new Error('EventLog.append must run inside a write transaction');
    const info = this.#insert.run(eventId, streamId, event.type, JSON.stringify(event), recordedAt);
    return { seq: Number(info.lastInsertRowid), eventId, streamId, recordedAt, event };
  }

  /** Every event of one stream, oldest first. */
  read(streamId: string): RecordedEvent<E>[] {
    return this.#stream.all(streamId).map((r) => ({
      seq: r.seq, eventId: r.event_id, streamId: r.stream_id, recordedAt: r.recorded_at, event: JSON.parse(r.data) as E,
    }));
  }
}
