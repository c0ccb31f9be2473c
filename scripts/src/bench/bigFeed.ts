import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type Db, FeedStore, createLogger, migrate, openDatabase, shortHash } from '@shop/common';
import { createApp } from '../../../order-service/src/app.ts';
import { loadConfig } from '../../../order-service/src/config.ts';
import { migrations } from '../../../order-service/src/db/migrations.ts';
import { parseOrderRequest } from '../../../order-service/src/domain/parseOrderRequest.ts';
import { ORDER_BODY, RESULTS_DIR } from './benchOptions.ts';

/** Bump when the way rows are generated changes; the schema itself is hashed in. */
const GENERATOR_VERSION = 1;

export interface BigFeed {
  /** A DATA_DIR holding `orders.db`, ready for startOrderService. */
  readonly dataDir: string;
  readonly entries: number;
  readonly pageSize: number;
  /** Seconds spent building it now, or undefined when it came from the cache. */
  readonly builtInSeconds: number | undefined;
}

/**
 * An order-service database whose feed holds `entries` real OrderPlaced entries, cut into pages
 * of `pageSize`. Cached under bench-results/ keyed by the schema (every migration's id and SQL),
 * so a rerun reuses it and a schema change rebuilds it.
 *
 * Built by a direct bulk INSERT into feed_entries and feed_pages in one transaction, with rows
 * shaped exactly as FeedStore.append writes them (measured: see the timings printed with --compare).
 */
export function bigFeed(entries: number, pageSize: number, log: (line: string) => void = () => undefined): BigFeed {
  const schema = shortHash(String(GENERATOR_VERSION), ...migrations.flatMap((m) => [m.id, m.sql])).slice(0, 10);
  const dataDir = join(RESULTS_DIR, 'cache', `feed-${entries}x${pageSize}-${schema}`);
  if (existsSync(join(dataDir, 'orders.db'))) return { dataDir, entries, pageSize, builtInSeconds: undefined };
  const building = `${dataDir}.building`;
  rmSync(building, { recursive: true, force: true });
  mkdirSync(building, { recursive: true });
  const started = performance.now();
  log(`building a ${entries.toLocaleString('en')}-entry feed in ${dataDir} (cached for later runs)...`);
  const db = openDatabase(join(building, 'orders.db'));
  try {
    migrate(db, migrations);
    bulkInsert(db, entries, pageSize);
  } finally {
    db.close();
  }
  renameSync(building, dataDir);
  const builtInSeconds = (performance.now() - started) / 1000;
  log(`built in ${builtInSeconds.toFixed(1)} s`);
  return { dataDir, entries, pageSize, builtInSeconds };
}

/** One real entry as FeedStore stores it, from the real domain and feed code (in memory). */
export function templateEntry(): { orderId: string; body: string; type: string } {
  const db = openDatabase(':memory:');
  try {
    migrate(db, migrations);
    const config = loadConfig({ DATA_DIR: '/nonexistent', PUBLIC_URL: 'http://bench.invalid' });
    const { orders } = createApp({ db, config, logger: createLogger({}, 'silent'), newOrderId: () => 'ORD-AAAAA-AAAAA' });
    const parsed = JSON.parse(ORDER_BODY) as Record<string, unknown>;
    // Placing through the app's own store gives the exact entry a POST would give.
    const r = parseOrderRequest(parsed);
    if (!r.ok) throw new Error(`the bench order body is not valid: ${JSON.stringify(r.errors)}`);
    orders.place({ type: 'PlaceOrder', orderId: 'ORD-AAAAA-AAAAA', at: new Date(0).toISOString(), ...r.value });
    const row = db.prepare<[], { order_id: string; type: string; body: string }>('SELECT order_id, type, body FROM feed_entries').get()!;
    return { orderId: row.order_id, body: row.body, type: row.type };
  } finally {
    db.close();
  }
}

export function bulkInsert(db: Db, entries: number, pageSize: number): void {
  const t = templateEntry();
  // FeedStore creates the feed's identity and page 1; the bulk insert then writes what
  // `entries` appends would have written.
  new FeedStore(db, { pageSize });
  const insertEntry = db.prepare('INSERT INTO feed_entries (position, key, type, order_id, updated, body) VALUES (?, ?, ?, ?, ?, ?)');
  const insertPage = db.prepare('INSERT INTO feed_pages (page, first_position, capacity, sealed_at) VALUES (?, ?, ?, ?)');
  const startMs = Date.parse('2025-01-01T00:00:00.000Z');
  // A throwaway file being built (renamed into place only when complete): no journal needed.
  db.pragma('journal_mode = OFF');
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -262144');
  db.transaction(() => {
    db.exec('DELETE FROM feed_pages');
    for (let p = 1; p <= entries; p++) {
      const orderId = benchOrderId(p);
      insertEntry.run(p, benchKey(p), t.type, orderId, new Date(startMs + p * 10).toISOString(), t.body.replaceAll(t.orderId, orderId));
    }
    const pages = Math.ceil(entries / pageSize);
    for (let n = 1; n <= pages; n++) {
      const last = Math.min(n * pageSize, entries);
      // Every page but the newest is sealed (the next append sealed it), as FeedStore would leave it.
      insertPage.run(n, (n - 1) * pageSize + 1, pageSize, n < pages ? new Date(startMs + last * 10 + 5).toISOString() : null);
    }
  }).immediate();
  db.pragma('journal_mode = WAL');
}

function benchKey(p: number): string {
  return `00000000-0000-4000-8000-${p.toString(16).padStart(12, '0')}`;
}

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
function benchOrderId(p: number): string {
  let chars = '';
  for (let i = 0, n = p; i < 10; i++, n = Math.floor(n / 32)) chars += ALPHABET[n % 32];
  return `ORD-${chars.slice(0, 5)}-${chars.slice(5)}`;
}
