/**
 * The cache tier row: 1,000 simulated polling consumers read the order feed through nginx
 * (deploy/nginx) and, as the baseline, straight from the origin. Each consumer polls /feed once
 * a second with If-None-Match and, whenever it changes, walks prev-archive links back to the
 * newest archive it has already read. A writer places orders meanwhile, so archives keep sealing.
 * The origin (the real order service) runs in a child process that counts every request it gets.
 *
 * Runnable alone: `npx tsx scripts/src/bench/cacheTier.ts` prints the rows.
 * BENCH_CACHE_SECONDS (default 10) and BENCH_CACHE_CONSUMERS (default 1000) change the load.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { Agent, request } from 'undici';
import { freePort, startNginx } from '../../../deploy/nginx/startNginx.ts';
import { startOrderService } from '../../../order-service/src/testing/startOrderService.ts';
import type { BenchRow } from './benchRow.ts';

const SELF = fileURLToPath(import.meta.url);
const PAGE_SIZE = 20;
const SEED_ORDERS = 200; // ten sealed archives before the consumers arrive
const ORDERS_PER_SECOND = 5; // a new archive every four seconds
const POLL_MS = 1000;
const CONNECTIONS = 100; // shared by all consumers: bounded, like a real client pool
const WARM_UP_MS = 3000; // the first walk (every consumer reads every archive) is over by then
const ORDER_BODY = JSON.stringify({
  customer: { name: 'Ada Lovelace', email: 'ada@example.com' },
  currency: 'GBP',
  lines: [{ sku: 'EBOOK-7', name: 'Sketch of the Engine (eBook)', quantity: 1, unitPrice: '4.99', delivery: 'digital' }],
});

/** One GET the origin received: ms since its start, path, and the negotiated variant. */
type OriginHit = readonly [at: number, url: string, variant: string];

interface SideResult {
  readonly seconds: number;
  readonly consumerRequests: number;
  readonly errors: number;
  readonly originReads: number;
  /** The most GETs the origin saw for one URL and variant within one second. */
  readonly maxPerUrlPerSecond: number;
  readonly worstUrl: string;
  readonly feedOriginReads: number;
  readonly archiveOriginReads: number;
  /** /feed polls once the first walk is over (after WARM_UP_MS): the steady state. */
  readonly pollP50: number;
  readonly pollP99: number;
  /** Every consumer request, including the first walk of all archives by 1,000 consumers at once. */
  readonly allP50: number;
  readonly allP99: number;
}

export async function benchCacheTier(): Promise<BenchRow[]> {
  const seconds = Number(process.env['BENCH_CACHE_SECONDS'] ?? 10);
  const consumers = Number(process.env['BENCH_CACHE_CONSUMERS'] ?? 1000);
  const cached = await runSide(true, seconds, consumers);
  const direct = await runSide(false, seconds, consumers);
  const shape = `${consumers} consumers polling /feed every ${POLL_MS / 1000} s for ${seconds} s, walking archives, ${ORDERS_PER_SECOND} orders/s written`;
  const window = cached.maxPerUrlPerSecond <= 1;
  return [
    {
      name: 'cache tier: origin GETs/s, 1,000 polling consumers, nginx vs direct',
      subject: round(cached.originReads / cached.seconds),
      baseline: round(direct.originReads / direct.seconds),
      unit: 'origin req/s',
      ratio: ratio(cached.originReads / cached.seconds, direct.originReads / direct.seconds),
      target: '<= 1 origin request per URL per freshness window through the cache (checked per second: max-age 1 s, which nginx counts in whole seconds)',
      pass: window && cached.errors === 0,
      note: `${shape}. Through nginx: ${cached.consumerRequests} consumer requests cost the origin ${cached.originReads} `
        + `(${cached.feedOriginReads} for /feed, ${cached.archiveOriginReads} for archives), at most ${cached.maxPerUrlPerSecond} per URL per second (${cached.worstUrl}); `
        + `direct: ${direct.consumerRequests} consumer requests, all ${direct.originReads} at the origin, up to ${direct.maxPerUrlPerSecond} per URL per second. `
        + `Errors: ${cached.errors} through nginx, ${direct.errors} direct.`,
    },
    {
      name: 'cache tier: consumer-visible poll latency p99 (steady state), nginx vs direct',
      subject: round(cached.pollP99),
      baseline: round(direct.pollP99),
      unit: 'ms',
      ratio: ratio(cached.pollP99, direct.pollP99),
      target: 'reported; no worse than direct (<= 1.5)',
      pass: cached.errors === 0 && direct.errors === 0 && ratio(cached.pollP99, direct.pollP99) <= 1.5,
      note: `/feed polls after the first ${WARM_UP_MS / 1000} s: p50 ${cached.pollP50.toFixed(1)} ms through nginx, ${direct.pollP50.toFixed(1)} ms direct. `
        + `Every request including the first walk (${consumers} consumers reading every archive at once): p50 ${cached.allP50.toFixed(1)} vs ${direct.allP50.toFixed(1)} ms, p99 ${cached.allP99.toFixed(1)} vs ${direct.allP99.toFixed(1)} ms. `
        + `Latency includes queueing for ${CONNECTIONS} client connections in one load-generating process; the origin, nginx (1 worker) and the load generator share this machine's cores.`,
    },
  ];
}

