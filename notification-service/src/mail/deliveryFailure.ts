/**
 * What the outbox does after a failed try, as a mail server would: a temporary failure is tried
 * again later, with a per-email backoff, until it has had `maxAttempts` tries or waited `maxAgeMs`
 * since it was queued; a permanent one is dead at once. A mail server that cannot be reached at
 * all is no email's failure: the sender backs the transport off instead, charging no try. Pure:
 * the time and the randomness of the jitter come in.
 */

export interface RetryPolicy {
  /** Wait after the first failed try; it doubles after each further one, up to `maxMs`. */
  readonly baseMs: number;
  readonly maxMs: number;
  /** Tries (the first one included) after which a temporarily failing email is dead. */
  readonly maxAttempts: number;
  /** How long after it was queued an email that still fails (however) is given up on; none: never. */
  readonly maxAgeMs?: number;
  /** Each wait is scaled by a random factor in [1 - jitter, 1 + jitter], so emails that failed together are not retried together. */
  readonly jitter: number;
}

export interface DeliveryFailure {
  readonly permanent: boolean;
  /**
   * Nothing can go through this transport now, whatever the email: the mail server could not be
   * reached (refused, timed out, no such host), it is closing (421) or it refused our login. Not
   * charged to the email: the transport backs off.
   */
  readonly connection: boolean;
  readonly message: string;
}

export type AfterFailure =
  | { readonly kind: 'retry'; readonly at: Date; readonly error: string }
  | { readonly kind: 'dead'; readonly error: string };

/** Errors of the socket rather than of the message: connection refused, reset, timed out, no such host. */
const CONNECTION_CODES = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'EPROXY', 'ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);
/** Our own credentials were refused: a 5xx, but about our configuration, not this email: no email can go. */
const AUTH_CODES = new Set(['EAUTH', 'ENOAUTH']);

/**
 * Reads a transport's error (nodemailer's carry `code` and, for an SMTP reply, `responseCode`):
 * a 5xx reply is permanent, except a refused login; a 4xx reply, a connection that failed and
 * anything unknown (a full disk for .eml files) are temporary. A connection that failed, a 421
 * and a refused login concern the transport (`connection`), not the email.
 */
export function classifyFailure(err: unknown): DeliveryFailure {
  const e = (typeof err === 'object' && err !== null ? err : {}) as { code?: unknown; responseCode?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : undefined;
  const reply = typeof e.responseCode === 'number' ? e.responseCode : undefined;
  const message = typeof e.message === 'string' && e.message !== '' ? e.message : String(err);
  if (reply !== undefined && reply >= 500 && reply < 600 && !(code && AUTH_CODES.has(code))) return { permanent: true, connection: false, message };
  // 421: the server is closing the connection (shutting down, too busy); the next email would get the same.
  const connection = (code !== undefined && (CONNECTION_CODES.has(code) || AUTH_CODES.has(code))) || reply === 421;
  return { permanent: false, connection, message };
}

/** The wait before the next try after `attempts` tries, with jitter; `random` returns [0, 1). */
export function retryDelayMs(attempts: number, policy: RetryPolicy, random: () => number): number {
  const plain = Math.min(policy.baseMs * 2 ** Math.max(0, attempts - 1), policy.maxMs);
  return Math.round(plain * (1 - policy.jitter + 2 * policy.jitter * random()));
}

/**
 * After a failed try that was the email's `attempts`-th, of an email queued at `queuedAt`: when
 * to try again, or that it is dead.
 */
export function afterFailure(failure: DeliveryFailure, attempts: number, policy: RetryPolicy, now: Date, random: () => number, queuedAt?: Date): AfterFailure {
  if (failure.permanent) return { kind: 'dead', error: `permanent failure: ${failure.message}` };
  if (attempts >= policy.maxAttempts) return { kind: 'dead', error: `gave up after ${attempts} tries: ${failure.message}` };
  if (queuedAt && tooOld(queuedAt, policy, now)) return { kind: 'dead', error: `${gaveUpByAge(policy)}: ${failure.message}` };
  return { kind: 'retry', at: new Date(now.getTime() + retryDelayMs(attempts, policy, random)), error: failure.message };
}

/** Whether an email queued at `queuedAt` has waited as long as the policy lets one wait. */
export function tooOld(queuedAt: Date, policy: RetryPolicy, now: Date): boolean {
  return policy.maxAgeMs !== undefined && now.getTime() - queuedAt.getTime() >= policy.maxAgeMs;
}

/** The start of the error an email given up on by age keeps: `gave up after 72 hours`. */
export function gaveUpByAge(policy: RetryPolicy): string {
  const hours = (policy.maxAgeMs ?? 0) / 3_600_000;
  return `gave up after ${hours} ${hours === 1 ? 'hour' : 'hours'}`;
}

const ATEXT = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~\\-\\u0080-\\uFFFF]+";
const DOT_ATOM = new RegExp(`^${ATEXT}(\\.${ATEXT})*$`);
const QUOTED = /^"([^"\\\r\n]|\\[^\r\n])*"$/;
const LABEL = /^([A-Za-z0-9\u0080-\uFFFF]|[A-Za-z0-9\u0080-\uFFFF][A-Za-z0-9\u0080-\uFFFF-]{0,61}[A-Za-z0-9\u0080-\uFFFF])$/;
const IPV4_LITERAL = /^\[(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}\]$/;

/**
 * Why `address` cannot be a recipient (RFC 5321 mailbox syntax: a dot-atom or quoted local part
 * of at most 64 characters, and a domain of at least two valid labels or an IPv4 literal), or
 * undefined when it can. No server would ever accept such an address, so trying again is useless.
 */
export function recipientAddressProblem(address: string): string | undefined {
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) return `"${address}" is not local-part@domain`;
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  if (address.length > 254) return `"${address}" is longer than 254 characters`;
  if (local.length > 64) return `the local part of "${address}" is longer than 64 characters`;
  if (!DOT_ATOM.test(local) && !QUOTED.test(local)) return `the local part of "${address}" is not valid (characters, or dots at its ends or in a row)`;
  if (IPV4_LITERAL.test(domain)) return undefined;
  const labels = domain.split('.');
  if (labels.length < 2 || !labels.every((l) => LABEL.test(l))) return `the domain of "${address}" is not a valid host name`;
  return undefined;
}
