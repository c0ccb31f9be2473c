import Koa from 'koa';
import type { Logger } from '../log/logger.ts';
import { type Principal, principalOf } from './credentials.ts';
import { problemMiddleware } from './problem.ts';
import { requestIdFrom } from './requestContext.ts';

/** Sent on every response: no inline scripts anywhere, no MIME sniffing, no referrer leaks. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'X-Content-Type-Options': 'nosniff',
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'self'",
  'Referrer-Policy': 'no-referrer',
};

/** One request as it ended, for metrics: `route` is the matched route's pattern (`unmatched` when none). */
export interface RequestObservation {
  readonly method: string;
  readonly route: string;
  readonly status: number;
  readonly seconds: number;
  /** Who the request was accepted as, when a guard checked a credential (see accessControl.ts). */
  readonly principal?: Principal;
}

export interface BaseAppOptions {
  /** Called once per request when its response is decided (metrics hang here). */
  readonly onRequest?: (r: RequestObservation) => void;
}

/**
 * A Koa app with what every service wants in front of its routes: a request id (the caller's
 * sane `X-Request-Id` or a new one, echoed on every response and carried by the request's
 * logger, see `requestLogger`), one log line per request (warn when it failed with a 5xx
 * or was slow, debug otherwise: the access log), problem+json errors and defensive headers (no
 * inline scripts anywhere, so even a mistake in escaping cannot run a customer's `<script>`).
 */
export function createBaseApp(logger: Logger, options: BaseAppOptions = {}): Koa {
  const app = new Koa();
  app.proxy = false;
  app.silent = true;
  app.use(async (ctx, next) => {
    const started = performance.now();
    const requestId = requestIdFrom(ctx.req.headers['x-request-id']);
    // The request's logger is made only when something logs: most requests never do.
    let log: Logger | undefined;
    const requestLog = (): Logger => (log ??= logger.child({ requestId }));
    ctx.state['requestId'] = requestId;
    Object.defineProperty(ctx.state, 'logger', { get: requestLog, enumerable: true, configurable: true });
    ctx.set(SECURITY_HEADERS);
    ctx.set('X-Request-Id', requestId);
    try {
      await next();
    } finally {
      const elapsed = performance.now() - started;
      const ms = Math.round(elapsed);
      const route = (ctx as { _matchedRoute?: string | RegExp })._matchedRoute;
      const principal = principalOf(ctx.req);
      options.onRequest?.({ method: ctx.method, route: typeof route === 'string' ? route : 'unmatched', status: ctx.status, seconds: elapsed / 1000, principal });
      const failed = ctx.status >= 500 || ms > 2000 && !ctx.get('Prefer');
      if (failed || logger.enabled('debug')) {
        const { response } = ctx;
        const line = {
          // The path only, never the query: signed links carry customers' credentials there (sig=, t=).
          method: ctx.method, path: ctx.path, status: ctx.status, ms,
          // A getter, so that the size (which may mean serialising a JSON body) is only worked out when the line is written.
          get bytes() { return response.length ?? null; },
          userAgent: ctx.get('User-Agent') || undefined,
          // Who: `reader`, `operator` or `client`, with the credential's name.
          ...(principal ? { [principal.kind]: principal.name } : {}),
        };
        if (failed) requestLog().warn('request', line);
        else requestLog().debug('request', line);
      }
    }
  });
  app.use(problemMiddleware(logger));
  return app;
}
