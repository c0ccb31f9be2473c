import { watch } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { createTestDatabase, stopTestCluster } from '@shop/common/testing';
import { LocalSystem, type ServiceName } from '../system/localSystem.ts';
import type { BenchRow } from './benchRow.ts';
import { type BenchOptions, ORDER_BODY, scratchDir } from './benchOptions.ts';

const ORDERS = Number(process.env['BENCH_E2E_ORDERS'] ?? 300);
const RATE = Number(process.env['BENCH_E2E_RATE'] ?? 20);
const WARMUP = 20;

interface Latencies { readonly p50: number; readonly p99: number; readonly count: number }

/**
 * Row 5: the four services as separate processes; orders are placed at a steady rate and each
 * is timed from the start of its POST /orders to its confirmation .eml appearing on disk,
 * which takes order -> billing (auto capture) -> shipping -> notification. Once with long
 * polling everywhere, once with plain polling (a poll every 500 ms to 1 s).
 */
export async function benchEndToEnd(_o: BenchOptions, log: (line: string) => void): Promise<BenchRow[]> {
  const longPoll = await measure('long', { CONSUMER_LONG_POLL: '30', LONG_POLL_SECONDS: '30', POLL_SCHEDULE: '1s' }, 4401, log);
  const plain = await measure('plain', { CONSUMER_LONG_POLL: '0', LONG_POLL_SECONDS: '0', POLL_SCHEDULE: '1s' }, 4411, log);
  const note = `${ORDERS} orders at ${RATE}/s after ${WARMUP} untimed; p99 ${longPoll.p99.toFixed(0)} ms long polling, ${plain.p99.toFixed(0)} ms plain; ${longPoll.count}/${plain.count} confirmations timed`;
  return [{
    name: '5. POST /orders to confirmation .eml, p50: long polling vs plain polling',
    subject: longPoll.p50, baseline: plain.p50, unit: 'ms', ratio: longPoll.p50 / plain.p50,
    target: 'p50 <= 100 ms with long polling', pass: longPoll.p50 <= 100 && longPoll.count === ORDERS, note,
  }];
}

/**
 * Row 9: row 5's long-polling run with the three publishers (order, billing, shipping) on
 * PostgreSQL, a database each on one throwaway server with PostgreSQL's durable defaults (every
 * commit waits for its WAL flush), and notification on SQLite; side by side with all on SQLite.
 */
export async function benchEndToEndPg(_o: BenchOptions, log: (line: string) => void): Promise<BenchRow[]> {
  process.env['PG_TEST_DURABLE'] = '1';
  try {
    const databaseUrls: Partial<Record<ServiceName, string>> = {};
    for (const name of ['order-service', 'billing-service', 'shipping-service'] as const) databaseUrls[name] = await createTestDatabase();
    const env = { CONSUMER_LONG_POLL: '30', LONG_POLL_SECONDS: '30', POLL_SCHEDULE: '1s' };
    const pg = await measure('long-pg', env, 4421, log, databaseUrls);
    const sqlite = await measure('long', env, 4431, log);
    const note = `${ORDERS} orders at ${RATE}/s after ${WARMUP} untimed, long polling; p99 ${pg.p99.toFixed(0)} ms on PostgreSQL, ${sqlite.p99.toFixed(0)} ms on SQLite; ${pg.count}/${sqlite.count} confirmations timed`;
    return [{
      name: '9. POST /orders to confirmation .eml, p50: order, billing and shipping on PostgreSQL vs on SQLite (long polling)',
      subject: pg.p50, baseline: sqlite.p50, unit: 'ms', ratio: pg.p50 / sqlite.p50,
      target: 'p50 <= 100 ms on PostgreSQL', pass: pg.p50 <= 100 && pg.count === ORDERS, note,
    }];
  } finally {
    await stopTestCluster();
  }
}

/**
 * Row 10: row 9 again with the notification service on PostgreSQL too (one instance owning every
 * partition: each feed read into the partitions' inbox, then applied by the partition, the outbox
 * claimed row by row), side by side with notification on SQLite: what the shared database and
 * the extra hop cost an order's confirmation.
 */
