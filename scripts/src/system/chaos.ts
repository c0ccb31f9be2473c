import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { request } from 'undici';
import { ArchiveWitness, walkFeed } from './feedAudit.ts';
import { LocalSystem, SERVICE_NAMES, type ServiceName } from './localSystem.ts';

export interface ChaosOptions {
  readonly orders: number;
  readonly dataDir: string;
  readonly basePort: number;
  /** About how often a random service is SIGKILLed (and restarted). */
  readonly killEveryMs: number;
  /** How many clients place orders at once. */
  readonly concurrency: number;
  /** Orders per second at most, so that the kills land while orders flow. */
  readonly ratePerSecond: number;
  /** Every how many orders one is cancelled right after it is placed. */
  readonly cancelEvery: number;
  /** The longest wait for the system to settle once the orders are in. */
  readonly settleTimeoutMs: number;
  readonly log: (line: string) => void;
}

export interface ChaosReport {
  readonly ok: boolean;
  readonly problems: readonly string[];
  readonly counts: Record<string, number>;
}

interface Placed { readonly id: string; readonly physical: boolean; cancelled: boolean }

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Places orders while killing random services with SIGKILL and restarting them, waits until the
 * system is quiet, then checks that nothing was lost, doubled, reordered or rewritten.
 */
export async function runChaos(o: ChaosOptions): Promise<ChaosReport> {
  const system = new LocalSystem({
    dataDir: o.dataDir, basePort: o.basePort,
    env: { FEED_PAGE_SIZE: '25', SHIPPING_AUTO_DISPATCH_DELAY: '0', POLL_SCHEDULE: '250ms', CONSUMER_LONG_POLL: '5', LONG_POLL_SECONDS: '5' },
  });
  const witness = new ArchiveWitness();
  const counts: Record<string, number> = { kills: 0, orders: 0, cancelled: 0, retriedRequests: 0 };
  await system.startAll();
  o.log(`started the four services on ports ${o.basePort}-${o.basePort + 3}, data in ${o.dataDir}`);
  try {
    let placing = true;
    const restarts: Promise<void>[] = [];
    const killer = (async () => {
      while (placing) {
        await sleep(o.killEveryMs * (0.5 + Math.random()));
        const running = SERVICE_NAMES.filter((n) => system.isUp(n));
        if (!placing || running.length === 0) continue;
        const victim = running[Math.floor(Math.random() * running.length)]!;
        await system.kill(victim);
        counts['kills']! += 1;
        // Restart in the background, so the next kill may land while this one is still coming up.
        restarts.push(sleep(100 + Math.random() * 400).then(() => restart(system, victim, counts)));
      }
    })();
    const watcher = (async () => {
      while (placing) {
        await sleep(1500);
        await recordArchives(system, witness).catch(() => undefined);
      }
    })();

    const placed: Placed[] = [];
    let next = 0;
    const startedAt = Date.now();
    let lastLogged = 0;
    const client = async (): Promise<void> => {
      while (next < o.orders) {
        const n = next++;
        await sleep(startedAt + (n * 1000) / o.ratePerSecond - Date.now());
        const order = orderBody(n);
        const id = await retry(counts, () => post(`${system.urls['order-service']}/orders`, order, randomUUIDKey(n)), [201]);
        const p: Placed = { id: id.body.id, physical: order.lines.some((l) => l.delivery === 'physical'), cancelled: false };
        placed.push(p);
        if (n % o.cancelEvery === o.cancelEvery - 1) {
          await retry(counts, () => post(`${system.urls['order-service']}/orders/${p.id}/cancel`, { reason: 'chaos' }), [200, 409]);
          p.cancelled = true;
        }
        if (placed.length % 100 === 0 && placed.length !== lastLogged) {
          lastLogged = placed.length;
          o.log(`  ${placed.length}/${o.orders} orders placed, ${counts['kills']} kills so far`);
        }
      }
    };
    await Promise.all(Array.from({ length: o.concurrency }, client));
    placing = false;
    await killer;
    await watcher;
    await Promise.all(restarts);
    for (const name of SERVICE_NAMES) if (!system.isRunning(name)) await system.start(name);
    counts['orders'] = placed.length;
    counts['cancelled'] = placed.filter((p) => p.cancelled).length;
    o.log(`placed ${placed.length} orders (${counts['cancelled']} cancelled) through ${counts['kills']} kills; waiting for the system to settle...`);

    await settle(system, placed, o);
    const problems = await audit(system, placed, witness, counts);
    await system.stopAll();
    problems.push(...dualWriteProblems(system, counts));
    return { ok: problems.length === 0, problems, counts };
  } finally {
    await system.stopAll();
  }
}

/** Starts a killed service again; a failed start is retried, and counted. */
async function restart(system: LocalSystem, name: ServiceName, counts: Record<string, number>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await system.start(name);
      return;
    } catch (err) {
      counts['failed restarts'] = (counts['failed restarts'] ?? 0) + 1;
      if (attempt >= 5) throw err;
      await sleep(500);
    }
  }
}

