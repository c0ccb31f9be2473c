import { Client } from 'pg';
import type { Logger } from '@shop/common';
import { CONNECT_TIMEOUT_MS, type PgQueryable } from '@shop/common/pg';

export interface PgPartitionOwnershipOptions {
  readonly connectionString: string;
  /** P: the number of partitions, the same for every instance on the database. */
  readonly partitions: number;
  /** This instance's name for operators (`host-1234`); in pg_stat_activity as `notification-service <instance>` (63 bytes at most: keep it short). */
  readonly instance: string;
  /** How often it re-balances and checks its session (default 1000 ms). */
  readonly intervalMs?: number;
  readonly logger: Logger;
  readonly now?: () => Date;
  /** The server's TCP keepalive on the session, in seconds, as in PgLeadership (default 5 + 2 * 3). */
  readonly keepalive?: { readonly idle: number; readonly interval: number; readonly count: number };
  /** This instance has just locked `partition`: start work on it. */
  readonly onAcquire: (partition: number) => void | Promise<void>;
  /** Awaited before the unlock of a partition handed over (rebalance or stop): stop work on it. */
  readonly onRelease: (partition: number) => Promise<void>;
  /** The session failed: these may already be someone else's; stop work on them at once. */
  readonly onLost: (partitions: readonly number[]) => void;
}

export interface PartitionSnapshot {
  readonly partitions: number;
  readonly instances: readonly { readonly instance: string; readonly pid: number; readonly partitions: readonly number[] }[];
  /** owner null: nobody holds the partition right now. since: when the owner took it (or, owner null, was handed it back). */
  readonly owners: readonly { readonly partition: number; readonly owner: string | null; readonly since: string | null }[];
  readonly me: string;
}

const INSTANCES = 'notification-service:instances';
const PARTITIONS = 'notification-service:partitions';
const APP = 'notification-service ';

interface LockRow { pid: number; member: boolean; partition: number; app: string | null }

/**
 * Shares P partitions among the live instances of the notification service through PostgreSQL
 * advisory locks held by one dedicated session per instance: the shared lock (k1, 0) says "I am a
 * live instance", the exclusive lock (k2, p) says "partition p is mine". The locks are the truth
 * and last exactly as long as the session, so a killed instance's partitions are free the moment
 * PostgreSQL notices its connection is gone; notification_partitions only records who took what.
 *
 * Each tick gives every member (ordered by backend pid) an exact quota, floor(P/N) or ceil(P/N),
 * summing to P: a member above its quota hands the surplus over, one below takes free partitions.
 * Quotas change only when membership does, so nothing is released and taken back in a loop; and
 * unlike "everyone up to ceil(P/N)", a joiner always gets work (P = 16, four instances holding 4
 * each: a fifth would otherwise get none).
 */
export class PgPartitionOwnership {
  readonly #o: PgPartitionOwnershipOptions;
  readonly #owned = new Set<number>();
  readonly #offset: number;
  #client: Client | undefined;
  #pid = 0;
  #stopped = true;
  #stopping: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #busy: Promise<void> | undefined;
  #lastChangeAt: string | null = null;
  #instances = 0;

  constructor(options: PgPartitionOwnershipOptions) {
    if (!Number.isInteger(options.partitions) || options.partitions < 1) throw new Error(`partitions must be a positive integer, got ${options.partitions}`);
    this.#o = options;
    // Instances start their search for free partitions at different places, so joiners rarely race for the same one.
    let h = 0;
    for (const ch of options.instance) h = (Math.imul(h, 31) + ch.charCodeAt(0)) | 0;
    this.#offset = (h >>> 0) % options.partitions;
  }

