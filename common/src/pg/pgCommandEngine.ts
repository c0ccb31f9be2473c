import type { Pool } from 'pg';
import type { CommandEngine, CommandRules, EventShape, Handled, HandleOptions } from '../command/commandEngine.ts';
import { type Decision, type Evolver, fold, planCommand } from '../command/decider.ts';
import type { NewFeedEntry } from '../feed/feedEntry.ts';
import { type PgTx, inPgTransaction, isTransientConflict } from './pgDatabase.ts';
import { PgEventLog } from './pgEventLog.ts';
import type { PgFeedStore } from './pgFeedStore.ts';

export interface PgCommandEngineOptions {
  /** Gives each event its id (and its entry's key); a retried command draws new ones. */
  readonly newEventId: () => string;
  /** Reruns of a command's own transaction after a conflict, each after a short random pause (default 10). */
  readonly retries?: number;
}

/**
 * The PostgreSQL engine: `CommandEngine`'s asynchronous contract over PgEventLog and
 * PgFeedStore, for several instances of a service on one database. A command reads its stream
 * and version, plans (pure, shared with SQLite), appends its events at version + 1, + 2, ...
 * (a writer that moved the stream meanwhile makes that fail, and the command runs again from
 * the load), runs the service's `afterAppend`, and appends its feed entries last, in one call:
 * the feed's head row stays locked from that statement to the commit, so appends to one feed
 * wait for each other only that long. (SQLite's engine runs `afterAppend` after the entries;
 * nothing a service writes there depends on the entries' positions.)
 */
export class PgCommandEngine implements CommandEngine<PgTx, 'async'> {
  readonly #pool: Pool;
  readonly #feed: PgFeedStore;
  readonly #log = new PgEventLog<EventShape>();
  readonly #o: PgCommandEngineOptions;

  constructor(pool: Pool, feed: PgFeedStore, options: PgCommandEngineOptions) {
    this.#pool = pool;
    this.#feed = feed;
    this.#o = options;
  }

  /** With `tx`, part of it (its owner commits and retries); else a transaction of its own, rerun on a conflict. */
  async transaction<T>(work: (tx: PgTx) => Promise<T>, tx?: PgTx): Promise<T> {
    if (tx !== undefined) return work(tx);
    const retries = this.#o.retries ?? 10;
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await inPgTransaction(this.#pool, work, { retries: 0 });
      } catch (e) {
        if (attempt >= retries || !isTransientConflict(e)) throw e;
        // Writers that lost a race on one stream would meet again at once: spread them out.
        await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 ** attempt)));
      }
    }
  }

  async load<S, E extends EventShape>(decider: Evolver<S, E>, streamId: string, tx?: PgTx): Promise<S> {
    const { events } = await this.#log.readStream(tx ?? this.#pool, streamId);
    return fold(decider, events.map((r) => r.event as E));
  }

  execute<S, C, E extends EventShape, D extends Decision<E>>(rules: CommandRules<S, C, E, D>, streamId: string, command: C, options: HandleOptions<S, E, PgTx, 'async'>): Promise<Handled<S, E, D>> {
    const { recordedAt } = options;
    // One log serves every event type; this command's stream holds this decider's events.
    const log = this.#log as unknown as PgEventLog<E>;
    return this.transaction(async (tx) => {
      const { version, events } = await log.readStream(tx, streamId);
      const loaded = fold(rules.decider, events.map((r) => r.event));
      const plan = planCommand(rules.decider, rules.projection, loaded, command, streamId, recordedAt, this.#o.newEventId);
      const decided: Decision<E> = plan.decision;
      if (!decided.ok) return { decision: plan.decision, state: plan.state, recorded: [] };
      const recorded = await log.append(tx, streamId, version, plan.pending.map((p) => ({ eventId: p.eventId, event: p.event, recordedAt })));
      await options.afterAppend?.(recorded, tx, plan.state);
      const entries: NewFeedEntry[] = [];
      for (const p of plan.pending) if (p.entry) entries.push(p.entry);
      // Last, and once: the head row's lock is held from here to the commit.
      await this.#feed.appendAll(tx, entries);
      return { decision: plan.decision, state: plan.state, recorded };
    }, options.tx);
  }
}
