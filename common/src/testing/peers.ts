import type { Context } from 'mocha';

/** A program from outside npm that a test runs as a real peer (a Debian package, say). */
export interface Peer {
  /** What to install, as the package manager names it: `nginx`, `python3-feedparser`. */
  readonly name: string;
  /** True when the peer is usable on this machine. */
  readonly check: () => boolean | Promise<boolean>;
  /** The command that installs it, e.g. `apt-get install nginx`. */
  readonly install: string;
}

/**
 * Where a skipped suite keeps the reason, for the summary reporter
 * (scripts/mocha-summary-reporter.cjs), which prints it under the suite and before the
 * closing line. A symbol from the global registry, so the CommonJS reporter finds it too.
 */
export const SKIP_REASON = Symbol.for('atom-shop.skipReason');

/** True when the environment says this is a CI run (`CI=true`, or `CI=1`). */
export function isCi(env: NodeJS.ProcessEnv = process.env): boolean {
  return /^(true|1)$/i.test(env['CI'] ?? '');
}

/**
 * Call in a suite's `before` hook (`await requirePeer(this, peer)`). When the peer is missing,
 * the suite is skipped (every test in it counts as skipped) with a note naming the package to
 * install; under `CI=true` the hook fails instead, naming it, so CI still proves everything.
 */
export async function requirePeer(ctx: Context, peer: Peer, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (await peer.check()) return;
  const reason = `${peer.name} is not installed (${peer.install}, or bash .ci/run)`;
  if (isCi(env)) throw new Error(`${reason}; CI=true, so a missing peer fails the run instead of skipping`);
  const suite = ctx.runnable()?.parent as (object & { [SKIP_REASON]?: string }) | undefined;
  if (suite) suite[SKIP_REASON] = reason;
  ctx.skip();
}
