import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { Agent, type Dispatcher, request } from 'undici';

/** The timeouts of one feed request, in milliseconds. */
export interface FetchTimeouts {
  readonly connectMs: number;
  readonly headersMs: number;
  readonly bodyMs: number;
  /** The whole request, first byte to last (a slow trickle cannot hold a poll forever). */
  readonly totalMs: number;
}

export const DEFAULT_TIMEOUTS: FetchTimeouts = { connectMs: 5_000, headersMs: 10_000, bodyMs: 10_000, totalMs: 30_000 };

export interface Validators {
  readonly etag: string | undefined;
  readonly lastModified: string | undefined;
}

export type FetchOutcome =
  | { readonly kind: 'not-modified'; readonly bytes: number }
  | { readonly kind: 'ok'; readonly url: string; readonly text: string; readonly validators: Validators; readonly bytes: number; readonly waited: boolean };

/** A fault of the feed or the network: the poll stops, nothing moves, the feed backs off. */
export class FeedFetchError extends Error {
  constructor(message: string, readonly status?: number) {
    super(message);
    this.name = 'FeedFetchError';
  }
}

/**
 * A URL (a redirect's Location or a paging link) on an origin other than the feed's that the
 * operator did not allow: it is not requested at all, so neither the token nor our read reaches it.
 */
export class FeedOriginRefused extends FeedFetchError {
  constructor(message: string, readonly refusedUrl: string) {
    super(message);
    this.name = 'FeedOriginRefused';
  }
}

export interface FetcherOptions {
  readonly dispatcher?: Dispatcher;
  readonly timeouts?: Partial<FetchTimeouts>;
  readonly maxBodyBytes: number;
  /** Sent as `Authorization: Bearer <token>`, and only ever to the feed's own origin. */
  readonly token?: string;
  /**
   * The feed URL: its scheme, host and port are the one origin requests may go to (and the only
   * one the token goes to). Without it, each `get` is held to the origin of the URL it was given.
   */
  readonly origin?: string;
  /**
   * Other origins (`https://cdn.example.com`) a redirect or a paging link may lead to, fetched
   * without the token. Anything else is refused with a FeedOriginRefused.
   */
  readonly allowedOrigins?: readonly string[];
}

/**
 * GETs feed documents with undici `request()`: conditional headers of our own (global fetch
 * would add `Cache-Control: no-cache` and never see a 304), gzip/br decoded here with the same
 * size cap as the wire bytes, at most a few redirects followed by hand.
 */
export class FeedFetcher {
  readonly #o: FetcherOptions;
  readonly #t: FetchTimeouts;
  readonly #dispatcher: Dispatcher;
  readonly #ownAgent: Agent | undefined;
  readonly #allowed: ReadonlySet<string>;

  constructor(o: FetcherOptions) {
    this.#o = o;
    this.#allowed = new Set((o.allowedOrigins ?? []).map((a) => originOf(a, 'allowedOrigins')));
    this.#t = { ...DEFAULT_TIMEOUTS, ...o.timeouts };
    this.#ownAgent = o.dispatcher ? undefined : new Agent({ connect: { timeout: this.#t.connectMs }, keepAliveTimeout: 30_000 });
    this.#dispatcher = o.dispatcher ?? this.#ownAgent!;
  }