  /** The partitions this instance owns, ascending. */
  owned(): readonly number[] { return [...this.#owned].sort((a, b) => a - b); }
  /** The live instances at the last tick (0 before the first). */
  get instances(): number { return this.#instances; }
  /** When this instance's set of partitions last changed (ISO), null before the first change. */
  get lastChangeAt(): string | null { return this.#lastChangeAt; }

  /** Connects, joins and takes its share; resolves after that first tick (a failed one is logged and retried). */
  async start(): Promise<void> {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#stopping = undefined;
    await this.#tick();
  }

  /** Hands every owned partition over (onRelease awaited, then unlocked), leaves and closes the session. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#stopped = true;
      clearTimeout(this.#timer);
      await this.#busy;
      const client = this.#client;
      if (!client) return;
      try {
        await this.#release(client, this.owned());
        if (client === this.#client) await client.query('SELECT pg_advisory_unlock_shared(hashtext($1), 0)', [INSTANCES]);
      } catch (e) { this.#lost(e as Error, client); }
      this.#client = undefined;
      await client.end().catch(() => {});
    })();
    return this.#stopping;
  }

  /**
   * Who owns what, from pg_locks (the truth) with pg_stat_activity (names) and notification_partitions
   * (since). Runs on `db` when given, else on this instance's session; with neither (the session is
   * down, reconnecting) it throws rather than answer "nobody owns anything".
   */
  async snapshot(db?: PgQueryable): Promise<PartitionSnapshot> {
    const on = db ?? this.#client;
    if (!on) throw new Error(`partition ownership of ${this.#o.instance}: no PostgreSQL session right now (reconnecting); pass a PgQueryable`);
    const locks = await this.#locks(on);
    const rows = await on.query<{ partition: number; owner: string | null; since: string }>('SELECT partition, owner, since FROM notification_partitions');
    const recorded = new Map(rows.rows.map((r) => [r.partition, r]));
    const nameOf = new Map(locks.map((l) => [l.pid, l.app?.startsWith(APP) ? l.app.slice(APP.length) : `pid ${l.pid}`]));
    const holder = new Map(locks.filter((l) => !l.member).map((l) => [l.partition, l.pid]));
    const instances = [...new Set(locks.filter((l) => l.member).map((l) => l.pid))].sort((a, b) => a - b).map((pid) => ({
      instance: nameOf.get(pid)!, pid,
      partitions: locks.filter((l) => !l.member && l.pid === pid).map((l) => l.partition).sort((a, b) => a - b),
    }));
    const owners = Array.from({ length: this.#o.partitions }, (_, partition) => {
      const pid = holder.get(partition);
      const owner = pid === undefined ? null : nameOf.get(pid)!;
      const r = recorded.get(partition);
      return { partition, owner, since: r && r.owner === owner ? r.since : null };
    });
    return { partitions: this.#o.partitions, instances, owners, me: this.#o.instance };
  }

  #tick(): Promise<void> {
    this.#busy = this.#balance().finally(() => {
      this.#busy = undefined;
      if (this.#stopped) return;
      this.#timer = setTimeout(() => { void this.#tick(); }, this.#o.intervalMs ?? 1000);
      this.#timer.unref();
    });
    return this.#busy;
  }

  async #balance(): Promise<void> {
    let client = this.#client;
    try {
      client ??= await this.#connect();
      if (this.#stopped) return; // stop() closes the session once this tick is done
      // Reading pg_locks is also the check that the session (and so every lock on it) is alive.
      const locks = await this.#locks(client);
      if (client !== this.#client) return;
      const members = [...new Set(locks.filter((l) => l.member).map((l) => l.pid))].sort((a, b) => a - b);
      this.#instances = members.length;
      const p = this.#o.partitions;
      const n = Math.max(1, members.length);
      const rank = members.indexOf(this.#pid);
      const quota = rank < 0 ? Math.ceil(p / n) : Math.floor(p / n) + (rank < p % n ? 1 : 0);
      const mine = this.owned();
      if (mine.length > quota) await this.#release(client, mine.slice(quota).reverse());
      else if (mine.length < quota) await this.#acquire(client, new Set(locks.filter((l) => !l.member).map((l) => l.partition)), quota);
    } catch (e) {
      if (client) this.#lost(e as Error, client);
      else this.#o.logger.warn('partition session: cannot connect, trying again', { instance: this.#o.instance, err: e });
    }
  }

  async #acquire(client: Client, held: ReadonlySet<number>, quota: number): Promise<void> {
    const p = this.#o.partitions;
    const got: number[] = [];
    for (let i = 0; i < p && this.#owned.size < quota && !this.#stopped; i += 1) {
      const partition = (this.#offset + i) % p;
      if (held.has(partition)) continue;
      const r = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1), $2) AS ok', [PARTITIONS, partition]);
      if (client !== this.#client) return; // the session died meanwhile, and with it any lock just taken
      if (!r.rows[0]?.ok) continue;
      this.#change(() => this.#owned.add(partition));
      got.push(partition);
      await client.query(`INSERT INTO notification_partitions (partition, owner, since) VALUES ($1, $2, $3)
        ON CONFLICT (partition) DO UPDATE SET owner = EXCLUDED.owner, since = EXCLUDED.since`, [partition, this.#o.instance, this.#lastChangeAt])
        .catch((err: unknown) => this.#o.logger.error('partition owner not recorded', { partition, err }));
      try {
        await this.#o.onAcquire(partition);
      } catch (err) {
        // Nobody working on a partition this instance holds is worse than handing it on: another tick (or instance) retries.
        this.#o.logger.error('starting work on a partition failed; handing it back', { partition, err });
        got.pop();
        await this.#release(client, [partition]);
      }
    }
    if (got.length > 0) this.#o.logger.info('partitions acquired', { instance: this.#o.instance, partitions: got, owned: this.owned() });
  }

  /** Out of owned() first, then onRelease awaited, then unlocked: nobody else can start it while this one still works on it. */
  async #release(client: Client, partitions: readonly number[]): Promise<void> {
    const done: number[] = [];
    for (const partition of partitions) {
      this.#change(() => this.#owned.delete(partition));
      // then(): a synchronous throw is caught too.
      await Promise.resolve().then(() => this.#o.onRelease(partition)).catch((err: unknown) => this.#o.logger.error('onRelease failed; unlocking the partition anyway', { partition, err }));
      if (client !== this.#client) break; // session lost meanwhile: PostgreSQL already freed the lock
      await client.query('UPDATE notification_partitions SET owner = NULL, since = $3 WHERE partition = $1 AND owner = $2',
        [partition, this.#o.instance, this.#now()]).catch((err: unknown) => this.#o.logger.error('partition release not recorded', { partition, err }));
      await client.query('SELECT pg_advisory_unlock(hashtext($1), $2)', [PARTITIONS, partition]);
      done.push(partition);
    }
    if (done.length > 0) this.#o.logger.info('partitions released', { instance: this.#o.instance, partitions: done, owned: this.owned() });
  }

  /** The granted advisory locks of this protocol in this database. classid is the first key as an unsigned oid; objsubid 2 = two-int4 form. */
  async #locks(db: PgQueryable): Promise<LockRow[]> {
    const r = await db.query<LockRow>(`
      WITH k AS (SELECT (hashtext($1)::bigint & 4294967295)::oid AS members, (hashtext($2)::bigint & 4294967295)::oid AS parts)
      SELECT l.pid, l.classid = k.members AS member, l.objid::int AS partition, a.application_name AS app
      FROM pg_locks l CROSS JOIN k LEFT JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND ((l.classid = k.members AND l.objid = 0) OR l.classid = k.parts)`, [INSTANCES, PARTITIONS]);
    return r.rows;
  }

  async #connect(): Promise<Client> {
    const client = new Client({
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      connectionString: this.#o.connectionString,
      application_name: `${APP}${this.#o.instance}`.slice(0, 63),
      keepAlive: true,
      keepAliveInitialDelayMillis: 5000,
      // A check that gets no answer counts as a lost session.
      query_timeout: Math.max(1000, (this.#o.intervalMs ?? 1000) * 3),
    });
    client.on('error', (e) => this.#lost(e, client));
    client.on('end', () => this.#lost(new Error('partition session ended'), client));
    try {
      await client.connect();
      const k = this.#o.keepalive ?? { idle: 5, interval: 2, count: 3 };
      // Ignored on a Unix socket; over TCP they bound how long a vanished instance keeps its partitions.
      await client.query(`SET tcp_keepalives_idle = ${k.idle}; SET tcp_keepalives_interval = ${k.interval}; SET tcp_keepalives_count = ${k.count}`);
      const r = await client.query<{ pid: number; joined: boolean }>('SELECT pg_backend_pid() AS pid, pg_try_advisory_lock_shared(hashtext($1), 0) AS joined', [INSTANCES]);
      if (!r.rows[0]?.joined) throw new Error('could not take the shared membership lock');
      this.#pid = r.rows[0].pid;
    } catch (e) { await client.end().catch(() => {}); throw e; }
    this.#client = client;
    return client;
  }

  #lost(error: Error, client: Client): void {
    client.end().catch(() => {});
    if (client !== this.#client) return;
    this.#client = undefined;
    const lost = this.owned();
    if (lost.length > 0) this.#change(() => this.#owned.clear());
    if (this.#stopped && lost.length === 0) return;
    this.#o.logger.warn('partition session lost; its partitions may be taken by others', { instance: this.#o.instance, partitions: lost, err: error });
    try { this.#o.onLost(lost); } catch (err) { this.#o.logger.error('onLost failed', { err }); }
  }

  #change(apply: () => unknown): void { apply(); this.#lastChangeAt = this.#now(); }
  #now(): string { return (this.#o.now?.() ?? new Date()).toISOString(); }
}
