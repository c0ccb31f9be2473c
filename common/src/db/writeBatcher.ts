import type { Db } from './database.ts';

interface Job {
  readonly fn: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Group commit. Writes submitted in the same turn of the event loop (concurrent requests, say)
 * run in one SQLite write transaction, each in a savepoint of its own, in the order submitted;
 * each caller hears back only after that transaction has committed. One write's failure rolls
 * back that write alone. What one write sees and what it commits are exactly as if it ran alone
 * after the writes before it: only the cost of committing is shared.
 */
export class WriteBatcher {
  readonly #db: Db;
  readonly #maxBatch: number;
  #queue: Job[] = [];
  #scheduled = false;
  /** Batches committed and writes run, for tests and metrics. */
  readonly stats = { batches: 0, writes: 0 };

  constructor(db: Db, options: { maxBatch?: number } = {}) {
    this.#db = db;
    this.#maxBatch = options.maxBatch ?? 100;
  }

  /** Runs `fn` (synchronous, SQLite work only) in the next batch; resolves with its result once committed. */
  run<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#scheduled = false;
    const jobs = this.#queue.splice(0, this.#maxBatch);
    if (this.#queue.length > 0) {
      this.#scheduled = true;
      setImmediate(() => this.#flush());
    }
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    try {
      this.#db.transaction(() => {
        for (const job of jobs) {
          try {
            outcomes.push({ ok: true, value: this.#db.transaction(job.fn)() });
          } catch (error) {
            // Some errors (disk full, I/O, RAISE(ROLLBACK)) undo the whole transaction, not just
            // the savepoint: then nothing of this batch is stored, and no later write may run
            // outside it. Fail the batch as a whole.
            if (!this.#db.inTransaction) throw error;
            outcomes.push({ ok: false, error });
          }
        }
      }).immediate();
    } catch (error) {
      // The transaction was lost or the commit failed: nothing of this batch is stored.
      for (const job of jobs) job.reject(error);
      return;
    }
    this.stats.batches += 1;
    this.stats.writes += jobs.length;
    jobs.forEach((job, i) => {
      const o = outcomes[i]!;
      if (o.ok) job.resolve(o.value);
      else job.reject(o.error);
    });
  }
}
