import { Client, escapeIdentifier } from 'pg';
import { CONNECT_TIMEOUT_MS } from './pgDatabase.ts';

export interface PgListenerOptions {
  readonly connectionString: string;
  /** Wait between reconnection attempts (default 1000 ms). */
  readonly reconnectMs?: number;
  /** How often an idle connection is checked, so a dead one is noticed (default 10 s). */
  readonly pingMs?: number;
  /** Told about each lost connection or failed attempt; the listener goes on trying. */
  readonly onError?: (error: Error) => void;
}

type Handler = (payload: string) => void;

/**
 * One LISTEN connection for a process, shared by every channel it follows, reconnecting by
 * itself. A notification is sent by PostgreSQL only when the transaction that issued it commits,
 * so a handler hears of committed work only. While the connection is down notifications are
 * lost: `listening` is false then, and `onResync` handlers run at the loss and once it is back
 * (every channel LISTENed again), so their owners re-read what they may have missed.
 */
export class PgListener {
  readonly #o: PgListenerOptions;
  readonly #channels = new Map<string, Set<Handler>>();
  readonly #resync = new Set<() => void>();
  #client: Client | undefined;
  #live = false;
  #closed = false;
  #connecting: Promise<void> | undefined;
  #retry: NodeJS.Timeout | undefined;
  #ping: NodeJS.Timeout | undefined;

  constructor(options: PgListenerOptions) {
    this.#o = options;
  }

  /** True while connected with every channel LISTENed: notifications are arriving. */
  get listening(): boolean { return this.#live; }

  /**
   * Follows `channel`: `handler` gets the payload of each notification on it. Resolves once the
   * LISTEN is in effect, or at once if the connection is down (it is issued on reconnection).
   * Returns an unsubscribe.
   */
  async listen(channel: string, handler: Handler): Promise<() => Promise<void>> {
    if (this.#closed) throw new Error('PgListener is closed');
    let handlers = this.#channels.get(channel);
    const first = !handlers;
    if (!handlers) { handlers = new Set(); this.#channels.set(channel, handlers); }
    handlers.add(handler);
    if (first) {
      if (this.#live && this.#client) await this.#client.query(`LISTEN ${escapeIdentifier(channel)}`).catch((e: Error) => this.#lost(e));
      else await this.#start();
    }
    return async () => {
      const set = this.#channels.get(channel);
      set?.delete(handler);
      if (set && set.size === 0) {
        this.#channels.delete(channel);
        if (this.#live && this.#client) await this.#client.query(`UNLISTEN ${escapeIdentifier(channel)}`).catch(() => {});
      }
    };
  }

  /**
   * Runs `fn` when the connection is lost and again once it is back with every channel LISTENed:
   * notifications may have been missed in between, so cached state must be read again.
   */
  onResync(fn: () => void): () => void {
    this.#resync.add(fn);
    return () => { this.#resync.delete(fn); };
  }

  /** Connects now (else the first `listen` does). Resolves after the first attempt, good or not. */
  start(): Promise<void> { return this.#start(); }

  async close(): Promise<void> {
    this.#closed = true;
    this.#live = false;
    clearTimeout(this.#retry);
    clearInterval(this.#ping);
    await this.#connecting?.catch(() => {});
    const c = this.#client;
    this.#client = undefined;
    await c?.end().catch(() => {});
  }

  #start(): Promise<void> {
    if (this.#closed || this.#client) return this.#connecting ?? Promise.resolve();
    this.#connecting ??= this.#connect().finally(() => { this.#connecting = undefined; });
    return this.#connecting;
  }

  async #connect(): Promise<void> {
    const client = new Client({
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      connectionString: this.#o.connectionString,
      application_name: 'atom-shop listener',
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      // A ping that gets no answer counts as a lost connection.
      query_timeout: this.#o.pingMs ?? 10_000,
    });
    this.#client = client;
    client.on('error', (e) => this.#lost(e, client));
    client.on('end', () => this.#lost(new Error('listener connection ended'), client));
    client.on('notification', (n) => {
      for (const h of this.#channels.get(n.channel) ?? []) h(n.payload ?? '');
    });
    try {
      await client.connect();
      for (const channel of this.#channels.keys()) await client.query(`LISTEN ${escapeIdentifier(channel)}`);
      if (this.#client !== client) return;
      this.#live = true;
      const pingMs = this.#o.pingMs ?? 10_000;
      this.#ping = setInterval(() => {
        client.query('SELECT 1').catch((e: Error) => this.#lost(e, client));
      }, pingMs);
      this.#ping.unref();
      for (const fn of this.#resync) fn();
    } catch (e) {
      this.#lost(e as Error, client);
    }
  }

  #lost(error: Error, client = this.#client): void {
    if (client !== this.#client || !client) return;
    this.#live = false;
    this.#client = undefined;
    clearInterval(this.#ping);
    client.end().catch(() => {});
    if (this.#closed) return;
    this.#o.onError?.(error);
    // Owners of cached state must stop trusting it now, not only once the connection is back.
    for (const fn of this.#resync) fn();
    this.#retry = setTimeout(() => { void this.#start(); }, this.#o.reconnectMs ?? 1000);
    this.#retry.unref();
  }
}
