import type { Context } from 'koa';
import { HttpProblem, badRequest } from './problem.ts';

/**
 * Reads a JSON request body of at most `limit` bytes. Answers 415 for another media type,
 * 413 when too large (without reading the rest), 400 when it is not JSON.
 */
export async function readJsonBody(ctx: Context, limit = 64 * 1024): Promise<unknown> {
  if (!ctx.is('application/json', 'application/*+json')) {
    throw new HttpProblem(415, 'Unsupported media type', 'Send the body as application/json');
  }
  const declared = Number(ctx.get('Content-Length') || '0');
  if (declared > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      ctx.req.destroy();
      throw tooLarge(limit);
    }
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw badRequest('The body is not valid JSON');
  }
}

function tooLarge(limit: number): HttpProblem {
  return new HttpProblem(413, 'Content too large', `The body must be at most ${limit} bytes`);
}
