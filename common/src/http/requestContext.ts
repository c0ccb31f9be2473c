import { randomUUID } from 'node:crypto';
import type { Context } from 'koa';
import { createLogger, type Logger } from '../log/logger.ts';

/** An id a proxy or client may choose: an HTTP token (RFC 9110) of at most 200 characters. */
const SANE_ID = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,200}$/;

/**
 * The id of one request: the caller's `X-Request-Id` when it is sane, else a new UUID, so an
 * id that goes into logs and headers can never carry newlines, markup or megabytes.
 */
export function requestIdFrom(given: string | string[] | undefined): string {
  return typeof given === 'string' && SANE_ID.test(given) ? given : randomUUID();
}

const SILENT = createLogger({}, 'silent');

/**
 * The logger of the request in hand (createBaseApp puts it in `ctx.state.logger`): every line it
 * writes carries the request's `requestId`. Outside createBaseApp, `fallback` or a silent one.
 */
export function requestLogger(ctx: Context, fallback: Logger = SILENT): Logger {
  return (ctx.state['logger'] as Logger | undefined) ?? fallback;
}
