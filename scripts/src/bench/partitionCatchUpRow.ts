import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { readFeedDocument } from '@shop/common';
import { openPgPool, type PgPool } from '@shop/common/pg';
import { createTestDatabase, stopTestCluster, testCluster } from '@shop/common/testing';
import { sampleOrderIds } from '../../../notification-service/src/testing/orderIds.ts';
import { type InstanceStatus, type ServiceProcess, startServiceProcess } from '../../../notification-service/src/testing/serviceProcess.ts';
import { type ShopFeeds, startShopFeeds } from '../../../notification-service/src/testing/shopFeeds.ts';
import type { BenchRow } from './benchRow.ts';
import { type BenchOptions, scratchDir } from './benchOptions.ts';

const ORDERS = Number(process.env['BENCH_PARTITION_ORDERS'] ?? 20_000);
const PARTITIONS = 16;
/** The producers' default FEED_PAGE_SIZE. */
const PAGE_SIZE = 100;
const SIDE_TIMEOUT_MS = Number(process.env['BENCH_PARTITION_TIMEOUT_SECONDS'] ?? 420) * 1000;
const TICK_MS = 250;

interface Side {
  readonly seconds: number;
  /** Spawn to the last instance's `listening` line. */
  readonly readySeconds: number;
  readonly peakRssMb: Record<string, number>;
  readonly partitions: Record<string, number>;
  /** The feeds each instance read at the end (leadership). */
  readonly leads: Record<string, string[]>;
  /** CPU seconds while the side ran: each instance, the PostgreSQL server, this process (the feeds), and the machine's busy share. */
  readonly cpu: { readonly instances: Record<string, number>; readonly postgres: number; readonly bench: number; readonly busy: number };
}

/**
 * Row 11: the notification service on PostgreSQL catching up from zero on real feeds (the
 * producers' contract examples, N orders each placed, paid and scheduled: 3N entries over three
 * feeds, pages of 100), three instances on one database (each leads a feed or two, owns about a
 * third of the 16 partitions, and the partitions re-balance while they start) vs one instance
 * owning all. Timed from spawning the processes until the N confirmations are all in the outbox.
 * PostgreSQL has its durable defaults (every partition commit waits for its WAL flush).
 *
 * SMTP_URL is a closed port: the row measures deciding and queueing, not delivery. The first
 * try per instance is refused at once, charges the email nothing and backs the transport off
 * (30 s, then 60 s, ...); meanwhile the sender returns before reading the outbox, so a wake per
 * queued email costs next to nothing and no SMTP work lands in either side's time. A real mail
 * peer would make the three instances race one peer for the same rows instead.
 */
export async function benchPartitionCatchUpRow(_o: BenchOptions, log: (line: string) => void): Promise<BenchRow[]> {
  const durable = process.env['PG_TEST_DURABLE'];
  process.env['PG_TEST_DURABLE'] = '1';
  const scratch = scratchDir('partition-catch-up');
  let feeds: ShopFeeds | undefined;
  try {
    feeds = await startShopFeeds(PAGE_SIZE);
    const ids = sampleOrderIds(ORDERS, 'bench-11');
    let t = performance.now();
    for (const id of ids) { feeds.place(id); feeds.pay(id); feeds.schedule(id); }
    log(`  (${ORDERS.toLocaleString('en')} orders appended to three feeds in ${((performance.now() - t) / 1000).toFixed(1)} s)`);
    // The publisher stores each archive page's rendition once made: walked once here, both sides get the same stored pages.
    t = performance.now();
    for (const f of [feeds.orders, feeds.billing, feeds.shipping]) {
      const got = await walk(f.feedUrl);
      if (got !== ORDERS) throw new Error(`${f.feedUrl} holds ${got} entries, expected ${ORDERS}`);
    }
    log(`  (feeds walked once to render their archives: ${((performance.now() - t) / 1000).toFixed(1)} s)`);
    const smtpUrl = `smtp://127.0.0.1:${await closedPort()}`;
    const three = await side('three', ['a', 'b', 'c'], feeds, ids, smtpUrl, scratch.dir, log);
    const one = await side('one', ['solo'], feeds, ids, smtpUrl, scratch.dir, log);
    const entries = 3 * ORDERS;
    const [a, b] = [entries / three.seconds, entries / one.seconds];
    const rss = (s: Side) => Object.entries(s.peakRssMb).map(([n, mb]) => `${n} ${mb.toFixed(0)}`).join(', ');
    // All the CPU a side used spread over every core: no side can finish sooner than that.
    const floor = (s: Side) => (Object.values(s.cpu.instances).reduce((t, c) => t + c, 0) + s.cpu.postgres + s.cpu.bench) / availableParallelism();
    const cpu = (s: Side) => `instances ${Object.values(s.cpu.instances).map((c) => c.toFixed(0)).join('+')} s, PostgreSQL ${s.cpu.postgres.toFixed(0)} s, feeds ${s.cpu.bench.toFixed(0)} s, `
      + `machine ${(s.cpu.busy * 100).toFixed(0)}% busy, all of it over ${availableParallelism()} cores ${floor(s).toFixed(0)} s`;
    return [{
      name: `11. Notification catch-up from zero on PostgreSQL, ${ORDERS.toLocaleString('en')} orders (${entries.toLocaleString('en')} entries over three feeds): three instances vs one`,
      subject: a, baseline: b, unit: 'entries/s', ratio: a / b,
      target: 'ratio >= 1.0 (three instances at least as fast as one on 2 cores; more with more cores)', pass: a / b >= 1.0,
      note: `${three.seconds.toFixed(1)} s vs ${one.seconds.toFixed(1)} s from spawn to ${ORDERS} confirmations queued (ready after ${three.readySeconds.toFixed(1)} / ${one.readySeconds.toFixed(1)} s); `
        + `peak RSS (VmHWM) MB: ${rss(three)} vs ${rss(one)}; partitions owned at the end ${JSON.stringify(three.partitions)}, feeds read ${JSON.stringify(three.leads)}; `
        + `CPU: ${cpu(three)} vs ${cpu(one)}; ${PARTITIONS} partitions, feed pages of ${PAGE_SIZE}, fsync on, SMTP unreachable (nothing sent)`,
    }];
  } finally {
    await feeds?.close();
    await stopTestCluster();
    scratch.remove();
    if (durable === undefined) delete process.env['PG_TEST_DURABLE'];
    else process.env['PG_TEST_DURABLE'] = durable;
  }
}

