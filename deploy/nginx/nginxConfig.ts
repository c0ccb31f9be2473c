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
  /** `host:port` of the service itself (the origin), e.g. `127.0.0.1:3001`. */
  readonly upstream: string;
}

export interface NginxConfigOptions {
  readonly services: readonly CachedService[];
  /** The directory nginx owns: pid, logs and temp files go under it. */
  readonly prefix: string;
  /** Where cached responses are stored. */
  readonly cacheDir: string;
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

/** Renders deploy/nginx/nginx.conf.template with one feed-server block per service. */
export function renderNginxConfig(o: NginxConfigOptions): string {
  for (const s of o.services) {
    if (!/^[A-Za-z0-9_]+$/.test(s.name)) throw new Error(`Service name "${s.name}" must be letters, digits or underscores`);
    for (const hp of [s.listen, s.upstream]) {
      if (!/^[A-Za-z0-9.\-[\]:]+:\d{1,5}$/.test(hp)) throw new Error(`"${hp}" must be host:port`);
    }
  }
  for (const p of [o.prefix, o.cacheDir, o.accessLog ?? '']) {
    if (/[\s;{}"'$]/.test(p)) throw new Error(`Path "${p}" must not contain spaces, quotes, ; { } or $`);
  }
  const servers = o.services.map((s) => fill(template('feed-server.conf.template'), {
    NAME: s.name,
    LISTEN: s.listen,
    UPSTREAM: s.upstream,
    LONG_POLL_TIMEOUT: `${o.longPollTimeoutSeconds ?? 660}s`,
  })).join('\n');
  return fill(template('nginx.conf.template'), {
    WORKER_PROCESSES: String(o.workerProcesses ?? 1),
    WORKER_CONNECTIONS: String(o.workerConnections ?? 4096),
    USER_DIRECTIVE: o.userDirective ?? '',
    PREFIX: o.prefix,
    CACHE_DIR: o.cacheDir,
    CACHE_MAX_SIZE: o.cacheMaxSize ?? '1g',
    ACCESS_LOG: o.accessLog ? `${o.accessLog} feedcache` : 'off',
    SERVERS: servers.trim(),
  });
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
