import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** One service behind the cache: clients use `http://<listen>`, which is its PUBLIC_URL. */
export interface CachedService {
  /** A short name, letters, digits and underscores (names the nginx upstream). */
  readonly name: string;
  /** `host:port` nginx listens on, e.g. `127.0.0.1:8081`. */
  readonly listen: string;
  /**
   * `host:port` of the service itself (the origin), e.g. `127.0.0.1:3001`; or several, comma
   * separated, for instances of one service on one PostgreSQL database (DATABASE_URL), each
   * started with the same PUBLIC_URL: nginx spreads requests over them and skips one that fails.
   */
  readonly upstream: string;
  /**
   * The origin's FEED_CACHE_TOKEN, for a service whose feeds need credentials: nginx then checks
   * each reader with the origin (GET /auth/feed) before serving anything and fetches the feed
   * with this token (see feed-server-protected.conf.template). Absent: an open service.
   */
  readonly cacheToken?: string;
}

export interface NginxConfigOptions {
  readonly services: readonly CachedService[];
  /** The directory nginx owns: pid, logs and temp files go under it. */
  readonly prefix: string;
  /** Where cached responses are stored. */
  readonly cacheDir: string;
  /** Where the answers of credential checks are stored (their keys hold credentials: tmpfs, nginx-only). Default `<prefix>/auth-cache`. */
  readonly authCacheDir?: string;
  /** How long nginx reuses the origin's answer on a credential (and so how long a revoked one still works). Default 5 s. */
  readonly authCacheSeconds?: number;
  /** `user nobody nogroup;` when the master runs as root, else empty (workers keep our user). */
  readonly userDirective?: string;
  readonly workerProcesses?: number | 'auto';
  readonly workerConnections?: number;
  readonly cacheMaxSize?: string;
  /** A file for the access log, or undefined for none. */
  readonly accessLog?: string;
  /** How long a long poll (`Prefer: wait=N`) may stay open at the origin; above LONG_POLL_MAX. */
  readonly longPollTimeoutSeconds?: number;
}

/**
 * How long nginx reuses the origin's answer on a credential, in seconds. A reader revoked at the
 * origin is refused through nginx within this, plus a second (nginx keeps time in whole
 * seconds), plus the origin's own reload of FEED_READERS_FILE (at once by fs.watch, at worst its
 * 2-second stat check): within 8 s in all.
 */
export const AUTH_CACHE_SECONDS = 5;

/** Renders deploy/nginx/nginx.conf.template with one feed-server block per service (the protected one for a service with a cache token). */
export function renderNginxConfig(o: NginxConfigOptions): string {
  for (const s of o.services) {
    if (!/^[A-Za-z0-9_]+$/.test(s.name)) throw new Error(`Service name "${s.name}" must be letters, digits or underscores`);
    for (const hp of [s.listen, ...s.upstream.split(',')]) {
      if (!/^[A-Za-z0-9.\-[\]:]+:\d{1,5}$/.test(hp)) throw new Error(`"${hp}" must be host:port`);
    }
  }
  for (const s of o.services) {
    // It goes into a quoted nginx string: no quotes, $, ;, braces or spaces.
    if (s.cacheToken !== undefined && !/^[A-Za-z0-9._~+/=:@-]{16,}$/.test(s.cacheToken)) {
      throw new Error(`The cache token of ${s.name} must be at least 16 characters: letters, digits and . _ ~ + / = : @ -`);
    }
  }
  const authSeconds = o.authCacheSeconds ?? AUTH_CACHE_SECONDS;
  if (!Number.isInteger(authSeconds) || authSeconds < 1 || authSeconds > 300) throw new Error('authCacheSeconds must be a whole number from 1 to 300');
  const authCacheDir = o.authCacheDir ?? `${o.prefix}/auth-cache`;
  for (const p of [o.prefix, o.cacheDir, authCacheDir, o.accessLog ?? '']) {
    if (/[\s;{}"'$]/.test(p)) throw new Error(`Path "${p}" must not contain spaces, quotes, ; { } or $`);
  }
  const servers = o.services.map((s) => fill(template(s.cacheToken === undefined ? 'feed-server.conf.template' : 'feed-server-protected.conf.template'), {
    NAME: s.name,
    LISTEN: s.listen,
    UPSTREAM: s.upstream,
    UPSTREAM_SERVERS: upstreamServers(s.upstream),
    LONG_POLL_TIMEOUT: `${o.longPollTimeoutSeconds ?? 660}s`,
    FEED_CACHE_RULES: fill(template('feed-cache.conf.template'), { NAME: s.name }).trimEnd(),
    AUTH_CACHE_SECONDS: String(authSeconds),
    ...(s.cacheToken === undefined ? {} : { CACHE_TOKEN: s.cacheToken }),
  })).join('\n');
  return fill(template('nginx.conf.template'), {
    WORKER_PROCESSES: String(o.workerProcesses ?? 1),
    WORKER_CONNECTIONS: String(o.workerConnections ?? 4096),
    USER_DIRECTIVE: o.userDirective ?? '',
    PREFIX: o.prefix,
    CACHE_DIR: o.cacheDir,
    CACHE_MAX_SIZE: o.cacheMaxSize ?? '1g',
    AUTH_CACHE_DIR: authCacheDir,
    AUTH_CACHE_SECONDS: String(authSeconds),
    ACCESS_LOG: o.accessLog ? `${o.accessLog} feedcache` : 'off',
    SERVERS: servers.trim(),
  });
}

/**
 * The upstream's `server` lines. One origin is always tried (a restart is brief, and nothing
 * else could answer); of several, one that fails is left out for 5 s while the others answer
 * (a GET is retried on the next; a POST never is, so an order is never sent twice by nginx).
 */
function upstreamServers(upstream: string): string {
  const all = upstream.split(',');
  if (all.length === 1) return `server ${all[0]} max_fails=0;`;
  return all.map((hp) => `server ${hp} max_fails=1 fail_timeout=5s;`).join('\n    ');
}

function template(name: string): string {
  return readFileSync(join(here, name), 'utf8');
}

function fill(text: string, values: Readonly<Record<string, string>>): string {
  const out = text.replace(/\{\{([A-Z_]+)\}\}/g, (whole, key: string) => {
    const v = values[key];
    if (v === undefined) throw new Error(`No value for ${whole} in the nginx template`);
    return v;
  });
  return out;
}
