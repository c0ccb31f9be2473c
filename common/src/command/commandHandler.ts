import type { CommandEngine, CommandRules, EngineMode, EventShape, Handled, HandleOptions, Returns } from './commandEngine.ts';
import type { Decider, Decision, Projection } from './decider.ts';

/**
 * A service's one path for commands: its decider and projection, run by the engine it chose.
 * `handle` loads the stream, decides, appends the events and their feed entries (and the
 * service's `afterAppend` writes) in one transaction, and returns the decision; a refused
 * command writes nothing. With the SQLite engine everything returns at once; with an
 * asynchronous engine, the same calls return promises.
 */
export interface CommandHandler<S, C, E extends EventShape, D extends Decision<E>, Tx, M extends EngineMode> extends CommandRules<S, C, E, D> {
  /** The stream's current state (the decider's initial state for a stream never written). */
  load(streamId: string, tx?: Tx): Returns<M, S>;
  /** Runs `command` against stream `streamId`. */
  handle(streamId: string, command: C, options: HandleOptions<S, E, Tx, M>): Returns<M, Handled<S, E, D>>;
  /** Runs `work` in a write transaction (the caller's when there is one) to share with `handle` via `tx`. */
  transaction<T>(work: (tx: Tx) => Returns<M, T>, tx?: Tx): Returns<M, T>;
}

/**
 * Hands a decider and a projection to an engine. The engine is the only storage choice a
 * service makes: build it once (in app.ts) and every command of the service goes through it.
 */
export function createCommandHandler<S, C, E extends EventShape, D extends Decision<E>, Tx, M extends EngineMode>(
  engine: CommandEngine<Tx, M>,
  decider: Decider<S, C, E, D>,
  projection: Projection<S, E>,
): CommandHandler<S, C, E, D, Tx, M> {
  const rules: CommandRules<S, C, E, D> = { decider, projection };
  return {
    decider,
    projection,
    load: (streamId, tx) => engine.load(decider, streamId, tx),
    handle: (streamId, command, options) => engine.execute(rules, streamId, command, options),
    transaction: (work, tx) => engine.transaction(work, tx),
  };
}
