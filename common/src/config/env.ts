import { resolve } from 'node:path';
import { DEFAULT_SHOP_TIME_ZONE, canonicalTimeZone } from '../time/shopClock.ts';
import { type AccessConfig, readAccessConfig } from './accessConfig.ts';

/** Thrown when the environment does not describe a valid configuration; lists every problem. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads variables from an environment, collecting every problem instead of stopping at the
 * first, so an operator fixes them all in one go. Call `done()` to throw if any were found.
 */
export class EnvReader {
  readonly #problems: string[] = [];
  constructor(private readonly env: Env) {}

  string(name: string, fallback: string): string {
    const v = this.env[name];
    return v === undefined || v === '' ? fallback : v;
  }

  optional(name: string): string | undefined {
    const v = this.env[name];
    return v === undefined || v === '' ? undefined : v;
  }

  /** A whole number from min to max; `why` (the reason for the range) is added to the problem. */
  int(name: string, fallback: number, min: number, max: number, why?: string): number {
    const raw = this.optional(name);
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      this.#problems.push(`${name} must be a whole number from ${min} to ${max}, got "${raw}"${why ? `: ${why}` : ''}`);
      return fallback;
    }
    return Number(raw);
  }

  port(name: string, fallback: number): number {
    return this.int(name, fallback, 0, 65535);
  }

  bool(name: string, fallback: boolean): boolean {
    const raw = this.optional(name);
    if (raw === undefined) return fallback;
    if (['1', 'true', 'yes', 'on'].includes(raw.toLowerCase())) return true;
    if (['0', 'false', 'no', 'off'].includes(raw.toLowerCase())) return false;
    this.#problems.push(`${name} must be 1 or 0 (true or false), got "${raw}"`);
    return fallback;
  }

  oneOf<T extends string>(name: string, fallback: T, allowed: readonly T[]): T {
    const raw = this.optional(name);
    if (raw === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(raw)) {
      this.#problems.push(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
      return fallback;
    }
    return raw as T;
  }

  /** An absolute http(s) URL without a trailing slash. */
  url(name: string, fallback: string): string {
    const raw = this.string(name, fallback);
    try {
      const u = new URL(raw);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http');
      if (u.search || u.hash) throw new Error('has query');
      return u.href.replace(/\/+$/, '');
    } catch {
      this.#problems.push(`${name} must be an absolute http(s) URL with no query, got "${raw}"`);
      return fallback;
    }
  }

  /**
   * A directory. Relative paths resolve against the directory npm was started from (INIT_CWD),
   * so `npm start -w order-service` at the top level still uses the top-level ./data.
   */
  dir(name: string, fallback: string): string {
    return resolve(this.env['INIT_CWD'] ?? process.cwd(), this.string(name, fallback));
  }

  /** A secret token: absent means "off"; present must be long enough to mean something. */
  token(name: string): string | undefined {
    const raw = this.optional(name);
    if (raw !== undefined && raw.length < 16) this.#problems.push(`${name} must be at least 16 characters when set`);
    return raw;
  }

  /**
   * A comma-separated list of http(s) origins (`https://cdn.example.com,http://10.0.0.5:8080`),
   * each scheme, host and optional port with no path, query or credentials; empty when unset.
   * Returned in the form `URL.origin` gives, so they compare with it directly.
   */
  origins(name: string): readonly string[] {
    const raw = this.optional(name);
    if (raw === undefined) return [];
    const origins: string[] = [];
    for (const item of raw.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
      const why = notAnOrigin(item);
      if (why) this.#problems.push(`${name} must be a comma-separated list of origins like https://cdn.example.com (scheme, host and port only); "${item}" ${why}`);
      else origins.push(new URL(item).origin);
    }
    return origins;
  }

  /** An IANA time zone the runtime knows (`Europe/London`), returned in its canonical spelling. */
  timeZone(name: string, fallback: string): string {
    const raw = this.optional(name);
    if (raw === undefined) return fallback;
    const zone = canonicalTimeZone(raw);
    if (zone === undefined) {
      this.#problems.push(`${name} must be an IANA time zone such as Europe/London or America/New_York, got "${raw}"`);
      return fallback;
    }
    return zone;
  }

  problem(message: string): void { this.#problems.push(message); }

  done(): void {
    if (this.#problems.length > 0) throw new ConfigError(this.#problems);
  }
}

function notAnOrigin(item: string): string | undefined {
  let u: URL;
  try {
    u = new URL(item);
  } catch {
    return 'is not an absolute URL';
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return 'is not http or https';
  if (u.username || u.password) return 'has credentials';
  if (u.pathname !== '/' || /[?#]/.test(item)) return 'has a path, query or fragment';
  return undefined;
}

/** The variables every feed-publishing service shares. */
export interface PublisherConfig {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly feedPageSize: number;
  readonly publicUrl: string;
  readonly apiToken: string | undefined;
  readonly feedToken: string | undefined;
  readonly feedMaxAgeSeconds: number;
  readonly longPollMaxSeconds: number;
  readonly logLevel: string;
  /** SHUTDOWN_DELAY: seconds between SIGTERM (not ready from then on) and closing the server. */
  readonly shutdownDelaySeconds: number;
  /** Who may write, read the feed and see the pages (API_TOKEN, API_CLIENTS, FEED_READERS(_FILE), FEED_TOKEN, FEED_CACHE_TOKEN, OPERATORS(_FILE), ALLOW_OPEN). */
  readonly access: AccessConfig;
}

/**
 * SHUTDOWN_DELAY (seconds, default 0): how long a service that got SIGTERM keeps serving while
 * answering /readyz with 503, so a load balancer takes it out before it stops listening.
 */
export function readShutdownDelay(r: EnvReader): number {
  return r.int('SHUTDOWN_DELAY', 0, 0, 300);
}

/**
 * DATABASE_URL: a postgres:// or postgresql:// URL, or unset (the service's SQLite file).
 * `example` is a URL to show, `sqlite` what stays in the SQLite file when it is unset.
 */
export function readDatabaseUrl(r: EnvReader, example: string, sqlite: string): string | undefined {
  const raw = r.optional('DATABASE_URL');
  if (raw === undefined) return undefined;
  let ok = false;
  try { ok = ['postgres:', 'postgresql:'].includes(new URL(raw).protocol); } catch { ok = false; }
  if (!ok) r.problem(`DATABASE_URL must be a postgres:// (or postgresql://) URL, such as ${example}; unset it to keep ${sqlite} in DATA_DIR's SQLite file`);
  return raw;
}

/**
 * SHOP_TIME_ZONE (default Europe/London): the zone of the shop's calendar, in which every date a
 * customer sees is written and dispatch cut-offs and working days are counted.
 */
export function readShopTimeZone(r: EnvReader): string {
  return r.timeZone('SHOP_TIME_ZONE', DEFAULT_SHOP_TIME_ZONE);
}

/** LOG_LEVEL, checked like every other variable (the logger itself reads it before config). */
export function readLogLevel(r: EnvReader): string {
  return r.oneOf('LOG_LEVEL', 'info', ['debug', 'info', 'warn', 'error', 'silent']);
}

/**
 * The largest FEED_PAGE_SIZE. An entry is 2 to 2.6 KB of Atom, so 1,000 make a page of about
 * 2.6 MB, well within the 8 MiB a feed consumer accepts (FeedConsumerOptions.maxBodyBytes);
 * from about 3,300 a sealed archive is too big for every consumer, for good.
 */
export const MAX_FEED_PAGE_SIZE = 1000;
const FEED_PAGE_SIZE_WHY = `a page of ${MAX_FEED_PAGE_SIZE} entries is already about 2.6 MB, and much bigger ones exceed the 8 MiB a feed consumer accepts, so no reader could ever read them`;

/** Reads PORT, HOST, DATA_DIR, FEED_PAGE_SIZE, PUBLIC_URL, FEED_MAX_AGE, LONG_POLL_MAX, LOG_LEVEL, SHUTDOWN_DELAY and the credentials (see readAccessConfig). */
export function readPublisherConfig(r: EnvReader, defaults: { port: number; dataDir: string }): PublisherConfig {
  const port = r.port('PORT', defaults.port);
  const host = r.string('HOST', '127.0.0.1');
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  const dataDir = r.dir('DATA_DIR', defaults.dataDir);
  const feedPageSize = r.int('FEED_PAGE_SIZE', 100, 1, MAX_FEED_PAGE_SIZE, FEED_PAGE_SIZE_WHY);
  const publicUrl = r.url('PUBLIC_URL', `http://${urlHost}:${port}`);
  const apiToken = r.token('API_TOKEN');
  const feedToken = r.token('FEED_TOKEN');
  return {
    port,
    host,
    dataDir,
    feedPageSize,
    publicUrl,
    apiToken,
    feedToken,
    feedMaxAgeSeconds: r.int('FEED_MAX_AGE', 1, 0, 3600),
    longPollMaxSeconds: r.int('LONG_POLL_MAX', 60, 0, 600),
    logLevel: readLogLevel(r),
    shutdownDelaySeconds: readShutdownDelay(r),
    access: readAccessConfig(r, { host, writes: { apiToken }, feeds: { feedToken } }),
  };
}
