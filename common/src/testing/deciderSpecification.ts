import { expect } from 'chai';
import { type Decider, type Decision, type Evolver, type Projection, fold } from '../command/decider.ts';
import type { NewFeedEntry } from '../feed/feedEntry.ts';

/** The fields of a refusal, without `ok` (each kind of refusal its own fields). */
export type RefusalOf<D> = D extends { readonly ok: false } ? Omit<D, 'ok'> : never;

/** What a command decided, given a history, with its assertions. */
export interface DeciderThen<E, D> {
  /** The decision itself, for assertions of your own. */
  readonly decision: D;
  /** Asserts the command was accepted with exactly these events (none: accepted, changing nothing). */
  then(...events: E[]): void;
  /** Asserts the command was refused for exactly this reason (the refusal's fields). */
  thenRefused(refusal: RefusalOf<D>): void;
}

/**
 * Given events, when a command, then events or a refusal: a decider's test reads as its rule.
 *
 * ```ts
 * const given = deciderSpecification(orderDecider);
 * given(placed).when(cancel).then(cancelled);
 * given().when(cancel).thenRefused({ reason: 'not-found' });
 * ```
 */
export function deciderSpecification<S, C, E, D extends Decision<E>>(decider: Decider<S, C, E, D>): (...history: E[]) => { when(command: C): DeciderThen<E, D> } {
  return (...history) => ({
    when(command) {
      const decision = decider.decide(command, fold(decider, history));
      return {
        decision,
        then: (...events) => expect(decision).to.deep.equal({ ok: true, events }),
        thenRefused: (refusal) => expect(decision).to.deep.equal({ ok: false, ...refusal }),
      };
    },
  });
}

/** What a history projects to, with its assertion. */
export interface ProjectionThen {
  /** Per event, its entry or null (kept private). */
  readonly entries: readonly (NewFeedEntry | null)[];
  /** Asserts the history publishes exactly these entries, in order (private events publish none). */
  then(...entries: NewFeedEntry[]): void;
}

/**
 * Given events, expect these feed entries. Each event is projected with the state after it, as
 * the command handler does; event ids are `options.eventIds` or `event-1`, `event-2`, ...
 */
export function projectionSpecification<S, E>(
  decider: Evolver<S, E>,
  projection: Projection<S, E>,
  options: { readonly streamId?: string; readonly recordedAt?: string; readonly eventIds?: readonly string[] } = {},
): (...history: E[]) => ProjectionThen {
  return (...history) => {
    let state = decider.initialState;
    const entries = history.map((event, i) => {
      state = decider.evolve(state, event);
      const eventId = options.eventIds?.[i] ?? `event-${i + 1}`;
      return projection(event, { eventId, streamId: options.streamId ?? 'stream-1', state, recordedAt: options.recordedAt ?? '2025-06-06T10:00:00.000Z' });
    });
    return {
      entries,
      then: (...expected) => expect(entries.filter((e) => e !== null)).to.deep.equal(expected),
    };
  };
}
