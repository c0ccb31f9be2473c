import { randomUUID } from 'node:crypto';
import type { Logger } from '../log/logger.ts';
import type { PollState } from './consumerOperations.ts';
import { errorMessage } from './entryApplier.ts';
import type { PollResult } from './feedReadLoop.ts';

export interface PollDeps {
  readonly state: PollState;
  readonly log: Logger;
  readonly now: () => Date;
  /** Backoff after a failed poll: base doubles per failure up to max, with jitter. */
  readonly backoff?: { readonly baseMs: number; readonly maxMs: number };
  readonly random?: () => number;
  /** Writes the failure where operators see it (the subscription's row). */
  readonly recordFailure: (error: string, at: string) => void | Promise<void>;
}

/**
 * One poll with what every consumer wraps around its read, whatever its engine: skip while
 * backing off; count the cost; log what the poll did; on a fault, back off (0.5 s doubling to
 * 15 s by default, with jitter) and record the error. Faults are returned, never thrown.
 */
export async function pollWithBackoff(deps: PollDeps, read: (cost: { requests: number; bytes: number }) => Promise<PollResult>, signal: AbortSignal | undefined): Promise<PollResult> {
  const s = deps.state;
  if (s.retryAt && deps.now() < s.retryAt) return { kind: 'backing-off', retryAt: s.retryAt.toISOString() };
  const pollId = randomUUID().slice(0, 8);
  const cost = { requests: 0, bytes: 0 };
  s.totals.polls++;
  try {
    const result = await read(cost);
    s.retryAt = undefined;
    s.failures = 0;
    if (result.kind === 'not-modified') s.totals.notModified++;
    if (result.kind !== 'not-modified' && result.kind !== 'aborted' && !(result.kind === 'read' && result.processed + result.parked === 0)) {
      deps.log.info('poll', { pollId, ...result });
    }
    return result;
  } catch (err) {
    if (signal?.aborted) return { kind: 'aborted' };
    const error = errorMessage(err);
    s.failures++;
    s.totals.failures++;
    const { baseMs, maxMs } = deps.backoff ?? { baseMs: 500, maxMs: 15_000 };
    const delay = Math.min(maxMs, baseMs * 2 ** Math.min(s.failures - 1, 30)) * (0.5 + (deps.random ?? Math.random)() / 2);
    s.retryAt = new Date(deps.now().getTime() + delay);
    await deps.recordFailure(error, deps.now().toISOString());
    deps.log.error('poll failed', { pollId, error, kind: (err as Error).name, failures: s.failures, retryAt: s.retryAt.toISOString() });
    return { kind: 'failed', error, retryAt: s.retryAt.toISOString(), ...cost };
  } finally {
    s.totals.requests += cost.requests;
    s.totals.bytes += cost.bytes;
  }
}
