import type { Middleware } from 'koa';
import { requireCredential } from './accessControl.ts';
import { Credentials } from './credentials.ts';

/**
 * Guards an API route: open when nothing is configured; else it needs one of the API clients
 * (`Authorization: Bearer <secret>`, or Basic with the secret as password). A plain string is
 * the single API_TOKEN, accepted as client `(API_TOKEN)`.
 */
export function requireBearer(token: string | Credentials | undefined, realm = 'API'): Middleware {
  const clients = typeof token === 'string' ? Credentials.of('client', [{ name: '(API_TOKEN)', secret: token }]) : token;
  return requireCredential(clients, realm);
}