  async get(url: string, opts: { validators?: Validators; waitSeconds?: number; signal?: AbortSignal } = {}): Promise<FetchOutcome> {
    const waitMs = (opts.waitSeconds ?? 0) * 1000;
    const deadline = AbortSignal.timeout(this.#t.totalMs + waitMs);
    const signal = opts.signal ? AbortSignal.any([opts.signal, deadline]) : deadline;
    const home = originOf(this.#o.origin ?? url, this.#o.origin === undefined ? 'url' : 'the feed URL');
    let target = url;
    let from: string | undefined;
    for (let hop = 0; hop < 4; hop++) {
      // Every hop is checked before it is requested: a redirect may not carry us (or the token) off.
      const targetOrigin = this.#check(target, home, from);
      const headers: Record<string, string> = { accept: 'application/atom+xml', 'accept-encoding': 'gzip, br' };
      if (this.#o.token && targetOrigin === home) headers['authorization'] = `Bearer ${this.#o.token}`;
      if (opts.validators?.etag) headers['if-none-match'] = opts.validators.etag;
      if (opts.validators?.lastModified) headers['if-modified-since'] = opts.validators.lastModified;
      // Only ask the server to hold the request when we can say what we already have.
      if (waitMs > 0 && opts.validators?.etag) headers['prefer'] = `wait=${opts.waitSeconds}`;
      const send = () => request(target, {
        method: 'GET', headers, signal, dispatcher: this.#dispatcher,
        headersTimeout: this.#t.headersMs + waitMs, bodyTimeout: this.#t.bodyMs,
      });
      let res: Dispatcher.ResponseData;
      try {
        // A kept-alive socket the server closed meanwhile (a restart) fails at once: GET is safe to resend.
        res = await send().catch((err: unknown) => { if (isStaleSocket(err) && !signal.aborted) return send(); throw err; });
      } catch (err) {
        if (opts.signal?.aborted) throw err;
        throw new FeedFetchError(`GET ${target} failed: ${describe(err)}`);
      }
      const status = res.statusCode;
      if (status === 304) {
        await res.body.dump();
        return { kind: 'not-modified', bytes: 0 };
      }
      if ([301, 302, 303, 307, 308].includes(status)) {
        await res.body.dump();
        const location = header(res.headers, 'location');
        if (!location) throw new FeedFetchError(`GET ${target} answered ${status} without a Location`, status);
        from = target;
        target = new URL(location, target).href;
        continue;
      }
      if (status !== 200) {
        await res.body.dump().catch(() => undefined);
        throw new FeedFetchError(`GET ${target} answered ${status}`, status);
      }
      const type = header(res.headers, 'content-type') ?? '';
      if (!/^(application\/(atom\+)?xml|text\/xml)\b/i.test(type)) {
        await res.body.dump().catch(() => undefined);
        throw new FeedFetchError(`GET ${target} answered ${type || 'no content type'}, not an Atom document`, status);
      }
      const raw = await this.#readCapped(res, target);
      const text = this.#decode(raw, header(res.headers, 'content-encoding'), target).toString('utf8');
      return {
        kind: 'ok', url: target, text, bytes: raw.length,
        waited: header(res.headers, 'preference-applied')?.includes('wait') ?? false,
        validators: { etag: header(res.headers, 'etag'), lastModified: header(res.headers, 'last-modified') },
      };
    }
    throw new FeedFetchError(`GET ${url}: too many redirects`);
  }

  async close(): Promise<void> {
    await this.#ownAgent?.close();
  }

  /** The target's origin, when it is the feed's own or one the operator allowed; else throws. */
  #check(target: string, home: string, redirectedFrom: string | undefined): string {
    const how = redirectedFrom === undefined ? `refused to follow ${target}` : `refused to follow the redirect from ${redirectedFrom} to ${target}`;
    let u: URL;
    try {
      u = new URL(target);
    } catch {
      throw new FeedOriginRefused(`${how}: not an absolute URL`, target);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new FeedOriginRefused(`${how}: only http and https are fetched, not ${u.protocol}`, target);
    if (u.origin === home || this.#allowed.has(u.origin)) return u.origin;
    throw new FeedOriginRefused(`${how}: origin ${u.origin} is not the feed's origin ${home}; allow it with FEED_ALLOWED_ORIGINS if intended (it is then fetched without the feed's token)`, target);
  }

  async #readCapped(res: Dispatcher.ResponseData, url: string): Promise<Buffer> {
    const max = this.#o.maxBodyBytes;
    const declared = Number(header(res.headers, 'content-length') ?? '0');
    if (declared > max) {
      res.body.destroy();
      throw new FeedFetchError(`GET ${url}: body of ${declared} bytes is over the ${max} byte limit`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > max) {
          res.body.destroy();
          throw new FeedFetchError(`GET ${url}: body is over the ${max} byte limit`);
        }
        chunks.push(chunk);
      }
    } catch (err) {
      if (err instanceof FeedFetchError) throw err;
      throw new FeedFetchError(`GET ${url}: reading the body failed: ${describe(err)}`);
    }
    return Buffer.concat(chunks);
  }

  #decode(raw: Buffer, coding: string | undefined, url: string): Buffer {
    const c = (coding ?? 'identity').trim().toLowerCase();
    const limit = { maxOutputLength: this.#o.maxBodyBytes };
    try {
      if (c === 'identity' || c === '') return raw;
      if (c === 'gzip' || c === 'x-gzip') return gunzipSync(raw, limit);
      if (c === 'br') return brotliDecompressSync(raw, limit);
    } catch (err) {
      throw new FeedFetchError(`GET ${url}: could not decode ${c} body (over ${this.#o.maxBodyBytes} bytes or corrupt): ${describe(err)}`);
    }
    throw new FeedFetchError(`GET ${url}: unsupported content coding ${c}`);
  }
}

function originOf(url: string, what: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new FeedFetchError(`${what} ${url} is not an absolute URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new FeedFetchError(`${what} ${url} is not an http(s) URL`);
  return u.origin;
}

function header(h: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

function isStaleSocket(err: unknown): boolean {
  const code = (err as { code?: string })?.code;
  return code === 'UND_ERR_SOCKET' || code === 'ECONNRESET';
}

function describe(err: unknown): string {
  const e = err as { code?: string; message?: string; name?: string };
  return [e?.name, e?.code, e?.message].filter(Boolean).join(': ') || String(err);
}