async function runSide(throughNginx: boolean, seconds: number, consumers: number): Promise<SideResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-cache-tier-'));
  const proxyPort = throughNginx ? await freePort() : undefined;
  const origin = await startOrigin(dataDir, proxyPort ? `http://127.0.0.1:${proxyPort}` : undefined);
  let nginx: Awaited<ReturnType<typeof startNginx>> | undefined;
  const agent = new Agent({ connections: CONNECTIONS, pipelining: 1, keepAliveTimeout: 10_000 });
  const writer = new Agent({ connections: 1 });
  try {
    for (let i = 0; i < SEED_ORDERS; i += 1) await placeOrder(writer, origin.url);
    if (proxyPort) {
      nginx = await startNginx({ services: [{ name: 'orders', listen: `127.0.0.1:${proxyPort}`, upstream: origin.url.replace('http://', '') }] });
    }
    const base = nginx ? nginx.urlOf('orders') : origin.url;
    await origin.resetHits();
    const started = performance.now();
    const until = started + seconds * 1000;
    const latencies: Latency[] = [];
    let errors = 0;
    const get = async (url: string, etag?: string): Promise<{ status: number; etag?: string; body?: string }> => {
      const t = performance.now();
      const poll = url.endsWith('/feed');
      try {
        const res = await request(url, { dispatcher: agent, headers: { accept: 'application/atom+xml', 'accept-encoding': 'gzip', ...(etag ? { 'if-none-match': etag } : {}) } });
        const raw = Buffer.from(await res.body.arrayBuffer());
        latencies.push({ ms: performance.now() - t, steadyPoll: poll && t - started >= WARM_UP_MS });
        if (res.statusCode !== 200 && res.statusCode !== 304) { errors += 1; return { status: res.statusCode }; }
        const body = res.statusCode === 200 ? (res.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8') : undefined;
        return { status: res.statusCode, etag: String(res.headers['etag'] ?? ''), ...(body !== undefined ? { body } : {}) };
      } catch {
        errors += 1;
        return { status: 0 };
      }
    };
    const consumer = async (n: number): Promise<void> => {
      const seen = new Set<string>();
      let etag: string | undefined;
      await sleep((n / consumers) * POLL_MS); // spread over one poll interval, as real pollers drift
      while (performance.now() < until) {
        const next = performance.now() + POLL_MS;
        const feed = await get(`${base}/feed`, etag);
        if (feed.status === 200 && feed.body) {
          etag = feed.etag;
          let prev = prevArchive(feed.body);
          while (prev && !seen.has(prev)) {
            const page = await get(prev);
            if (page.status !== 200 || !page.body) break;
            seen.add(prev);
            prev = prevArchive(page.body);
          }
        }
        await sleep(Math.max(0, next - performance.now()));
      }
    };
    let writing = true;
    const write = (async () => {
      while (writing) {
        await placeOrder(writer, origin.url);
        await sleep(1000 / ORDERS_PER_SECOND);
      }
    })();
    await Promise.all(Array.from({ length: consumers }, (_, i) => consumer(i)));
    writing = false;
    await write;
    const elapsed = (performance.now() - started) / 1000;
    const hits = await origin.hits();
    return summarise(hits, elapsed, latencies, errors);
  } finally {
    await nginx?.stop();
    await agent.close();
    await writer.close();
    await origin.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

interface Latency { readonly ms: number; readonly steadyPoll: boolean }

function summarise(hits: readonly OriginHit[], seconds: number, latencies: readonly Latency[], errors: number): SideResult {
  const buckets = new Map<string, number>();
  for (const [at, url, variant] of hits) {
    const k = `${Math.floor(at / 1000)} ${url} ${variant}`;
    buckets.set(k, (buckets.get(k) ?? 0) + 1);
  }
  let worst = ['', 0] as [string, number];
  for (const [k, v] of buckets) if (v > worst[1]) worst = [k.split(' ').slice(1).join(' '), v];
  const all = latencies.map((l) => l.ms).sort((a, b) => a - b);
  const polls = latencies.filter((l) => l.steadyPoll).map((l) => l.ms).sort((a, b) => a - b);
  const pct = (xs: readonly number[], p: number): number => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? 0;
  return {
    seconds,
    consumerRequests: latencies.length + errors,
    errors,
    originReads: hits.length,
    maxPerUrlPerSecond: worst[1],
    worstUrl: worst[0],
    feedOriginReads: hits.filter((h) => h[1] === '/feed').length,
    archiveOriginReads: hits.filter((h) => h[1].startsWith('/feed/archive/')).length,
    pollP50: pct(polls, 0.5),
    pollP99: pct(polls, 0.99),
    allP50: pct(all, 0.5),
    allP99: pct(all, 0.99),
  };
}

function prevArchive(xml: string): string | undefined {
  return /<link rel="prev-archive" type="application\/atom\+xml" href="([^"]+)"\/>/.exec(xml)?.[1];
}

