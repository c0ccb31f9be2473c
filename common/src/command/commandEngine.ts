import type { RecordedEvent } from '../db/eventLog.ts';
import type { Decider, Decision, Evolver, Projection } from './decider.ts';

/** Whether an engine answers at once (better-sqlite3) or with a promise (a server database). */
export type EngineMode = 'sync' | 'async';

/** `T` from a synchronous engine, `Promise<T>` from an asynchronous one. */
export type Returns<M extends EngineMode, T> = M extends 'sync' ? T : Promise<T>;

/** What the event log needs of an event: its type, stored beside it. */
export interface EventShape { readonly type: string }

/** How one command runs, besides the command itself. */
export interface HandleOptions<S, E, Tx, M extends EngineMode> {
  /** When the events are recorded: the command's own time, from the edge's clock. */
  readonly recordedAt: string;
  /**
   * The caller's open transaction, to run as part of it (a feed consumer's, which also moves its
   * read position; a store's own, which checked an idempotency key first). Whoever opened it
   * commits, or rolls back on a throw. Without it the engine opens one of its own.
   */
  readonly tx?: Tx;
  /**
   * The service's own writes, in the same transaction after the events and their entries
   * (idempotency records, invoice numbers, query tables). Runs only when the command was
   * accepted, with the events recorded (none when it changed nothing) and the state after them.
   */
  readonly afterAppend?: (recorded: readonly RecordedEvent<E>[], tx: Tx, state: S) => Returns<M, void>;
}

/** What an engine runs a command with: the service's rules and its projection. */
export interface CommandRules<S, C, E, D extends Decision<E>> {
  readonly decider: Decider<S, C, E, D>;
  readonly projection: Projection<S, E>;
}

/** What came of a command: the decision, the state after it, and the events as recorded. */
export interface Handled<S, E, D> {
  readonly decision: D;
  readonly state: S;
  /** Empty when the command was refused or changed nothing. */
  readonly recorded: readonly RecordedEvent<E>[];
}

/**
 * Where commands are stored: the one place a service chooses its storage. Every engine runs the
 * same loop in one transaction: load the stream, fold it, decide and project
 * (`planCommand`, pure and shared), append the events, append their feed entries, run
 * the service's `afterAppend`, commit. A refused command, or one whose projection throws,
 * writes nothing.
 *
 * The SQLite engine (`SqliteCommandEngine`) is synchronous (`M = 'sync'`): better-sqlite3
 * holds the write lock for the whole transaction, so no other writer can move the stream between
 * load and append, and it joins the connection's open transaction when there is one.
 *
 * An asynchronous engine (`M = 'async'`, a PostgreSQL one, say, with `Tx` its client) keeps the
 * same contract with promises:
 * - `transaction(work, tx)`: with `tx`, runs `work(tx)` as part of it; without, takes a client,
 *   `BEGIN`, `work`, `COMMIT`. When the commit or a statement fails on a conflict (a unique
 *   violation on the stream's version, a serialization failure) it rolls back and runs `work`
 *   again, a few times: `work` is re-runnable because it reads what it decides on inside the
 *   transaction and `planCommand` is pure (new attempts draw new event ids).
 * - `execute(rules, streamId, command, options)`: inside `transaction`, reads the stream with its version (its last event's
 *   number in the stream), plans, appends each event at version + 1, + 2, ... so that a writer
 *   that moved the stream meanwhile makes the append fail (the optimistic check) and the
 *   command retry from the load; then the feed entries (their positions are the feed store's
 *   business) and `afterAppend(recorded, tx, state)`.
 * - Inside a caller's transaction (`tx` given) a conflict cannot be retried here, since the
 *   caller's earlier reads are part of it: it propagates, and the owner of the transaction (a
 *   feed consumer applying an entry, a store's idempotent write) retries the whole unit.
 */
export interface CommandEngine<Tx, M extends EngineMode> {
  /** Runs `work` in a write transaction: `tx`'s (or, for SQLite, the connection's open one) when there is one, else a new one. */
  transaction<T>(work: (tx: Tx) => Returns<M, T>, tx?: Tx): Returns<M, T>;
  /** A stream's current state: its events folded (the initial state for an unknown stream). */
  load<S, E extends EventShape>(decider: Evolver<S, E>, streamId: string, tx?: Tx): Returns<M, S>;
  /** Runs one command: load, decide, append events, project, append entries, `afterAppend`, in one transaction. */
  execute<S, C, E extends EventShape, D extends Decision<E>>(rules: CommandRules<S, C, E, D>, streamId: string, command: C, options: HandleOptions<S, E, Tx, M>): Returns<M, Handled<S, E, D>>;
}