export async function benchEndToEndPgNotification(_o: BenchOptions, log: (line: string) => void): Promise<BenchRow[]> {
  process.env['PG_TEST_DURABLE'] = '1';
  try {
    const publishers: Partial<Record<ServiceName, string>> = {};
    for (const name of ['order-service', 'billing-service', 'shipping-service'] as const) publishers[name] = await createTestDatabase();
    const all = { ...publishers, 'notification-service': await createTestDatabase() };
    const env = { CONSUMER_LONG_POLL: '30', LONG_POLL_SECONDS: '30', POLL_SCHEDULE: '1s' };
    const pg = await measure('long-pg-all', env, 4441, log, all);
    const sqlite = await measure('long-pg-publishers', env, 4451, log, publishers);
    const note = `${ORDERS} orders at ${RATE}/s after ${WARMUP} untimed, long polling, publishers on PostgreSQL in both; p99 ${pg.p99.toFixed(0)} ms with notification on PostgreSQL, ${sqlite.p99.toFixed(0)} ms on SQLite; ${pg.count}/${sqlite.count} confirmations timed`;
    return [{
      name: '10. POST /orders to confirmation .eml, p50: notification on PostgreSQL (partitions) vs on SQLite, publishers on PostgreSQL',
      subject: pg.p50, baseline: sqlite.p50, unit: 'ms', ratio: pg.p50 / sqlite.p50,
      target: 'ratio <= 1.5 (the partitions\' hop and the shared outbox add at most half)', pass: pg.p50 / sqlite.p50 <= 1.5 && pg.count === ORDERS, note,
    }];
  } finally {
    await stopTestCluster();
  }
}

async function measure(label: string, env: Record<string, string>, basePort: number, log: (line: string) => void, databaseUrls?: Partial<Record<ServiceName, string>>): Promise<Latencies> {
  const scratch = scratchDir(`e2e-${label}`);
  const system = new LocalSystem({ dataDir: scratch.dir, basePort, databaseUrls, env: { ...env, SHIPPING_AUTO_DISPATCH: '0', LOG_LEVEL: 'warn' } });
  try {
    await system.startAll();
    const outbox = join(system.dataDirOf('notification-service'), 'outbox');
    const seen = new Map<string, number>();
    const { mkdirSync } = await import('node:fs');
    mkdirSync(outbox, { recursive: true });
    const watcher = watch(outbox, (_event, file) => {
      const m = file ? /^\d+-confirmation-(.+)\.eml$/.exec(String(file)) : null;
      if (m && !seen.has(m[1]!)) seen.set(m[1]!, performance.now());
    });
    // Warm up first (JIT, SQLite caches, keep-alive connections in all four processes), untimed.
    for (let i = 0; i < WARMUP; i++) {
      const res = await request(`${system.urls['order-service']}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: ORDER_BODY });
      await res.body.dump();
    }
    const warmDeadline = performance.now() + 30_000;
    while (seen.size < WARMUP && performance.now() < warmDeadline) await new Promise((r) => setTimeout(r, 50));
    seen.clear();
    const sentAt = new Map<string, number>();
    const started = performance.now();
    for (let i = 0; i < ORDERS; i++) {
      const wait = started + (i * 1000) / RATE - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const t = performance.now();
      const res = await request(`${system.urls['order-service']}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: ORDER_BODY });
      const body = (await res.body.json()) as { id: string };
      sentAt.set(body.id.replace(/[^A-Za-z0-9_-]/g, '_'), t);
    }
    const deadline = performance.now() + 60_000;
    while (seen.size < ORDERS && performance.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    watcher.close();
    const latencies = [...sentAt].flatMap(([id, t]) => (seen.has(id) ? [seen.get(id)! - t] : [])).sort((a, b) => a - b);
    const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
    const result = { p50: at(0.5), p99: at(0.99), count: latencies.length };
    log(`  ${label} polling: p50 ${result.p50.toFixed(1)} ms, p99 ${result.p99.toFixed(1)} ms over ${result.count} orders`);
    return result;
  } finally {
    await system.stopAll();
    scratch.remove();
  }
}
