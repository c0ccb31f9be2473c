import { closeSync, openSync, readSync } from 'node:fs';

/** One line of the `feedcache` access log (log_format in nginx.conf.template). */
export interface AccessLogLine {
  readonly method: string;
  /**
   * The request's path as the client sent it, without the query (a background refresh logs its
   * client's). nginx logs no query: signed download and view links carry credentials there; a
   * line of the older format, which logged it, has it cut off here.
   */
  readonly target: string;
  readonly status: number;
  /** $upstream_cache_status: MISS, HIT, EXPIRED, REVALIDATED, STALE, UPDATING, BYPASS; '' off the cache. */
  readonly cache: string;
  /** $proxy_host: the upstream's name, `<service>_origin` (part of the cache key). */
  readonly service: string;
  /** $upstream_addr: the origin asked, '' when none was. */
  readonly origin: string;
  /** $upstream_status: what the origin answered, '' when none was asked. */
  readonly originStatus: string;
  /** $upstream_http_etag: the ETag the origin answered with (quotes included), '' for none. */
  readonly originEtag: string;
  /** When nginx began and ended the request, in ms since the epoch, by nginx's (cached) clock. */
  readonly startMs: number;
  readonly endMs: number;
  /** $feed_accept_class/$feed_coding: with the target, the cache key. */
  readonly representation: string;
  /** $feed_reader: the reader nginx accepted (protected services), '' when none; absent in lines of the older format. */
  readonly reader?: string;
  /** $uri: `/_feed_auth` on the line of a credential check (a subrequest), else the request's path; absent in lines of the older format. */
  readonly uri?: string;
}

const LINE = /^\S+ \[[^\]]*\] "(\S+) (\S+)[^"]*" (\d+) \d+ cache=(\S+) service=(\S+) origin=(.*?) origin_status=(.*?) origin_etag=(\S*) origin_s=\S.*? total_s=(\d+)\.(\d{3}) at=(\d+)\.(\d{3}) rep=(\S+)(?: reader=(\S*) uri=(\S+))?$/;

/** Parses one line; undefined for a line in another format. */
export function parseAccessLogLine(line: string): AccessLogLine | undefined {
  const m = LINE.exec(line);
  if (!m) return undefined;
  // nginx writes "-" for an empty variable, and \xHH for a quote or a byte outside printable ASCII.
  const value = (s: string): string => (s === '-' ? '' : s.replace(/\\x([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))));
  const endMs = Number(m[11]) * 1000 + Number(m[12]);
  return {
    method: m[1]!,
    target: value(m[2]!).replace(/\?.*$/s, ''),
    status: Number(m[3]),
    cache: value(m[4]!),
    service: value(m[5]!),
    origin: value(m[6]!),
    originStatus: value(m[7]!),
    originEtag: value(m[8]!),
    startMs: endMs - (Number(m[9]) * 1000 + Number(m[10])),
    endMs,
    representation: m[13]!,
    ...(m[15] === undefined ? {} : { reader: value(m[14]!), uri: value(m[15]) }),
  };
}

/**
 * Follows an access log as nginx writes it: each call returns every complete line so far
 * (reading only what was added since the last call). Lines in another format are left out.
 */
export function followAccessLog(file: string): () => readonly AccessLogLine[] {
  const lines: AccessLogLine[] = [];
  let offset = 0;
  let partial = '';
  return () => {
    let fd: number;
    try { fd = openSync(file, 'r'); } catch { return lines; }
    try {
      const buf = Buffer.alloc(1 << 20);
      for (let n = readSync(fd, buf, 0, buf.length, offset); n > 0; n = readSync(fd, buf, 0, buf.length, offset)) {
        offset += n;
        const text = partial + buf.toString('utf8', 0, n);
        const cut = text.lastIndexOf('\n') + 1;
        partial = text.slice(cut);
        for (const l of text.slice(0, cut).split('\n')) {
          const parsed = l ? parseAccessLogLine(l) : undefined;
          if (parsed) lines.push(parsed);
        }
      }
    } finally {
      closeSync(fd);
    }
    return lines;
  };
}

/**
 * The requests that brought a new copy into the cache from the origin (a first fetch, a
 * refresh of an expired copy, a revalidation answered 304), oldest first.
 */
export function cacheFills(lines: readonly AccessLogLine[]): AccessLogLine[] {
  return lines
    .filter((l) => !isCredentialCheck(l) && ['MISS', 'EXPIRED', 'REVALIDATED'].includes(l.cache) && (l.originStatus === '200' || l.originStatus === '304'))
    .sort((a, b) => a.startMs - b.startMs);
}

/**
 * Where the cache went to the origin more than once in one freshness window of a cache key.
 * nginx keeps time in whole seconds: a copy fetched in second s with max-age m is fresh through
 * second s + m, so the next fill of that key cannot start before second s + m + 1. A fill starts
 * no later than the copy it stores arrived, hence the rule on start seconds: it holds however
 * fast or slow the machine is. One description per pair of fills that break it.
 */
export function fillsWithinOneWindow(lines: readonly AccessLogLine[], maxAgeSeconds: number): string[] {
  const byKey = new Map<string, AccessLogLine[]>();
  for (const l of cacheFills(lines)) {
    const key = `${l.service} ${l.target} ${l.representation}`;
    byKey.set(key, [...(byKey.get(key) ?? []), l]);
  }
  const problems: string[] = [];
  for (const [key, fills] of byKey) {
    for (let i = 1; i < fills.length; i += 1) {
      const [a, b] = [fills[i - 1]!, fills[i]!];
      const apart = Math.floor(b.startMs / 1000) - Math.floor(a.startMs / 1000);
      if (apart < maxAgeSeconds + 1) {
        problems.push(`${key}: ${a.cache} at ${a.startMs} then ${b.cache} at ${b.startMs}, ${apart} s apart (max-age ${maxAgeSeconds})`);
      }
    }
  }
  return problems;
}

/** A protected service's credential check (the auth_request subrequest to GET /auth/feed), not a read of the feed. */
export function isCredentialCheck(l: AccessLogLine): boolean {
  return l.uri === '/_feed_auth';
}
