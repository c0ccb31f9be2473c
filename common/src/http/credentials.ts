import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Logger } from '../log/logger.ts';
import { CredentialFile } from './credentialFile.ts';
import type { Credential } from './credentialParse.ts';

export { MIN_SECRET_LENGTH, parseCredentials, type Credential, type CredentialParse } from './credentialParse.ts';

/** What a credential lets its holder do: read feeds, see the operator pages, or call the API. */
export type PrincipalKind = 'reader' | 'operator' | 'client';

/** Who a request was accepted as. */
export interface Principal {
  readonly kind: PrincipalKind;
  /** The credential's name (`billing`, `alice`), or `(FEED_TOKEN)` / `(API_TOKEN)` / `(cache)` for the single-secret variables. */
  readonly name: string;
  /** The organisation's own cache tier (FEED_CACHE_TOKEN): it may store what it is given (see deploy/README.md). */
  readonly cache?: boolean;
}

/**
 * The secret a request presents: `Authorization: Bearer <secret>`, or HTTP Basic whose password
 * is the secret (the user name is not checked, so a feed reader may put its own name there).
 */
export function presentedSecret(authorization: string | undefined): string | undefined {
  if (!authorization) return undefined;
  const m = /^(Bearer|Basic)[ \t]+(\S+)[ \t]*$/i.exec(authorization);
  if (!m) return undefined;
  if (m[1]!.toLowerCase() === 'bearer') return m[2]!;
  const decoded = Buffer.from(m[2]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1) || undefined;
}

interface Entry {
  readonly name: string;
  readonly digest: Buffer;
  readonly cache: boolean;
}

const digest = (secret: string): Buffer => createHash('sha256').update(secret, 'utf8').digest();
const toEntries = (list: readonly Credential[]): Entry[] => list.map((c) => ({ name: c.name, digest: digest(c.secret), cache: c.cache === true }));

export interface CredentialsOptions {
  /** Fixed credentials (from the environment). */
  readonly fixed?: readonly Credential[];
  /** A file of `name:secret` lines, re-read whenever it changes. */
  readonly file?: string;
  /** Where a file's reloads and broken versions are reported. */
  readonly logger?: Logger;
  /** How often the file is also checked with stat(), for file systems where fs.watch misses changes. */
  readonly pollMs?: number;
}

/**
 * The credentials of one kind a service accepts. With none configured (no fixed ones and no
 * file) it is open: `protected` is false and the guards let everyone through. A file keeps the
 * set protected even when it lists nobody, so emptying it shuts everyone out rather than
 * letting everyone in. Checking hashes the presented secret once and compares it with every
 * credential's hash in constant time (equal-length SHA-256 digests, no early exit), so the time
 * taken says nothing about which secret, if any, nearly matched.
 */
export class Credentials {
  readonly kind: PrincipalKind;
  readonly #fixed: Entry[];
  #fromFile: Entry[] = [];
  readonly #file: CredentialFile | undefined;

  constructor(kind: PrincipalKind, o: CredentialsOptions = {}) {
    this.kind = kind;
    this.#fixed = toEntries(o.fixed ?? []);
    const fixedNames = new Set((o.fixed ?? []).map((c) => c.name));
    if (o.file !== undefined) {
      this.#file = new CredentialFile(o.file, {
        logger: o.logger,
        pollMs: o.pollMs,
        // A file name that is also a fixed one would be ambiguous in logs and metrics.
        validate: (list) => list.filter((c) => fixedNames.has(c.name)).map((c) => `"${c.name}" is also set in the environment`),
        onLoad: (list) => { this.#fromFile = toEntries(list); },
      });
    }
  }

  /** A set holding just these credentials (tests, and the single-secret variables). */
  static of(kind: PrincipalKind, list: readonly Credential[]): Credentials {
    return new Credentials(kind, { fixed: list });
  }

  get protected(): boolean {
    return this.#fixed.length > 0 || this.#file !== undefined;
  }

  /** The names accepted now (fixed ones first). */
  names(): string[] {
    return [...this.#fixed, ...this.#fromFile].map((e) => e.name);
  }

  /** Who presents this `Authorization` header, or undefined when nobody configured does. */
  check(authorization: string | undefined): Principal | undefined {
    const secret = presentedSecret(authorization);
    if (secret === undefined) return undefined;
    const given = digest(secret);
    let found: Entry | undefined;
    for (const e of this.#fixed) if (timingSafeEqual(given, e.digest) && !found) found = e;
    for (const e of this.#fromFile) if (timingSafeEqual(given, e.digest) && !found) found = e;
    if (!found) return undefined;
    return found.cache ? { kind: this.kind, name: found.name, cache: true } : { kind: this.kind, name: found.name };
  }

  /** Stops watching the file (nothing to do for fixed credentials). */
  close(): void {
    this.#file?.close();
  }
}

const PRINCIPALS = new WeakMap<IncomingMessage, Principal>();

/** Records who a request was accepted as (the guards and the feed's fast path do), for the access log and metrics. */
export function setPrincipal(req: IncomingMessage, principal: Principal): void {
  PRINCIPALS.set(req, principal);
}

/** Who the request was accepted as, if a guard accepted a credential. */
export function principalOf(req: IncomingMessage): Principal | undefined {
  return PRINCIPALS.get(req);
}
