import { Client } from 'pg';
import { CONNECT_TIMEOUT_MS } from './pgDatabase.ts';

export interface PgLeadershipOptions {
  readonly connectionString: string;
  /** What is led, as `<service>:<subscription>`, e.g. `billing-service:orders`. */
  readonly name: string;
  /** A follower tries for the lock this often; a leader checks its session this often (default 1000 ms). */
  readonly retryMs?: number;
  /** Told each time this instance becomes leader (true) or stops being it (false). */
  readonly onChange?: (leader: boolean) => void;
  /**
   * Spreads several leaderships among the instances: asked before each try for the lock whether
   * this instance may lead more (`mayLead`), and at each check while it leads whether it should
   * hand this one over (`shouldYield`: it unlocks, and another instance takes it at its next try).
   * Default: always try, never hand over.
   */
  readonly share?: { readonly mayLead: () => boolean; readonly shouldYield: () => boolean };
  /** Told about lost connections and failed attempts; leadership goes on trying. */
  readonly onError?: (error: Error) => void;
  /**
   * The server's TCP keepalive on the lock's session, in seconds: a leader whose machine vanishes
   * without closing its connection is dropped, and its lock freed, after about
   * idle + interval * count seconds (default 5 + 2 * 3). A leader that exits or is killed closes
   * its connection at once.
   */
  readonly keepalive?: { readonly idle: number; readonly interval: number; readonly count: number };
}

/**
 * Leadership of one subscription among the instances of a service: whoever holds the session
 * advisory lock `pg_try_advisory_lock(hashtext(name))` on its own connection leads. The lock
 * lives exactly as long as that session, so when the leader's process dies PostgreSQL frees it
 * and a follower's next try (within `retryMs`) takes over.
 *
 * Leadership saves work; it is not what keeps entries from being applied twice. A leader cut
 * off from the server learns it lost the lock only when its check fails, and a follower may
 * lead by then: the read position's compare-and-set (PgConsumerStore.advance, in the same
 * transaction as the entry's effects) makes the late one roll back.
 */
export class PgLeadership {
  readonly #o: PgLeadershipOptions;
  #client: Client | undefined;
  #leader = false;
  #stopped = true;
  #timer: NodeJS.Timeout | undefined;
  #busy: Promise<void> | undefined;
  readonly #waiters = new Set<() => void>();

  constructor(options: PgLeadershipOptions) {
    this.#o = options;
  }

  get isLeader(): boolean { return this.#leader; }
  get name(): string { return this.#o.name; }

  /** Starts trying for leadership; resolves after the first try, leader or not. */
  async start(): Promise<void> {
    if (!this.#stopped) return;
    this.#stopped = false;
    await this.#tick();
  }

  /** Resolves true once this instance leads (at once if it does), false if stopped or `signal` aborts first. */
  whenLeader(signal?: AbortSignal): Promise<boolean> {
    if (this.#leader) return Promise.resolve(true);
    if (this.#stopped || signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (): void => {
        this.#waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve(this.#leader);
      };
      this.#waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** Gives leadership up (unlocking, so another instance takes over at its next try) and closes the session. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#busy;
    const client = this.#client;
    this.#client = undefined;
    if (client && this.#leader) await client.query('SELECT pg_advisory_unlock(hashtext($1))', [this.#o.name]).catch(() => {});
    this.#set(false);
    await client?.end().catch(() => {});
    for (const w of [...this.#waiters]) w();
  }

  #tick(): Promise<void> {
    this.#busy = this.#try().finally(() => {
      this.#busy = undefined;
      if (this.#stopped) return;
      this.#timer = setTimeout(() => { void this.#tick(); }, this.#o.retryMs ?? 1000);
      this.#timer.unref();
    });
    return this.#busy;
  }

  async #try(): Promise<void> {
    let client = this.#client;
    try {
      if (!client) {
        client = await this.#connect();
        if (this.#stopped) { await client.end().catch(() => {}); return; }
      }
      if (this.#leader) {
        if (this.#o.share?.shouldYield()) {
          await client.query('SELECT pg_advisory_unlock(hashtext($1))', [this.#o.name]);
          this.#set(false);
          return;
        }
        // The lock is the session's: while the session answers, it is still ours.
        await client.query('SELECT 1');
        return;
      }
      if (this.#o.share && !this.#o.share.mayLead()) return;
      const r = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS locked', [this.#o.name]);
      if (r.rows[0]?.locked) this.#set(true);
    } catch (e) {
      if (client) this.#lost(e as Error, client);
      else if (!this.#stopped) this.#o.onError?.(e as Error);
    }
  }

  async #connect(): Promise<Client> {
    const client = new Client({
      connectionString: this.#o.connectionString,
      application_name: `atom-shop leader ${this.#o.name}`.slice(0, 63),
      keepAlive: true,
      keepAliveInitialDelayMillis: 5000,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      // A check that gets no answer counts as a lost session.
      query_timeout: Math.max(1000, (this.#o.retryMs ?? 1000) * 3),
    });
    client.on('error', (e) => this.#lost(e, client));
    client.on('end', () => this.#lost(new Error('leadership connection ended'), client));
    await client.connect();
    const k = this.#o.keepalive ?? { idle: 5, interval: 2, count: 3 };
    // Ignored on a Unix socket; over TCP they bound how long a vanished leader keeps the lock.
    await client.query(`SET tcp_keepalives_idle = ${k.idle}; SET tcp_keepalives_interval = ${k.interval}; SET tcp_keepalives_count = ${k.count}`);
    this.#client = client;
    return client;
  }

  #lost(error: Error, client: Client | undefined): void {
    if (!client || client !== this.#client) { client?.end().catch(() => {}); return; }
    this.#client = undefined;
    client.end().catch(() => {});
    this.#set(false);
    if (!this.#stopped) this.#o.onError?.(error);
  }

  #set(leader: boolean): void {
    if (leader === this.#leader) return;
    this.#leader = leader;
    this.#o.onChange?.(leader);
    if (leader) for (const w of [...this.#waiters]) w();
  }
}