/** Keys derive from the order number, so a retried POST after a kill is the same request. */
function randomUUIDKey(n: number): string {
  return `chaos-${process.pid}-${n}-${KEY_SALT}`;
}
const KEY_SALT = randomUUID().slice(0, 8);

function orderBody(n: number) {
  const digital = n % 4 === 1;
  return {
    customer: { name: n % 7 === 3 ? `<script>alert(${n})</script> & "Bob"` : `Customer ${n}`, email: `c${n}@example.com` },
    currency: n % 3 === 0 ? 'EUR' : 'GBP',
    lines: digital
      ? [{ sku: 'EBOOK-1', name: 'An eBook', quantity: 1, unitPrice: '4.99', delivery: 'digital' as const }]
      : [{ sku: 'BOOK-1', name: 'A book', quantity: 1 + (n % 3), unitPrice: '12.50', delivery: 'physical' as const },
        { sku: 'MUG-1', name: 'A mug', quantity: 1, unitPrice: '8.00', delivery: 'physical' as const }],
    shippingAddress: digital ? null : n % 3 === 0
      ? { line1: 'Unter den Linden 1', city: 'Berlin', postalCode: '10117', country: 'DE' }
      : { line1: '12 St James\'s Square', city: 'London', postalCode: 'SW1Y 4JH', country: 'GB' },
  };
}

async function post(url: string, body: unknown, idempotencyKey?: string): Promise<{ status: number; body: any }> {
  const res = await request(url, {
    method: 'POST', headersTimeout: 10_000, bodyTimeout: 10_000,
    headers: { 'content-type': 'application/json', ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}) },
    body: JSON.stringify(body),
  });
  const text = await res.body.text();
  return { status: res.statusCode, body: text ? JSON.parse(text) : undefined };
}

/** Retries through kills: a connection error or 5xx means "try the same request again". */
async function retry(counts: Record<string, number>, send: () => Promise<{ status: number; body: any }>, ok: number[]): Promise<{ status: number; body: any }> {
  for (let attempt = 0; attempt < 200; attempt++) {
    try {
      const r = await send();
      if (ok.includes(r.status)) return r;
      if (r.status < 500) throw new Error(`refused with ${r.status}: ${JSON.stringify(r.body)}`);
    } catch (err) {
      if ((err as Error).message.startsWith('refused')) throw err;
    }
    counts['retriedRequests']! += 1;
    await sleep(100 + attempt * 20);
  }
  throw new Error('gave up after 200 attempts');
}

async function recordArchives(system: LocalSystem, witness: ArchiveWitness): Promise<void> {
  for (const name of ['order-service', 'billing-service', 'shipping-service'] as const) {
    if (system.isRunning(name)) witness.record((await walkFeed(`${system.urls[name]}/feed`)).archives);
  }
}

interface Status { feeds: { name: string; behind: number; position: number; parked: unknown[] }[]; outbox: { total: number; unsent: number } }

/** Waits until every consumer has read every feed to its end and the outbox is empty, twice in a row. */
async function settle(system: LocalSystem, placed: readonly Placed[], o: ChaosOptions): Promise<void> {
  const deadline = Date.now() + o.settleTimeoutMs;
  let quietChecks = 0;
  let lastHeads = '';
  while (Date.now() < deadline) {
    await sleep(1000);
    try {
      const heads = await Promise.all((['order-service', 'billing-service', 'shipping-service'] as const).map(async (n) => (await walkFeedHead(system, n))));
      const res = await request(`${system.urls['notification-service']}/status`, { headers: { accept: 'application/json' } });
      const status = (await res.body.json()) as Status;
      const caughtUp = status.feeds.every((f, i) => f.behind === 0 && f.position === heads[i]) && status.outbox.unsent === 0;
      const key = heads.join(',');
      quietChecks = caughtUp && key === lastHeads ? quietChecks + 1 : 0;
      lastHeads = key;
      if (quietChecks >= 3) return;
    } catch { quietChecks = 0; }
  }
  o.log(`the system did not settle within ${o.settleTimeoutMs} ms (${placed.length} orders); auditing what is there`);
}

async function walkFeedHead(system: LocalSystem, name: ServiceName): Promise<number> {
  const walk = await walkFeed(`${system.urls[name]}/feed`);
  return walk.entries.length;
}

