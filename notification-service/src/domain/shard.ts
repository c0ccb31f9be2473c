import { createHash } from 'node:crypto';

/** Which slice of the orders one instance acts on: `index` of `count` (`SHARD=index/count`). */
export interface Shard {
  readonly index: number;
  readonly count: number;
}

/** One instance that owns every order (`SHARD=0/1`), the default. */
export const WHOLE: Shard = Object.freeze({ index: 0, count: 1 });

/** A bound that keeps `2^32 mod count` bias negligible and catches typos such as `0/20000`. */
export const MAX_SHARDS = 1024;

export type ShardParse = { readonly ok: true; readonly shard: Shard } | { readonly ok: false; readonly reason: string };

/** Reads `i/N`: whole numbers, `N` from 1 to MAX_SHARDS, `0 <= i < N`. */
export function parseShard(raw: string): ShardParse {
  const m = /^(\d{1,4})\/(\d{1,4})$/.exec(raw);
  if (!m) return { ok: false, reason: `must look like i/N, e.g. 0/2 for the first of two instances, got "${raw}"` };
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || count > MAX_SHARDS) return { ok: false, reason: `N must be from 1 to ${MAX_SHARDS}, got "${raw}"` };
  if (index >= count) return { ok: false, reason: `i must be from 0 to N-1 (shards are numbered from 0), got "${raw}"` };
  return { ok: true, shard: { index, count } };
}

export function formatShard(s: Shard): string {
  return `${s.index}/${s.count}`;
}

/**
 * The shard an order belongs to among `count`: the first 4 bytes of SHA-256 over the order id's
 * UTF-8 bytes, read as a big-endian unsigned 32-bit integer, modulo `count`. It depends on
 * nothing but the id's bytes, so every process, version and platform agrees; changing it (or N)
 * moves orders to other owners, see the README's "Running several instances".
 */
export function shardOf(orderId: string, count: number): number {
  return createHash('sha256').update(orderId, 'utf8').digest().readUInt32BE(0) % count;
}

/** True when this instance acts on the order; every other instance ignores it. */
export function ownsOrder(shard: Shard, orderId: string): boolean {
  return shard.count === 1 || shardOf(orderId, shard.count) === shard.index;
}
