import { randomUUID } from 'node:crypto';
import Koa from 'koa';
import type { Logger } from '../log/logger.ts';
import { problemMiddleware } from './problem.ts';

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
}

export interface BaseAppOptions {
  /** Called once per request when its response is decided (metrics hang here). */
  readonly onRequest?: (r: RequestObservation) => void;
}

/**
 * A Koa app with what every service wants in front of its routes: a request id, one log line
 * per failed or slow request, problem+json errors and defensive headers (no inline scripts
 * anywhere, so even a mistake in escaping cannot run a customer's `<script>`).
 */
export function createBaseApp(logger: Logger, options: BaseAppOptions = {}): Koa {
  const app = new Koa();
  app.proxy = false;
  app.silent = true;
  app.use(async (ctx, next) => {
    const started = performance.now();
    ctx.state['requestId'] = ctx.get('X-Request-Id') || randomUUID();
    ctx.set(SECURITY_HEADERS);
    try {
      await next();
    } finally {
      const elapsed = performance.now() - started;
      const ms = Math.round(elapsed);
      const route = (ctx as { _matchedRoute?: string | RegExp })._matchedRoute;
      options.onRequest?.({ method: ctx.method, route: typeof route === 'string' ? route : 'unmatched', status: ctx.status, seconds: elapsed / 1000 });
      if (ctx.status >= 500 || ms > 2000 && !ctx.get('Prefer')) {
        logger.warn('request', { requestId: ctx.state['requestId'], method: ctx.method, path: ctx.path, status: ctx.status, ms });
      }
    }
  });
  app.use(problemMiddleware(logger));
  return app;
}