async function placeOrder(dispatcher: Agent, base: string): Promise<void> {
  const res = await request(`${base}/orders`, { dispatcher, method: 'POST', headers: { 'content-type': 'application/json' }, body: ORDER_BODY });
  const text = await res.body.text();
  if (res.statusCode !== 201) throw new Error(`POST /orders answered ${res.statusCode}: ${text.slice(0, 200)}`);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const round = (n: number): number => Math.round(n * 100) / 100;
const ratio = (a: number, b: number): number => (b === 0 ? 0 : a / b);

// ---- The origin, in its own process so the load generator does not share its event loop.

interface OriginHandle {
  readonly url: string;
  resetHits(): Promise<void>;
  hits(): Promise<OriginHit[]>;
  stop(): Promise<void>;
}

type ToChild = { start: { dataDir: string; publicUrl?: string } } | { reset: true } | { hits: true };
type FromChild = { ready: string } | { error: string } | { hits: OriginHit[] } | { reset: true };

function startOrigin(dataDir: string, publicUrl: string | undefined): Promise<OriginHandle> {
  const child: ChildProcess = fork(SELF, ['--origin-child'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ask = <T extends FromChild>(msg: ToChild, key: keyof T): Promise<T> => new Promise((resolve) => {
    const on = (m: FromChild): void => { if (key in m) { child.off('message', on); resolve(m as T); } };
    child.on('message', on);
    child.send(msg);
  });
  const stop = (): Promise<void> => new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the origin exited with ${code} before it was ready`)));
    child.once('message', (m: FromChild) => {
      if ('ready' in m) {
        resolve({
          url: m.ready,
          resetHits: async () => { await ask<{ reset: true }>({ reset: true }, 'reset'); },
          hits: async () => (await ask<{ hits: OriginHit[] }>({ hits: true }, 'hits')).hits,
          stop,
        });
      } else {
        void stop();
        reject(new Error(`the origin failed: ${'error' in m ? m.error : JSON.stringify(m)}`));
      }
    });
    child.send({ start: { dataDir, ...(publicUrl ? { publicUrl } : {}) } } satisfies ToChild);
  });
}

async function originChild(): Promise<void> {
  let hits: OriginHit[] = [];
  const t0 = Date.now();
  let close: () => Promise<void> = async () => undefined;
  process.on('message', (m: ToChild) => {
    if ('start' in m) {
      const env: Record<string, string> = { FEED_PAGE_SIZE: String(PAGE_SIZE), FEED_MAX_AGE: '1', ...(m.start.publicUrl ? { PUBLIC_URL: m.start.publicUrl } : {}) };
      startOrderService(m.start.dataDir, env, {
        onRequest: (req) => {
          if (req.method === 'GET') hits.push([Date.now() - t0, req.url ?? '', `${req.headers['accept'] ?? ''}|${req.headers['accept-encoding'] ?? ''}`]);
        },
      }).then((s) => { close = s.close; process.send?.({ ready: s.url } satisfies FromChild); })
        .catch((e: unknown) => process.send?.({ error: String(e) } satisfies FromChild));
    } else if ('reset' in m) {
      hits = [];
      process.send?.({ reset: true } satisfies FromChild);
    } else {
      process.send?.({ hits } satisfies FromChild);
    }
  });
  process.once('SIGTERM', () => { void close().finally(() => process.exit(0)); });
  process.once('disconnect', () => { void close().finally(() => process.exit(0)); });
}

if (process.argv[1] === SELF) {
  if (process.argv.includes('--origin-child')) {
    await originChild();
  } else {
    const rows = await benchCacheTier();
    for (const r of rows) {
      console.log(`${r.pass ? 'pass' : 'MISS'}  ${r.name}\n      subject ${r.subject} ${r.unit}, baseline ${r.baseline}, ratio ${r.ratio.toFixed(4)}, target: ${r.target}\n      ${r.note ?? ''}`);
    }
    console.log(JSON.stringify(rows, null, 2));
  }
}
