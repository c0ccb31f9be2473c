import Router from '@koa/router';
import type { Context } from 'koa';
import { requireCredential } from '../http/accessControl.ts';
import type { Credentials, Principal } from '../http/credentials.ts';
import { HttpProblem, notFound } from '../http/problem.ts';
import type { EngineMode } from '../command/commandEngine.ts';
import { type AsyncRepresentation, sendRepresentation } from '../http/representation.ts';
import type { FeedPublisher } from './feedPublisher.ts';

export interface FeedRoutesOptions {
  /** Over SQLite's store or PostgreSQL's: the routes await either. */
  readonly publisher: FeedPublisher<EngineMode>;
  /** The public base URL the links are built from (PUBLIC_URL). */
  readonly baseUrl: string;
  /**
   * Who may read (FEED_READERS, FEED_TOKEN, FEED_CACHE_TOKEN): every read needs one of them,
   * as Bearer or Basic. Absent or open: anyone may read.
   */
  readonly readers?: Credentials;
  /** Names the realm of the 401 challenges (`order-service feeds`). */
  readonly realm?: string;
  /** The longest `Prefer: wait=N` honoured, in seconds (0 turns long polling off). */
  readonly longPollMaxSeconds: number;
  /** Extra links for the home page. */
  readonly homeLinks?: readonly { href: string; title: string }[];
}

/**
 * The read side every publishing service mounts: `/`, `/feed`, `/feed/archive/:n`,
 * `/feed/entries/:key` and `/service`, negotiated between Atom and HTML.
 */
export function createFeedRouter(o: FeedRoutesOptions): Router {
  const router = new Router();
  const { publisher, baseUrl } = o;
  const guard = requireCredential(o.readers, o.realm ?? 'feeds');

  router.get('/', guard, (ctx) => sendRepresentation(ctx, publisher.home(baseUrl, o.homeLinks ?? [])));

  // For a cache in front (nginx auth_request): may this credential read? 204 naming the reader, or 401.
  router.get('/auth/feed', guard, (ctx) => {
    const principal = ctx.state['principal'] as Principal | undefined;
    ctx.set('Cache-Control', 'no-store');
    ctx.set('X-Feed-Reader', principal?.name ?? '(anonymous)');
    ctx.status = 204;
  });

  router.get('/feed', guard, async (ctx) => {
    const html = wantsHtml(ctx);
    const wait = html ? 0 : Math.min(preferredWait(ctx.get('Prefer')), o.longPollMaxSeconds);
    if (wait > 0) {
      const before = await publisher.subscription(baseUrl, false);
      // Wait only for a client that already has the current document; anyone else is answered now.
      if (ctx.get('If-None-Match').includes(before.etag)) {
        const abort = new AbortController();
        ctx.req.once('close', () => abort.abort());
        await publisher.waitForEntryAfter((await publisher.head()).lastPosition, wait * 1000, abort.signal);
      }
      ctx.set('Preference-Applied', `wait=${wait}`);
    }
    await send(ctx, await publisher.subscription(baseUrl, html));
  });

  router.get('/feed/archive/:page', guard, async (ctx) => {
    const n = parsePage(ctx.params['page']);
    const found = n === undefined ? { kind: 'missing' as const } : await publisher.archive(n, baseUrl, wantsHtml(ctx));
    switch (found.kind) {
      case 'archive':
        return send(ctx, found.rep);
      case 'working':
        // The page is still being filled: its entries are in the subscription document.
        ctx.set('Cache-Control', 'no-store');
        ctx.status = 303;
        ctx.redirect(`${baseUrl}/feed`);
        return undefined;
      case 'missing':
        throw notFound(`There is no archive page ${ctx.params['page']}`);
      default:
        return assertNever(found);
    }
  });

  router.get('/feed/entries/:key', guard, async (ctx) => {
    const rep = await publisher.entry(ctx.params['key'] ?? '', baseUrl, wantsHtml(ctx));
    if (!rep) throw notFound(`There is no entry ${ctx.params['key']}`);
    await send(ctx, rep);
  });

  router.get('/service', guard, (ctx) => send(ctx, publisher.serviceDocument(baseUrl)));

  return router;
}

function send(ctx: Context, rep: AsyncRepresentation): void | Promise<void> {
  const seconds = cacheTierSeconds(ctx.state['principal'] as Principal | undefined, rep.cacheControl);
  if (seconds !== undefined) ctx.set('X-Accel-Expires', seconds);
  return sendRepresentation(ctx, rep);
}

/**
 * How long the organisation's own cache (the `(cache)` reader, FEED_CACHE_TOKEN) may store a
 * representation of a protected feed, for `X-Accel-Expires`: its max-age. Only that reader is
 * told: for everyone else, and for every cache beyond nginx (which strips the header), the
 * response stays `private`. See deploy/README.md.
 */
export function cacheTierSeconds(principal: Principal | undefined, cacheControl: string): string | undefined {
  if (!principal?.cache) return undefined;
  const m = /(?:^|,)\s*max-age=(\d+)/.exec(cacheControl);
  return m && m[1] !== '0' ? m[1] : undefined;
}

/** What a feed resource is offered as, best first (Atom for anything that does not prefer HTML). */
export const FEED_MEDIA_TYPES = ['application/atom+xml', 'application/xml', 'text/xml', 'text/html'];

/** True when the client prefers HTML (a browser) over Atom (curl, feed readers, pollers). */
export function wantsHtml(ctx: Context): boolean {
  const choice = ctx.accepts(FEED_MEDIA_TYPES);
  if (choice === false) throw new HttpProblem(406, 'Not acceptable', 'This resource is available as application/atom+xml or text/html');
  return choice === 'text/html';
}

/** Reads `wait=N` from a Prefer header (RFC 7240), 0 when absent or malformed. */
export function preferredWait(prefer: string): number {
  for (const pref of prefer.split(',')) {
    const m = /^\s*wait\s*=\s*"?(\d{1,6})"?\s*(;.*)?$/i.exec(pref);
    if (m) return Number(m[1]);
  }
  return 0;
}

function parsePage(raw: string | undefined): number | undefined {
  if (!raw || !/^[1-9]\d{0,15}$/.test(raw)) return undefined;
  return Number(raw);
}

function assertNever(x: never): never {
  throw new Error(`Unexpected ${JSON.stringify(x)}`);
}
