import type { Context } from 'koa';
import { HttpProblem, badRequest } from './problem.ts';

/**
 * How much of an oversized body is read and dropped so that the client, still sending, surely
 * receives its 413: closing a socket with unread data makes the kernel send a reset, which can
 * destroy the answer before the client reads it. Past this the connection is closed anyway.
 */
const DISCARD_LIMIT = 1024 * 1024;

/**
 * Reads a JSON request body of at most `limit` bytes. Answers 415 for another media type,
 * 413 when too large (keeping none of it; declared or chunked alike), 400 when it is not JSON.
 */
export async function readJsonBody(ctx: Context, limit = 64 * 1024): Promise<unknown> {
  if (!ctx.is('application/json', 'application/*+json')) {
    throw new HttpProblem(415, 'Unsupported media type', 'Send the body as application/json');
  }
  const declared = Number(ctx.get('Content-Length') || '0');
  if (declared > limit + DISCARD_LIMIT) throw tooLarge(ctx, limit, true);
  const chunks: Buffer[] = [];
  let size = 0;
  // Leaving the loop early must not destroy the request: that would reset the connection under the 413.
  for await (const chunk of ctx.req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= limit) chunks.push(chunk);
    else if (size > limit + DISCARD_LIMIT) throw tooLarge(ctx, limit, true);
  }
  if (size > limit) throw tooLarge(ctx, limit, false);
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw badRequest('The body is not valid JSON');
  }
}

/** `close`: the rest of the body is still coming and will not be read, so this connection ends with the answer. */
function tooLarge(ctx: Context, limit: number, close: boolean): HttpProblem {
  if (close) ctx.set('Connection', 'close');
  return new HttpProblem(413, 'Content too large', `The body must be at most ${limit} bytes`);
}
