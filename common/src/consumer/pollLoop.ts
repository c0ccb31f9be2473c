import type { PollResult } from './feedReadLoop.ts';

/** What the loop polls: FeedConsumer, or PgFeedConsumer (which may follow another instance's lead). */
export interface Pollable {
  pollOnce(signal?: AbortSignal): Promise<PollResult>;
  /** Resolves once this instance leads the subscription (PgFeedConsumer). */
  whenLeader?(signal?: AbortSignal): Promise<boolean>;
}

/**
 * Polls a feed until `signal` aborts. Long polling does the waiting while the feed is quiet;
 * the short pause after an empty poll only keeps a server that ignores `Prefer: wait` from
 * being hammered. After a failure the consumer's own backoff says when to try again.
 */
export async function runPollLoop(consumer: Pollable, signal: AbortSignal, idleMs = 500): Promise<void> {
  while (!signal.aborted) {
    const r = await consumer.pollOnce(signal);
    switch (r.kind) {
      case 'aborted':
        return;
      case 'backing-off':
      case 'failed':
        await sleep(Math.max(100, Date.parse(r.retryAt) - Date.now()), signal);
        break;
      case 'following':
        // Woken as soon as this instance takes the lead, without polling meanwhile.
        if (consumer.whenLeader) await consumer.whenLeader(signal);
        else await sleep(Math.max(100, Date.parse(r.retryAt) - Date.now()), signal);
        break;
      case 'not-modified':
        await sleep(idleMs, signal);
        break;
      case 'read':
        if (r.processed + r.parked === 0) await sleep(idleMs, signal);
        break;
      case 'started-at-now':
        break;
      default:
        assertNever(r);
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => { clearTimeout(timer); signal.removeEventListener('abort', done); resolve(); };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

function assertNever(x: never): never {
  throw new Error(`Unexpected ${JSON.stringify(x)}`);
}
