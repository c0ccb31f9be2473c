import { timingSafeEqual } from 'node:crypto';
import type { Context, Next } from 'koa';
import { unauthorized } from './problem.ts';

/** Requires `Authorization: Bearer <token>` when a token is configured; open when it is not. */
export function requireBearer(token: string | undefined) {
  return async function bearer(ctx: Context, next: Next): Promise<void> {
    if (token !== undefined && !tokenMatches(ctx.get('Authorization'), token)) {
      throw unauthorized('This endpoint needs an Authorization: Bearer token');
    }
    await next();
  };
}

function tokenMatches(header: string, token: string): boolean {
  const m = /^Bearer\s+(\S+)$/i.exec(header);
  if (!m) return false;
  const given = Buffer.from(m[1]!);
  const wanted = Buffer.from(token);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}
