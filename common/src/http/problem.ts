import type { Context, Next } from 'koa';
import type { Logger } from '../log/logger.ts';
import { requestLogger } from './requestContext.ts';

export interface ProblemDetails {
  readonly type?: string;
  readonly title: string;
  readonly status: number;
  readonly detail?: string;
  readonly [extension: string]: unknown;
}

/** An error that becomes an RFC 9457 problem response; its detail is safe to show a client. */
export class HttpProblem extends Error {
  /** Response headers that go with the problem, e.g. a 401's `WWW-Authenticate` challenges (one entry per header line). */
  headers: Record<string, string | string[]> = {};

  constructor(readonly status: number, readonly title: string, detail?: string, readonly extensions: Record<string, unknown> = {}) {
    super(detail ?? title);
    this.name = 'HttpProblem';
  }
  get detail(): string { return this.message; }
}

export const badRequest = (detail: string, ext?: Record<string, unknown>) => new HttpProblem(400, 'Bad request', detail, ext);
export const unauthorized = (detail: string) => new HttpProblem(401, 'Unauthorized', detail);
export const notFound = (detail: string) => new HttpProblem(404, 'Not found', detail);
export const conflict = (detail: string, ext?: Record<string, unknown>) => new HttpProblem(409, 'Conflict', detail, ext);
export const unprocessable = (detail: string, ext?: Record<string, unknown>) => new HttpProblem(422, 'Unprocessable content', detail, ext);

/**
 * Renders every error as `application/problem+json`: thrown errors, and any 4xx/5xx left without
 * a body (no route matched: 404; @koa/router's 405 and 501, whose `Allow` header stays), so no
 * route can forget. Errors that are not an HttpProblem (nor a Koa/http-errors error marked
 * `expose`) become a 500 whose details, stack included, stay in the log only. A response that
 * brings its own error body keeps it.
 */
export function problemMiddleware(logger: Logger) {
  return async function problems(ctx: Context, next: Next): Promise<void> {
    let problem: ProblemDetails;
    let headers: Record<string, string | string[]> = {};
    try {
      await next();
      if (ctx.status < 400 || ctx.body != null) return;
      problem = bodilessProblem(ctx);
    } catch (err) {
      problem = toProblem(err);
      if (err instanceof HttpProblem) headers = err.headers;
      if (problem.status >= 500) requestLogger(ctx, logger).error('request failed', { method: ctx.method, path: ctx.path, err });
    }
    ctx.status = problem.status;
    ctx.type = 'application/problem+json';
    ctx.set('Cache-Control', 'no-store');
    ctx.remove('ETag');
    ctx.remove('Last-Modified');
    ctx.body = JSON.stringify({ type: 'about:blank', ...problem, instance: ctx.path });
    if (problem.status === 401 && !headers['WWW-Authenticate']) ctx.set('WWW-Authenticate', 'Bearer');
    for (const [name, value] of Object.entries(headers)) ctx.set(name, value);
  };
}

function bodilessProblem(ctx: Context): ProblemDetails {
  const { status } = ctx;
  const title = statusTitle(status);
  if (status === 404) return { title, status, detail: `No resource at ${ctx.path}` };
  const allow = ctx.response.get('Allow');
  if (status === 405 && allow) return { title, status, detail: `${ctx.method} is not allowed on ${ctx.path}; allowed: ${allow}` };
  if (status === 501 && allow) return { title, status, detail: `${ctx.method} is not implemented on ${ctx.path}; allowed: ${allow}` };
  return { title, status, detail: title };
}

function toProblem(err: unknown): ProblemDetails {
  if (err instanceof HttpProblem) return { title: err.title, status: err.status, detail: err.detail, ...err.extensions };
  const e = err as { status?: unknown; expose?: unknown; message?: unknown };
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
    return { title: statusTitle(e.status), status: e.status, detail: e.expose ? String(e.message) : statusTitle(e.status) };
  }
  return { title: 'Internal server error', status: 500, detail: 'Something went wrong on our side; it has been logged.' };
}

function statusTitle(status: number): string {
  return ({
    400: 'Bad request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not found', 405: 'Method not allowed', 406: 'Not acceptable',
    409: 'Conflict', 410: 'Gone', 412: 'Precondition failed', 413: 'Content too large', 415: 'Unsupported media type', 422: 'Unprocessable content',
    429: 'Too many requests', 500: 'Internal server error', 501: 'Not implemented', 502: 'Bad gateway', 503: 'Service unavailable', 504: 'Gateway timeout',
  } as Record<number, string>)[status] ?? (status >= 500 ? 'Server error' : 'Client error');
}
