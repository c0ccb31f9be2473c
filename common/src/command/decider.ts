import type { NewFeedEntry } from '../feed/feedEntry.ts';

/**
 * What a decider answers: the events a command records (none is a valid, idempotent answer), or
 * a refusal carrying the service's own reason fields.
 */
export type Decision<E> = { readonly ok: true; readonly events: readonly E[] } | { readonly ok: false };

/**
 * A service's rules for one stream, pure and synchronous: the state folded from its events, and
 * what a command means in that state. Ids and time come in with the command (or are bound in by
 * the edge), so the same history and command always give the same decision.
 */
export interface Decider<S, C, E, D extends Decision<E> = Decision<E>> extends Evolver<S, E> {
  decide(command: C, state: S): D;
}

/** How a stream's events fold into its state: what reading a stream needs of a decider. */
export interface Evolver<S, E> {
  readonly initialState: S;
  evolve(state: S, event: E): S;
}

/** What a projection knows of the event it projects. */
export interface ProjectionContext<S> {
  /** The event's id, also the feed entry's key (its atom:id), so a retry projects the same entry. */
  readonly eventId: string;
  readonly streamId: string;
  /** The stream's state with this event applied. */
  readonly state: S;
  readonly recordedAt: string;
}

/** An event's public face: the feed entry it publishes, or null for an event kept private. Pure. */
export type Projection<S, E> = (event: E, ctx: ProjectionContext<S>) => NewFeedEntry | null;

/** One event to append, with its id, the state after it and the feed entry it publishes. */
export interface PendingEvent<S, E> {
  readonly eventId: string;
  readonly event: E;
  readonly state: S;
  readonly entry: NewFeedEntry | null;
}

/** What a command comes to before anything is stored. */
export interface Plan<S, E, D> {
  readonly decision: D;
  /** The stream's state after the decision's events (as loaded when refused). */
  readonly state: S;
  /** Empty when the command was refused or changed nothing. */
  readonly pending: readonly PendingEvent<S, E>[];
}

/** Folds a stream's events into its state. */
export function fold<S, E>(decider: Evolver<S, E>, events: Iterable<E>): S {
  let state = decider.initialState;
  for (const event of events) state = decider.evolve(state, event);
  return state;
}

/**
 * The pure heart of every command, shared by every engine: decide on the loaded state, then give
 * each event an id, apply it and project it. Writes nothing; an engine stores what it returns.
 * A throwing projection throws here, before anything is written.
 */
export function planCommand<S, C, E, D extends Decision<E>>(
  decider: Decider<S, C, E, D>,
  projection: Projection<S, E>,
  loaded: S,
  command: C,
  streamId: string,
  recordedAt: string,
  newEventId: () => string,
): Plan<S, E, D> {
  const decision = decider.decide(command, loaded);
  const decided: Decision<E> = decision;
  if (!decided.ok) return { decision, state: loaded, pending: [] };
  let state = loaded;
  const pending: PendingEvent<S, E>[] = [];
  for (const event of decided.events) {
    const eventId = newEventId();
    state = decider.evolve(state, event);
    const entry = projection(event, { eventId, streamId, state, recordedAt });
    pending.push({ eventId, event, state, entry });
  }
  return { decision, state, pending };
}
