import type { Context, Middleware, Next } from 'koa';
import { type AccessConfig, type CredentialSource, isOpen } from '../config/accessConfig.ts';
import type { Logger } from '../log/logger.ts';
import { Credentials, type PrincipalKind, setPrincipal } from './credentials.ts';
import { HttpProblem } from './problem.ts';

/** The WWW-Authenticate challenges of a 401, one per header line, Basic first (browsers and nginx 1.22 take the first). */
export function challenges(kind: PrincipalKind, realm: string): string[] {
  const basic = `Basic realm="${realm}", charset="UTF-8"`;
  const bearer = `Bearer realm="${realm}"`;
  switch (kind) {
    case 'reader': return [basic, bearer];
    case 'operator': return [basic];
    case 'client': return [bearer];
    default: return assertNever(kind);
  }
}

const DETAIL: Record<PrincipalKind, string> = {
  reader: 'This feed needs a reader\'s credential: Authorization: Bearer <secret>, or HTTP Basic with the secret as the password',
  operator: 'This page needs an operator\'s login (HTTP Basic)',
  client: 'This endpoint needs an Authorization: Bearer token',
};

/** The 401 a guard answers: problem+json with the challenges of its kind. */
export function credentialProblem(kind: PrincipalKind, realm: string): HttpProblem {
  const p = new HttpProblem(401, 'Unauthorized', DETAIL[kind]);
  p.headers = { 'WWW-Authenticate': challenges(kind, realm) };
  return p;
}

/**
 * Koa middleware letting through only requests that present one of `credentials` (Bearer, or
 * Basic with the secret as password), and everyone when the set is open (absent or nothing
 * configured). The accepted principal goes to `ctx.state.principal` and to the access log and
 * metrics (see principalOf).
 */
export function requireCredential(credentials: Credentials | undefined, realm: string): Middleware {
  return async function credential(ctx: Context, next: Next): Promise<void> {
    if (credentials?.protected) {
      const principal = credentials.check(ctx.get('Authorization') || undefined);
      if (!principal) throw credentialProblem(credentials.kind, realm);
      ctx.state['principal'] = principal;
      setPrincipal(ctx.req, principal);
    }
    await next();
  };
}

/** One service's credentials and the guards made of them. */
export interface ServiceAccess {
  readonly readers: Credentials;
  readonly operators: Credentials;
  readonly clients: Credentials;
  /** Guards: feeds, pages for people (/status, /metrics, ...), writes and API reads. */
  readonly reader: Middleware;
  readonly operator: Middleware;
  readonly client: Middleware;
  /** Stops watching the credential files. */
  close(): void;
}

/**
 * Builds a service's credentials from its config (files read now and watched from now on) and
 * says loudly, at every start, what is open on a network address because ALLOW_OPEN=1 let it.
 */
export function createServiceAccess(config: AccessConfig, o: { service: string; logger: Logger; pollMs?: number }): ServiceAccess {
  const make = (kind: PrincipalKind, s: CredentialSource | undefined): Credentials =>
    new Credentials(kind, { fixed: s?.fixed ?? [], file: s?.file, logger: o.logger, pollMs: o.pollMs });
  const readers = make('reader', config.readers);
  const operators = make('operator', config.operators);
  const clients = make('client', config.clients);
  if (!config.loopback) {
    const open = [
      ...(config.clients && isOpen(config.clients) ? ['writes (API_TOKEN / API_CLIENTS)'] : []),
      ...(config.readers && isOpen(config.readers) ? ['feeds (FEED_READERS)'] : []),
      ...(isOpen(config.operators) ? ['pages and /metrics (OPERATORS)'] : []),
    ];
    if (open.length > 0) {
      o.logger.warn(`ALLOW_OPEN=1: ${o.service} listens on ${config.host}, a network address, with these open to anyone who can reach it: ${open.join(', ')}`, { host: config.host, open });
    }
  }
  return {
    readers, operators, clients,
    reader: requireCredential(readers, `${o.service} feeds`),
    operator: requireCredential(operators, `${o.service} operators`),
    client: requireCredential(clients, `${o.service} API`),
    close: () => { for (const c of [readers, operators, clients]) c.close(); },
  };
}

function assertNever(x: never): never {
  throw new Error(`Unexpected ${JSON.stringify(x)}`);
}
