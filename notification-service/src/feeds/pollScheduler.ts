import { setTimeout as sleep } from 'node:timers/promises';
import type { FeedConsumer, Logger } from '@shop/common';
import cron from 'node-cron';
import type { PollSchedule } from '../config.ts';

/**
 * Runs the polls. Interval: one loop per feed (poll, then wait after a quiet poll), so a slow or long-polling feed
 * never holds up the others. Cron: each tick polls every feed not already being polled. Either
 * way one feed is never polled twice at once, and stop() waits for the polls in flight.
 */
export class PollScheduler {
  readonly #abort = new AbortController();
  readonly #running = new Set<Promise<unknown>>();
  #task: ReturnType<typeof cron.schedule> | undefined;
  #started = false;

  constructor(
    private readonly consumers: readonly FeedConsumer[],
    private readonly afterPoll: () => Promise<unknown>,
    private readonly logger: Logger,
  ) {}

  start(schedule: PollSchedule): void {
    if (this.#started) throw new Error('PollScheduler already started');
    this.#started = true;
    if (schedule.kind === 'interval') {
      for (const c of this.consumers) this.#track(this.#loop(c, schedule.ms));
    } else {
      this.#task = cron.schedule(schedule.expression, () => { this.#track(this.pollAll()); }, { noOverlap: true, name: 'notification-poll' });
    }
  }

  /** Polls every feed once (joining a poll in flight), then runs the after-poll work. */
  async pollAll(): Promise<void> {
    if (this.#abort.signal.aborted) return;
    await Promise.all(this.consumers.map((c) => c.pollOnce(this.#abort.signal)));
    await this.#after();
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#task?.stop();
    await Promise.allSettled([...this.#running]);
    await Promise.allSettled(this.consumers.map((c) => c.idle()));
  }

  async #loop(c: FeedConsumer, ms: number): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      const r = await c.pollOnce(signal);
      await this.#after();
      // A poll that brought entries may have left more behind: read on at once. The interval is
      // the pause after a quiet or failed poll (long polls already did their waiting server-side).
      if (r.kind === 'read' && r.processed + r.parked > 0) continue;
      await sleep(ms, undefined, { signal }).catch(() => undefined);
    }
  }

  async #after(): Promise<void> {
    try {
      await this.afterPoll();
    } catch (err) {
      this.logger.error('after-poll work failed', { err });
    }
  }

  #track(p: Promise<unknown>): void {
    this.#running.add(p);
    void p.finally(() => this.#running.delete(p));
  }
}
