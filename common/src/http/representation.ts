import { createHash } from 'node:crypto';
import { brotliCompressSync, constants as zlib, gzipSync } from 'node:zlib';
import type { Context } from 'koa';
import type { AtomLink } from '../feed/atomWriter.ts';

/** The same bytes in each content coding we serve, compressed once. */
export interface EncodedBody {
  readonly identity: Buffer;
  readonly gzip: Buffer;
  readonly br: Buffer;
}

/**
 * A body in every coding we offer, each compressed on first use and then reused: a client that
 * asks for br never pays for gzip. (Spreading the result compresses all three, as storing does.)
 */
export function encodeAll(text: string | Buffer): EncodedBody {
  const identity = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  let gzip: Buffer | undefined;
  let br: Buffer | undefined;
  return {
    identity,
    get gzip() { return (gzip ??= gzipSync(identity, { level: 6 })); },
    get br() {
      return (br ??= brotliCompressSync(identity, { params: { [zlib.BROTLI_PARAM_QUALITY]: 5, [zlib.BROTLI_PARAM_SIZE_HINT]: identity.length } }));
    },
  };
}

/** A short, stable hash for building validators. */
export function shortHash(...parts: readonly (string | Buffer)[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('base64url').slice(0, 22);
}

/** Everything needed to answer a GET for one resource, conditional or not. */
export interface Representation {
  readonly contentType: string;
  /** The opaque part of a strong ETag, for the identity coding; codings get a suffix. */
  readonly etag: string;
  /** When the content last changed, to the millisecond. */
  readonly lastModifiedMs?: number;
  readonly cacheControl: string;
  readonly links?: readonly AtomLink[];
  /** Produces the bytes; only called when a 200 is actually sent. */
  readonly body: () => EncodedBody;
}

/** A representation whose bytes may need a query first (a feed on a server database). */
export interface AsyncRepresentation extends Omit<Representation, 'body'> {
  readonly body: () => EncodedBody | Promise<EncodedBody>;
}

const CODING_SUFFIX = { identity: '', gzip: '-gzip', br: '-br' } as const;
export type Coding = keyof typeof CODING_SUFFIX;
/** The codings offered, best first, as `accepts` (and so Koa) negotiates them. */
export const CODINGS: Coding[] = ['br', 'gzip', 'identity'];

/**
 * The validator and cache headers of a representation in one coding: the same for its 200 and
 * its 304, whichever code path sends them.
 */
export function representationHeaders(rep: Omit<Representation, 'body'>, coding: Coding): Readonly<Record<string, string>> {
  const lastModified = rep.lastModifiedMs === undefined ? undefined : lastModifiedHeader(rep.lastModifiedMs);
  // Pollers ask for the same few representations over and over: build each header set once.
  const key = `${rep.etag}\0${coding}\0${lastModified}\0${rep.cacheControl}`;
  const cached = HEADER_SETS.get(key);
  if (cached) return cached;
  const headers: Record<string, string> = {
    ETag: `"${rep.etag}${CODING_SUFFIX[coding]}"`,
    'Cache-Control': rep.cacheControl,
    Vary: 'Accept, Accept-Encoding',
  };
  if (lastModified !== undefined) headers['Last-Modified'] = new Date(lastModified).toUTCString();
  if (rep.links && rep.links.length > 0) {
    headers['Link'] = rep.links.map((l) => `<${l.href}>; rel="${l.rel}"${l.type ? `; type="${l.type}"` : ''}`).join(', ');
  }
  if (HEADER_SETS.size >= 256) HEADER_SETS.delete(HEADER_SETS.keys().next().value!);
  HEADER_SETS.set(key, Object.freeze(headers));
  return headers;
}

const HEADER_SETS = new Map<string, Readonly<Record<string, string>>>();

/**
 * Answers a GET/HEAD from a representation: picks the coding, sets the validators and cache
 * headers, and answers 304 (same headers, no body) when the request's validators match.
 */
export function sendRepresentation(ctx: Context, rep: Representation): void;
/** With an asynchronous body: await it (a 304 returns at once). */
export function sendRepresentation(ctx: Context, rep: AsyncRepresentation): void | Promise<void>;
export function sendRepresentation(ctx: Context, rep: AsyncRepresentation): void | Promise<void> {
  const coding = (ctx.acceptsEncodings(CODINGS) || 'identity') as Coding;
  const headers = representationHeaders(rep, coding);
  ctx.status = 200;
  ctx.set(headers);
  if (isNotModified(ctx.get('If-None-Match'), ctx.get('If-Modified-Since'), headers['ETag']!, rep.lastModifiedMs)) {
    ctx.status = 304;
    return;
  }
  const body = rep.body();
  ctx.type = rep.contentType;
  if (coding !== 'identity') ctx.set('Content-Encoding', coding);
  if (body instanceof Promise) return body.then((b) => { ctx.body = b[coding]; });
  ctx.body = body[coding];
  return undefined;
}

/**
 * RFC 9110 section 13.2.2: If-None-Match (weak comparison) decides when present;
 * If-Modified-Since only without it.
 */
export function isNotModified(inm: string | undefined, ims: string | undefined, etag: string, lastModifiedMs: number | undefined): boolean {
  if (inm) {
    if (inm.trim() === '*') return true;
    return inm.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
  }
  if (ims && lastModifiedMs !== undefined) {
    const since = Date.parse(ims);
    return !Number.isNaN(since) && wholeSecond(lastModifiedMs) <= since;
  }
  return false;
}

/**
 * HTTP dates have whole seconds. A Last-Modified naming the current second could hide a change
 * made later in that same second from a client that revalidates with If-Modified-Since, so a
 * change in the current second is announced as the second before. The 304 decision itself
 * compares against the true time of the change, so such a client gets one extra 200, never a
 * wrong 304.
 */
function lastModifiedHeader(modifiedMs: number): number {
  return Math.min(wholeSecond(modifiedMs), wholeSecond(Date.now()) - 1000);
}

function wholeSecond(ms: number): number {
  return Math.floor(ms / 1000) * 1000;
}
