import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { request } from 'undici';
import type { BenchRow } from './benchRow.ts';
import { adaOrder } from '../../../order-service/src/testing/adaOrder.ts';

export interface BenchOptions {
  /** Seconds per side per round of a throughput measurement. */
  readonly seconds: number;
  /** Rounds of A, B (the median of each side is reported). */
  readonly rounds: number;
  readonly connections: number;
}

/** BENCH_SECONDS, BENCH_ROUNDS and BENCH_CONNECTIONS override the defaults. */
export function benchOptions(env: NodeJS.ProcessEnv = process.env): BenchOptions {
  return {
    seconds: Number(env['BENCH_SECONDS'] ?? 3),
    rounds: Number(env['BENCH_ROUNDS'] ?? 2),
    connections: Number(env['BENCH_CONNECTIONS'] ?? 10),
  };
}

/** Where results and cached feeds live (gitignored). */
export const RESULTS_DIR = resolve(process.env['INIT_CWD'] ?? process.cwd(), 'bench-results');

export function scratchDir(name: string): { dir: string; remove(): void } {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const dir = mkdtempSync(join(RESULTS_DIR, `tmp-${name}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A valid POST /orders body (the example order). */
export const ORDER_BODY = JSON.stringify(adaOrder);

export async function placeOrders(baseUrl: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const res = await request(`${baseUrl}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: ORDER_BODY });
    const text = await res.body.text();
    if (res.statusCode !== 201) throw new Error(`POST /orders answered ${res.statusCode}: ${text.slice(0, 300)}`);
  }
}

export const ATOM_CLIENT = { accept: 'application/atom+xml', 'accept-encoding': 'gzip, br' } as const;

/** A higher-is-better row: passes when subject / baseline >= min. */
export function atLeast(name: string, subject: number, baseline: number, unit: string, min: number, note?: string): BenchRow {
  const ratio = subject / baseline;
  return { name, subject, baseline, unit, ratio, target: `>= ${min}`, pass: ratio >= min, ...(note ? { note } : {}) };
}

/** A lower-is-better row: passes when subject / baseline <= max. */
export function atMost(name: string, subject: number, baseline: number, unit: string, max: number, note?: string): BenchRow {
  const ratio = subject / baseline;
  return { name, subject, baseline, unit, ratio, target: `<= ${max}`, pass: ratio <= max, ...(note ? { note } : {}) };
}
