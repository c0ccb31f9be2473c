import type { Context, Next } from 'koa';
import type { Logger } from '../log/logger.ts';

export interface ProblemDetails {
  readonly type?: string;
  readonly title: string;
  readonly status: number;
  readonly detail?: string;
  readonly [extension: string]: unknown;
}

/** An error that becomes an RFC 9457 problem response; its detail is safe to show a client. */
export class HttpProblem extends Error {
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
 * Renders every error as `application/problem+json`. Errors that are not an HttpProblem (nor a
 * Koa/http-errors error marked `expose`) become a 500 whose details stay in the log only.
 */
export function problemMiddleware(logger: Logger) {
  return async function problems(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw notFound(`No resource at ${ctx.path}`);
      }
    } catch (err) {
      const problem = toProblem(err);
      if (problem.status >= 500) logger.error('request failed', { method: ctx.method, path: ctx.path, err });
      ctx.status = problem.status;
      ctx.type = 'application/problem+json';
      ctx.set('Cache-Control', 'no-store');
      ctx.remove('ETag');
      ctx.remove('Last-Modified');
      ctx.body = JSON.stringify({ type: 'about:blank', ...problem, instance: ctx.path });
      if (problem.status === 401) ctx.set('WWW-Authenticate', 'Bearer');
    }
  };
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
  return ({ 400: 'Bad request', 401: 'Unauthorized', 404: 'Not found', 405: 'Method not allowed', 406: 'Not acceptable', 413: 'Content too large', 415: 'Unsupported media type' } as Record<number, string>)[status] ?? 'Client error';
}