async function audit(system: LocalSystem, placed: readonly Placed[], witness: ArchiveWitness, counts: Record<string, number>): Promise<string[]> {
  const problems: string[] = [];
  const feeds = {
    orders: await walkFeed(`${system.urls['order-service']}/feed`),
    billing: await walkFeed(`${system.urls['billing-service']}/feed`),
    shipping: await walkFeed(`${system.urls['shipping-service']}/feed`),
  };
  for (const [name, walk] of Object.entries(feeds)) {
    problems.push(...walk.problems);
    witness.record(walk.archives);
    counts[`${name} feed entries`] = walk.entries.length;
  }
  problems.push(...witness.problems);
  counts['archive pages hashed'] = witness.count;

  const perOrder = (walk: typeof feeds.orders, type: string) => {
    const m = new Map<string, number>();
    for (const e of walk.entries) if (e.type === type) m.set(e.orderId, (m.get(e.orderId) ?? 0) + 1);
    return m;
  };
  const placedEntries = perOrder(feeds.orders, 'OrderPlaced');
  const paid = perOrder(feeds.billing, 'PaymentReceived');
  const applied: [string, Map<string, number>][] = [
    ['OrderPlaced', placedEntries], ['OrderCancelled', perOrder(feeds.orders, 'OrderCancelled')],
    ['InvoiceIssued', perOrder(feeds.billing, 'InvoiceIssued')], ['PaymentReceived', paid],
    ['ShipmentScheduled', perOrder(feeds.shipping, 'ShipmentScheduled')], ['DigitalDeliveryReady', perOrder(feeds.shipping, 'DigitalDeliveryReady')],
    ['ShipmentDispatched', perOrder(feeds.shipping, 'ShipmentDispatched')],
  ];
  for (const [type, m] of applied) {
    for (const [orderId, n] of m) if (n > 1) problems.push(`${type} appears ${n} times for ${orderId} (an entry applied twice, or a POST doubled)`);
  }
  if (placedEntries.size !== placed.length) problems.push(`the order feed has ${placedEntries.size} orders; ${placed.length} were placed`);

  const emails = readOutbox(system.dataDirOf('notification-service'));
  counts['confirmation emails'] = [...emails.values()].filter((e) => e.kind === 'confirmation').length;
  counts['dispatch emails'] = [...emails.values()].filter((e) => e.kind === 'dispatched').length;
  let expectedConfirmations = 0;
  for (const p of placed) {
    const got = (kind: string) => emails.get(`${kind}/${p.id}`)?.files ?? 0;
    if (got('confirmation') > 1 || got('dispatched') > 1) problems.push(`${p.id} got ${got('confirmation')} confirmations and ${got('dispatched')} dispatch emails`);
    if (p.cancelled || !paid.has(p.id)) continue;
    expectedConfirmations++;
    if (got('confirmation') !== 1) problems.push(`${p.id} (paid, not cancelled) got ${got('confirmation')} confirmation emails`);
    if (got('dispatched') !== (p.physical ? 1 : 0)) problems.push(`${p.id} (paid, not cancelled, ${p.physical ? 'physical' : 'digital only'}) got ${got('dispatched')} dispatch emails`);
  }
  counts['paid, uncancelled orders'] = expectedConfirmations;
  const unpaid = placed.filter((p) => !p.cancelled && !paid.has(p.id)).length;
  if (unpaid > 0) problems.push(`${unpaid} uncancelled orders were never paid (auto capture lost them?)`);
  return problems;
}

/** Outbox .eml files by `kind/orderId`, counting distinct Message-IDs per pair. */
function readOutbox(dataDir: string): Map<string, { kind: string; files: number }> {
  const out = new Map<string, { kind: string; files: number; ids: Set<string> }>();
  let names: string[] = [];
  try { names = readdirSync(join(dataDir, 'outbox')).filter((f) => f.endsWith('.eml')); } catch { /* none yet */ }
  for (const f of names) {
    const raw = readFileSync(join(dataDir, 'outbox', f), 'utf8');
    const messageId = /^Message-ID:\s*(\S+)/im.exec(raw)?.[1] ?? f;
    const m = /^\d+-(confirmation|dispatched)-(.+)\.eml$/.exec(f);
    if (!m) continue;
    const key = `${m[1]}/${m[2]}`;
    const entry = out.get(key) ?? { kind: m[1]!, files: 0, ids: new Set<string>() };
    if (!entry.ids.has(messageId)) { entry.ids.add(messageId); entry.files++; }
    out.set(key, entry);
  }
  return out;
}

/** In each publishing service's database, every event has its feed entry and vice versa. */
function dualWriteProblems(system: LocalSystem, counts: Record<string, number>): string[] {
  const problems: string[] = [];
  const files: [ServiceName, string][] = [['order-service', 'orders.db'], ['billing-service', 'billing.db'], ['shipping-service', 'shipping.db']];
  for (const [name, file] of files) {
    let db: Database.Database | undefined;
    try {
      db = new Database(join(system.dataDirOf(name), file), { readonly: true, fileMustExist: true });
      const hasEvents = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'").get();
      if (!hasEvents) continue;
      // Some events are private bookkeeping (shipping notes what it read); every published type
      // must have exactly one entry per event.
      const rows = db.prepare(`SELECT f.type, f.n AS entries, (SELECT count(*) FROM events e WHERE e.type = f.type) AS events
        FROM (SELECT type, count(*) AS n FROM feed_entries GROUP BY type) f`).all() as { type: string; entries: number; events: number }[];
      counts[`${name} events published`] = rows.reduce((sum, r) => sum + r.events, 0);
      for (const r of rows) if (r.events !== r.entries) problems.push(`${name}: ${r.events} ${r.type} events but ${r.entries} feed entries`);
    } catch (err) {
      problems.push(`${name}: could not read ${file}: ${(err as Error).message}`);
    } finally {
      db?.close();
    }
  }
  return problems;
}