async function side(label: string, names: readonly string[], feeds: ShopFeeds, ids: readonly string[], smtpUrl: string, dir: string, log: (line: string) => void): Promise<Side> {
  const url = await createTestDatabase();
  const pool = openPgPool(url, { applicationName: 'bench', max: 1 });
  const started: ServiceProcess[] = [];
  try {
    const cpuBefore = machineCpu();
    const benchBefore = process.cpuUsage();
    const postgres = new Map<number, number>();
    const t0 = performance.now();
    const spawned = await Promise.allSettled(names.map((name) => startServiceProcess(name, {
      DATABASE_URL: url, PARTITIONS: String(PARTITIONS), INSTANCE_NAME: name, PORT: '0', HOST: '127.0.0.1', DATA_DIR: join(dir, `${label}-${name}`),
      ORDER_FEED_URL: feeds.orders.feedUrl, BILLING_FEED_URL: feeds.billing.feedUrl, SHIPPING_FEED_URL: feeds.shipping.feedUrl,
      SMTP_URL: smtpUrl, POLL_SCHEDULE: '200ms', LONG_POLL_SECONDS: '0', LOG_LEVEL: 'info',
    }, 60_000)));
    for (const s of spawned) if (s.status === 'fulfilled') started.push(s.value);
    const failed = spawned.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    const readySeconds = (performance.now() - t0) / 1000;
    const peak: Record<string, number> = {};
    const sample = (): void => {
      for (const p of started) {
        const e = p.exit();
        if (e) throw new Error(`${p.name} exited (${e.signal ?? e.code}) while catching up:\n${p.tail()}`);
        peak[p.name] = Math.max(peak[p.name] ?? 0, peakRssMb(p.pid));
      }
      for (const [pid, cpu] of postgresCpu()) postgres.set(pid, Math.max(postgres.get(pid) ?? 0, cpu));
    };
    let queued = 0;
    let lastLog = t0;
    while (queued < ids.length) {
      if (performance.now() - t0 > SIDE_TIMEOUT_MS) throw new Error(`${label}: ${queued} of ${ids.length} confirmations queued after ${SIDE_TIMEOUT_MS / 1000} s`);
      await new Promise((r) => setTimeout(r, TICK_MS));
      sample();
      // Before the first instance has migrated the database there is no outbox yet.
      queued = await pool.query<{ n: string }>('SELECT count(*) AS n FROM outbox').then((r) => Number(r.rows[0]!.n), () => 0);
      if (performance.now() - lastLog > 15_000) {
        lastLog = performance.now();
        log(`  (${label}: ${queued} queued after ${((lastLog - t0) / 1000).toFixed(0)} s; ${await progress(pool)})`);
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    sample();
    const cpuAfter = machineCpu();
    const bench = process.cpuUsage(benchBefore);
    const instances = Object.fromEntries(started.map((p) => [p.name, processCpuSeconds(p.pid)]));
    const statuses = await Promise.all(started.map(async (p) => [p.name, await p.status() as InstanceStatus & { feeds: { name: string; readBy: string }[] }] as const));
    const partitions = Object.fromEntries(statuses.map(([n, s]) => [n, s.partitions.mine.length]));
    const leads = Object.fromEntries(statuses.map(([n, s]) => [n, s.feeds.filter((f) => f.readBy === 'this instance').map((f) => f.name)]));
    await checkOutbox(pool, ids, label);
    const busy = (cpuAfter.busy - cpuBefore.busy) / (cpuAfter.total - cpuBefore.total);
    const cpu = { instances, postgres: [...postgres.values()].reduce((s, c) => s + c, 0), bench: (bench.user + bench.system) / 1e6, busy };
    log(`  ${label}: ${seconds.toFixed(1)} s, ${(3 * ids.length / seconds).toFixed(0)} entries/s, peak RSS ${JSON.stringify(peak)} MB, partitions ${JSON.stringify(partitions)}, feeds read ${JSON.stringify(leads)}, CPU ${JSON.stringify(cpu)}`);
    return { seconds, readySeconds, peakRssMb: peak, partitions, leads, cpu };
  } finally {
    for (const p of started) p.signal('SIGKILL');
    await Promise.all(started.map((p) => p.exited));
    await pool.end();
  }
}

/** How far the feeds' readers are (their read positions) and the inbox rows not yet deleted: reading or applying behind? */
async function progress(pool: PgPool): Promise<string> {
  try {
    const { rows } = await pool.query<{ name: string; position: string }>("SELECT name, position FROM consumer_subscriptions WHERE name IN ('orders', 'billing', 'shipping') ORDER BY name");
    const { rows: [inbox] } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM notification_inbox');
    return `feeds read to ${rows.map((r) => `${r.name} ${r.position}`).join(', ')}; ${inbox!.n} inbox rows`;
  } catch { return 'not migrated yet'; }
}

/** Exactly one confirmation per order, each order's, nothing else queued, nothing sent or given up. */
async function checkOutbox(pool: PgPool, ids: readonly string[], label: string): Promise<void> {
  const { rows } = await pool.query<{ order_id: string; kind: string; sent: boolean; dead: boolean }>(
    'SELECT order_id, kind, sent_at IS NOT NULL AS sent, dead_at IS NOT NULL AS dead FROM outbox');
  const confirmed = new Map<string, number>();
  for (const r of rows) if (r.kind === 'confirmation') confirmed.set(r.order_id, (confirmed.get(r.order_id) ?? 0) + 1);
  const problems = [
    rows.length !== ids.length && `${rows.length} emails queued for ${ids.length} orders`,
    rows.some((r) => r.kind !== 'confirmation') && `kinds other than confirmation: ${[...new Set(rows.map((r) => r.kind))].join(', ')}`,
    ids.some((id) => !confirmed.has(id)) && `${ids.filter((id) => !confirmed.has(id)).length} orders without a confirmation`,
    [...confirmed.values()].some((n) => n > 1) && 'an order with two confirmations',
    rows.some((r) => r.sent || r.dead) && 'an email sent or given up, though SMTP is unreachable',
  ].filter((p): p is string => typeof p === 'string');
  if (problems.length > 0) throw new Error(`${label}: ${problems.join('; ')}`);
}

/** Walks a feed from its subscription document to its oldest archive: how many entries it holds. */
async function walk(feedUrl: string): Promise<number> {
  let entries = 0;
  for (let next: string | undefined = feedUrl; next;) {
    const res = await fetch(next, { headers: { accept: 'application/atom+xml' } });
    if (res.status !== 200) throw new Error(`${next} answered ${res.status}`);
    const doc = readFeedDocument(await res.text());
    entries += doc.entries.length;
    next = doc.prevArchive;
  }
  return entries;
}

/** A port nothing listens on (taken, then let go): SMTP connections to it are refused at once. */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().once('error', reject).listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 9));
    });
  });
}

function peakRssMb(pid: number): number {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) / 1024 : 0;
  } catch { return 0; }
}

/** utime + stime of a process, in seconds (clock ticks of 1/100 s). */
function processCpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch { return 0; }
}

/** The test cluster's postmaster and its children (backends, WAL writer, ...): pid -> CPU seconds so far. */
function postgresCpu(): Map<number, number> {
  const out = new Map<number, number>();
  const cluster = testCluster();
  if (!cluster) return out;
  let postmaster: number;
  try { postmaster = Number(readFileSync(join(cluster.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]); } catch { return out; }
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const fields = readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1]!.split(' ');
      if (Number(d) === postmaster || Number(fields[1]) === postmaster) out.set(Number(d), (Number(fields[11]) + Number(fields[12])) / 100);
    } catch { /* gone */ }
  }
  return out;
}

/** The machine's CPU time so far (all cores, clock ticks): busy and total. */
function machineCpu(): { busy: number; total: number } {
  const ticks = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = ticks.reduce((s, t) => s + t, 0);
  return { busy: total - ticks[3]! - ticks[4]!, total };
}
