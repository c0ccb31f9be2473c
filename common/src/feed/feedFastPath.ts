import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import accepts from 'accepts';
import { SECURITY_HEADERS } from '../http/baseApp.ts';
import { type Credentials, setPrincipal } from '../http/credentials.ts';
import { CODINGS, type Coding, isNotModified, representationHeaders } from '../http/representation.ts';
import { requestIdFrom } from '../http/requestContext.ts';
import type { EngineMode } from '../command/commandEngine.ts';
import type { FeedPublisher } from './feedPublisher.ts';
import { FEED_MEDIA_TYPES, cacheTierSeconds } from './feedRoutes.ts';

/**
 * Answers the commonest request a feed gets, a poller revalidating `/feed` that has nothing
 * new, before Koa builds a context for it. It decides with the very functions the Koa route
 * uses (same negotiation library, same headers, same 304 rule) and hands everything else to
 * Koa untouched: a 200, a long poll (`Prefer`), any other path. A protected feed is checked
 * here exactly as the Koa route checks it (the same Credentials): a request without a good
 * credential goes to Koa, which answers its 401. Over PostgreSQL it answers from the head held
 * in memory (kept fresh by this process's commits and other instances' NOTIFY), never a query.
 */
export function createFeedFastPath(o: { publisher: FeedPublisher<EngineMode>; baseUrl: string; readers?: Credentials }): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    if (req.url !== '/feed' || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
    const inm = req.headers['if-none-match'];
    if (!inm || req.headers['prefer'] !== undefined) return false;
    const principal = o.readers?.protected ? o.readers.check(req.headers.authorization) : undefined;
    if (o.readers?.protected && !principal) return false;
    const choice = negotiated(req);
    if (choice === undefined) return false;
    // On PostgreSQL, the head kept in memory; while it is not known to be fresh, Koa answers.
    const rep = o.publisher.subscriptionNow(o.baseUrl, choice.html);
    if (rep === undefined) return false;
    const headers = representationHeaders(rep, choice.coding);
    if (inm !== headers['ETag'] && !isNotModified(inm, undefined, headers['ETag']!, rep.lastModifiedMs)) return false;
    let all = WITH_SECURITY.get(headers);
    if (!all) WITH_SECURITY.set(headers, (all = { ...SECURITY_HEADERS, ...headers }));
    const cacheTier = cacheTierSeconds(principal, rep.cacheControl);
    if (principal) setPrincipal(req, principal);
    res.writeHead(304, { ...all, ...(cacheTier === undefined ? {} : { 'X-Accel-Expires': cacheTier }), 'X-Request-Id': requestIdFrom(req.headers['x-request-id']) });
    res.end();
    return true;
  };
}

/** Header sets are memoised (see representationHeaders), so their merge with ours can be too. */
const WITH_SECURITY = new WeakMap<Readonly<Record<string, string>>, Record<string, string>>();

const CHOICES = new Map<string, { html: boolean; coding: Coding } | undefined>();

/** Negotiates as Koa would (the same library), remembering the answer for each pair of headers. */
function negotiated(req: IncomingMessage): { html: boolean; coding: Coding } | undefined {
  const key = `${req.headers.accept ?? ''}\n${req.headers['accept-encoding'] ?? ''}`;
  if (CHOICES.has(key)) return CHOICES.get(key);
  const negotiate = accepts(req);
  const type = negotiate.type(FEED_MEDIA_TYPES);
  const choice = type === false ? undefined : { html: type === 'text/html', coding: (negotiate.encoding(CODINGS) || 'identity') as Coding };
  if (CHOICES.size >= 256) CHOICES.delete(CHOICES.keys().next().value!);
  CHOICES.set(key, choice);
  return choice;
}

/** A request listener that tries the fast path first, then the Koa app. */
export function withFastPath(fast: (req: IncomingMessage, res: ServerResponse) => boolean, koa: RequestListener): RequestListener {
  return (req, res) => {
    if (!fast(req, res)) koa(req, res);
  };
}
