import { readFileSync } from 'node:fs';
import { type Credential, parseCredentials } from '../http/credentialParse.ts';
import type { EnvReader } from './env.ts';

/** Credentials of one kind as configured: fixed ones from the environment, and an optional file re-read when it changes. */
export interface CredentialSource {
  readonly fixed: readonly Credential[];
  readonly file: string | undefined;
}

/**
 * Who may do what. A publishing service has all three kinds; the notification service has only
 * operator pages (`clients` and `readers` absent). A kind with nothing configured is open.
 */
export interface AccessConfig {
  readonly host: string;
  /** HOST is a loopback address: the easy defaults (everything open) are allowed. */
  readonly loopback: boolean;
  /** ALLOW_OPEN=1: run open on a network address on purpose (warned about at every start). */
  readonly allowOpen: boolean;
  /** Writes and API reads: API_TOKEN (as client `(API_TOKEN)`) and API_CLIENTS. */
  readonly clients?: CredentialSource;
  /** Feeds: FEED_READERS, FEED_READERS_FILE, FEED_TOKEN (as reader `(FEED_TOKEN)`) and FEED_CACHE_TOKEN (reader `(cache)`). */
  readonly readers?: CredentialSource;
  /** Pages for people, /status and /metrics: OPERATORS and OPERATORS_FILE. */
  readonly operators: CredentialSource;
}

/** True for the addresses only this machine can reach: 127.0.0.0/8, ::1 (also IPv4-mapped) and `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  const v4 = h.replace(/^::ffff:/, '');
  return /^127(\.\d{1,3}){3}$/.test(v4);
}

export const isOpen = (s: CredentialSource | undefined): boolean => s === undefined || (s.fixed.length === 0 && s.file === undefined);

/**
 * Reads the credentials a service accepts and refuses a network address without them: when
 * HOST is not a loopback address, each kind the service has must be configured unless
 * ALLOW_OPEN=1, and each missing one is a problem naming the variables to set. `writes` and
 * `feeds` say which kinds the service has, with the single-secret variables already read
 * (API_TOKEN and FEED_TOKEN, checked by `r.token`).
 */
export function readAccessConfig(r: EnvReader, o: { host: string; writes?: { apiToken: string | undefined }; feeds?: { feedToken: string | undefined } }): AccessConfig {
  const loopback = isLoopbackHost(o.host);
  const allowOpen = r.bool('ALLOW_OPEN', false);
  const operators = source(r, 'OPERATORS', 'OPERATORS_FILE', []);
  let clients: CredentialSource | undefined;
  let readers: CredentialSource | undefined;
  if (o.writes) {
    clients = source(r, 'API_CLIENTS', undefined, o.writes.apiToken ? [{ name: '(API_TOKEN)', secret: o.writes.apiToken }] : []);
  }
  if (o.feeds) {
    const single: Credential[] = [];
    if (o.feeds.feedToken) single.push({ name: '(FEED_TOKEN)', secret: o.feeds.feedToken });
    const cacheToken = r.token('FEED_CACHE_TOKEN');
    if (cacheToken) single.push({ name: '(cache)', secret: cacheToken, cache: true });
    readers = source(r, 'FEED_READERS', 'FEED_READERS_FILE', single);
  }
  if (!loopback && !allowOpen) {
    const why = `HOST=${o.host} is not a loopback address, so`;
    const orOpen = 'or set ALLOW_OPEN=1 to run open on purpose';
    if (o.writes && isOpen(clients)) r.problem(`${why} writes need a credential: set API_TOKEN (or API_CLIENTS=name:secret,...), ${orOpen}`);
    if (o.feeds && isOpen(readers)) r.problem(`${why} feeds need a credential per reader: set FEED_READERS=name:secret,... (or FEED_READERS_FILE, or FEED_TOKEN), ${orOpen}`);
    if (isOpen(operators)) r.problem(`${why} its pages (/status, /metrics...) need an operator login: set OPERATORS=name:secret,... (or OPERATORS_FILE), ${orOpen}`);
  }
  return { host: o.host, loopback, allowOpen, clients, readers, operators };
}

/** `LIST=name:secret,...` and optionally `FILE=<path>`, with the single-secret credentials first; names must not repeat. */
function source(r: EnvReader, listVar: string, fileVar: string | undefined, single: readonly Credential[]): CredentialSource {
  const fixed: Credential[] = [...single];
  const raw = r.optional(listVar);
  if (raw !== undefined) {
    const parsed = parseCredentials(raw, 'list', listVar);
    if (parsed.ok) fixed.push(...parsed.credentials);
    else for (const p of parsed.problems) r.problem(p);
  }
  let file: string | undefined;
  const rawFile = fileVar === undefined ? undefined : r.optional(fileVar);
  if (fileVar !== undefined && rawFile !== undefined) {
    file = r.dir(fileVar, rawFile);
    let text: string | undefined;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      r.problem(`${fileVar} names ${file}, which cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
    if (text !== undefined) {
      const parsed = parseCredentials(text, 'lines', fileVar);
      if (!parsed.ok) for (const p of parsed.problems) r.problem(p);
      else {
        const names = new Set(fixed.map((c) => c.name));
        for (const c of parsed.credentials) if (names.has(c.name)) r.problem(`${fileVar}: "${c.name}" is also in ${listVar}`);
      }
    }
  }
  return { fixed, file };
}
