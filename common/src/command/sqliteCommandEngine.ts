import { type Db, inWriteTransaction } from '../db/database.ts';
import { EventLog, type RecordedEvent } from '../db/eventLog.ts';
import type { FeedStore } from '../feed/feedStore.ts';
import type { CommandEngine, CommandRules, EventShape, Handled, HandleOptions } from './commandEngine.ts';
import { type Decision, type Evolver, planCommand } from './decider.ts';

/**
 * The SQLite engine: commands run synchronously in a better-sqlite3 write transaction taken up
 * front (`BEGIN IMMEDIATE`), so the stream cannot move between load and append. When the
 * connection already has a transaction open (a feed consumer's, a group commit's) the command
 * runs inside it as a savepoint and commits with it; given the caller's `tx`, as part of it.
 */
export class SqliteCommandEngine implements CommandEngine<Db, 'sync'> {
  readonly #db: Db;
  readonly #log: EventLog<EventShape>;
  readonly #feed: FeedStore;
  readonly #newEventId: () => string;

  /** `feed` is the service's public feed; `newEventId` gives each event its id (and its entry's key). */
  constructor(db: Db, feed: FeedStore, options: { readonly newEventId: () => string }) {
    this.#db = db;
    this.#log = new EventLog<EventShape>(db);
    this.#feed = feed;
    this.#newEventId = options.newEventId;
  }

  transaction<T>(work: (tx: Db) => T, tx?: Db): T {
    // The caller's transaction is already a unit that rolls back as one: no savepoint needed.
    if (tx !== undefined && this.#db.inTransaction) return work(tx);
    return inWriteTransaction(this.#db, () => work(this.#db));
  }

  load<S, E extends EventShape>(decider: Evolver<S, E>, streamId: string): S {
    let state = decider.initialState;
    for (const r of this.#log.read(streamId)) state = decider.evolve(state, r.event as E);
    return state;
  }

  execute<S, C, E extends EventShape, D extends Decision<E>>(rules: CommandRules<S, C, E, D>, streamId: string, command: C, options: HandleOptions<S, E, Db, 'sync'>): Handled<S, E, D> {
    const { recordedAt } = options;
    return this.transaction((tx) => {
      const loaded = this.load(rules.decider, streamId);
      const plan = planCommand(rules.decider, rules.projection, loaded, command, streamId, recordedAt, this.#newEventId);
      const recorded: RecordedEvent<E>[] = [];
      for (const p of plan.pending) {
        recorded.push(this.#log.append(streamId, p.eventId, p.event, recordedAt) as RecordedEvent<E>);
        if (p.entry) this.#feed.append(p.entry);
      }
      const decided: Decision<E> = plan.decision;
      if (decided.ok) options.afterAppend?.(recorded, tx, plan.state);
      return { decision: plan.decision, state: plan.state, recorded };
    }, options.tx);
  }
}
