// Helpers the tests of the cache tier share (test/cacheTier*.int.test.ts).
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** How long a step may wait for what it waits for before it fails: far beyond any normal run. */
export const DEADLINE_MS = 20_000;

/** Polls `probe` every `everyMs` until it returns a value; fails naming `what` if the deadline passes first. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, everyMs = 100, deadlineMs = DEADLINE_MS): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const got = await probe();
    if (got !== undefined) return got;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${deadlineMs / 1000} s`);
    await new Promise((res) => setTimeout(res, everyMs));
  }
}

/** The `KEY:` line of every file in an nginx cache directory. */
export function cacheFileKeys(dir: string): string[] {
  const keys: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) keys.push(...cacheFileKeys(path));
    else keys.push(/\nKEY: ([^\n]*)\n/.exec(readFileSync(path).toString('latin1'))?.[1] ?? '');
  }
  return keys;
}
