// The cache tier: a real nginx (Debian's package, installed by .ci/run) in front of a real order
// service on loopback ports. The steps share one nginx and one service and run in order; the last
// one takes the origin down.
import { expect } from 'chai';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { Agent, request } from 'undici';
import { NGINX_MISSING, type RunningNginx, findNginx, freePort, startNginx } from '../deploy/nginx/startNginx.ts';
import { type RunningOrderService, startOrderService } from '../order-service/src/testing/startOrderService.ts';
import { tempDir } from '../common/src/testing/tempDir.ts';

interface OriginHit { readonly service: string; readonly method: string; readonly url: string; readonly accept: string; readonly at: number }
interface Got { status: number; headers: Record<string, string>; body: string; ms: number }

const FEED_TOKEN = 'cache-tier-test-feed-token-0123456789';
const ATOM = 'application/atom+xml';
const BROWSER = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

function orderBody(name: string): string {
  return JSON.stringify({
    customer: { name, email: 'ada@example.com' },
    currency: 'GBP',
    lines: [{ sku: 'EBOOK-7', name: 'Sketch of the Engine (eBook)', quantity: 1, unitPrice: '4.99', delivery: 'digital' }],
  });
}

describe('The cache tier: nginx in front of the order feed', function () {
  this.timeout(30_000);
  const dirs = [tempDir('cache-tier-orders-'), tempDir('cache-tier-private-')];
  const hits: OriginHit[] = [];
  const agent = new Agent({ connections: 256, keepAliveTimeout: 2000 });
  let nginx: RunningNginx | undefined;
  let origin: RunningOrderService | undefined;
  let privateOrigin: RunningOrderService | undefined;
  let base = '';
  let privateBase = '';

  async function get(url: string, headers: Record<string, string> = {}): Promise<Got> {
    const started = performance.now();
    const res = await request(url, { dispatcher: agent, headers: { 'accept-encoding': 'identity', ...headers } });
    let raw = Buffer.from(await res.body.arrayBuffer());
    if (res.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw);
    if (res.headers['content-encoding'] === 'br') raw = brotliDecompressSync(raw);
    const h = Object.fromEntries(Object.entries(res.headers).map(([k, v]) => [k, String(v)]));
    return { status: res.statusCode, headers: h, body: raw.toString('utf8'), ms: performance.now() - started };
  }

  async function placeOrder(name: string): Promise<string> {
    const res = await request(`${base}/orders`, { dispatcher: agent, method: 'POST', headers: { 'content-type': 'application/json' }, body: orderBody(name) });
    const body = await res.body.json() as { orderId?: string; id?: string };
    expect(res.statusCode, JSON.stringify(body)).to.equal(201);
    return String(res.headers['location']).split('/').pop()!;
  }

  const originHits = (service: string, url: string, since = 0): OriginHit[] =>
    hits.filter((h) => h.service === service && h.url === url && h.at >= since);

  before(async function () {
    this.timeout(20_000);
    if (!findNginx()) throw new Error(NGINX_MISSING);
    const [port, privatePort] = [await freePort(), await freePort()];
    base = `http://127.0.0.1:${port}`;
    privateBase = `http://127.0.0.1:${privatePort}`;
    const counter = (service: string) => ({
      onRequest: (req: { method?: string; url?: string; headers: Record<string, string | string[] | undefined> }) => {
        hits.push({ service, method: req.method ?? '', url: req.url ?? '', accept: String(req.headers['accept'] ?? ''), at: Date.now() });
      },
    });
    const common = { FEED_MAX_AGE: '1', FEED_PAGE_SIZE: '5', LONG_POLL_MAX: '10' };
    origin = await startOrderService(dirs[0]!.path, { ...common, PUBLIC_URL: base }, counter('public'));
    privateOrigin = await startOrderService(dirs[1]!.path, { ...common, PUBLIC_URL: privateBase, FEED_TOKEN }, counter('private'));
    nginx = await startNginx({
      services: [
        { name: 'orders', listen: `127.0.0.1:${port}`, upstream: origin.url.replace('http://', '') },
        { name: 'orders_private', listen: `127.0.0.1:${privatePort}`, upstream: privateOrigin.url.replace('http://', '') },
      ],
    });
    // 12 orders with 5 entries a page: archives 1 and 2 are sealed, page 3 is the working page.
    for (let i = 0; i < 12; i += 1) await placeOrder(`Customer ${i}`);
  });

  after(async () => {
    const failures: unknown[] = [];
    for (const step of [() => nginx?.stop(), () => origin?.close(), () => privateOrigin?.close(), () => agent.close()]) {
      try { await step(); } catch (e) { failures.push(e); }
    }
    for (const d of dirs) d.remove();
    if (failures.length > 0) throw failures[0];
  });

  it('serves an archive from the cache after the first request, with links that name the proxy', async () => {
    const first = await get(`${base}/feed/archive/1`);
    expect(first.status).to.equal(200);
    expect(first.headers['x-cache-status']).to.equal('MISS');
    expect(first.headers['cache-control']).to.equal('public, max-age=31536000, immutable');
    for (let i = 0; i < 5; i += 1) {
      const again = await get(`${base}/feed/archive/1`);
      expect(again.headers['x-cache-status']).to.equal('HIT');
      expect(again.body).to.equal(first.body);
      expect(again.headers['etag']).to.equal(first.headers['etag']);
    }
    expect(originHits('public', '/feed/archive/1')).to.have.length(1);
    // Every link in the document points at the proxy (PUBLIC_URL), never at the origin's port.
    const hrefs = [...first.body.matchAll(/href="([^"]+)"/g)].map((m) => m[1]!);
    expect(hrefs.length).to.be.greaterThan(3);
    for (const href of hrefs) expect(href.startsWith(`${base}/`), href).to.equal(true);
    expect(first.body).not.to.include(origin!.url);
  });

  it('walks from /feed back through prev-archive links entirely through the proxy', async () => {
    let url: string | undefined = `${base}/feed`;
    const pages: string[] = [];
    while (url) {
      const r = await get(url, { accept: ATOM });
      expect(r.status, url).to.equal(200);
      expect(r.headers['x-cache-status'], url).to.be.oneOf(['MISS', 'HIT', 'EXPIRED', 'STALE', 'UPDATING', 'REVALIDATED']);
      pages.push(url);
      url = /<link rel="prev-archive" type="application\/atom\+xml" href="([^"]+)"\/>/.exec(r.body)?.[1];
    }
    expect(pages).to.deep.equal([`${base}/feed`, `${base}/feed/archive/2`, `${base}/feed/archive/1`]);
  });

  it('collapses 200 concurrent polls into at most one origin request per URL per freshness window', async () => {
    // A cold entry (archive 2 in brotli was never asked for): 200 simultaneous misses, one
    // origin request (proxy_cache_lock).
    const coldSince = Date.now();
    const cold = await Promise.all(Array.from({ length: 200 }, () => get(`${base}/feed/archive/2`, { accept: ATOM, 'accept-encoding': 'br' })));
    expect(cold.every((r) => r.status === 200 && r.body === cold[0]!.body && r.body.includes('<fh:archive/>'))).to.equal(true);
    expect(cold.filter((r) => r.headers['x-cache-status'] === 'MISS')).to.have.length(1);
    expect(originHits('public', '/feed/archive/2', coldSince)).to.have.length(1);

    // 200 consumers polling /feed every 100 ms with If-None-Match for 3 s (about 6,000 polls).
    const since = Date.now();
    const statuses = new Map<number, number>();
    const consumer = async (): Promise<void> => {
      let etag = '';
      while (Date.now() - since < 3000) {
        const r = await get(`${base}/feed`, etag ? { 'if-none-match': etag } : {});
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        etag = r.headers['etag'] ?? etag;
        await new Promise((res) => setTimeout(res, 100));
      }
    };
    await Promise.all(Array.from({ length: 200 }, consumer));
    const seconds = (Date.now() - since) / 1000;
    const polls = [...statuses.values()].reduce((a, b) => a + b, 0);
    const feedHits = originHits('public', '/feed', since);
    expect([...statuses.keys()].every((s) => s === 200 || s === 304), JSON.stringify([...statuses])).to.equal(true);
    expect(polls).to.be.greaterThan(2000);
    // nginx keeps time in whole seconds, so a max-age=1 window lasts one to two seconds:
    // at most one origin request per started second, plus the one in flight at the start.
    expect(feedHits.length, `origin saw ${feedHits.length} requests for /feed in ${seconds.toFixed(1)} s of ${polls} polls`)
      .to.be.within(1, Math.ceil(seconds) + 1);
    // The origin saw each window's revalidation at most once: no two within the same second.
    const perSecond = new Map<number, number>();
    for (const h of feedHits) perSecond.set(Math.floor(h.at / 1000), (perSecond.get(Math.floor(h.at / 1000)) ?? 0) + 1);
    expect(Math.max(...perSecond.values())).to.equal(1);
  });

  it('brings a new entry to consumers through the cache within max-age plus one poll', async () => {
    const started = Date.now();
    const orderId = await placeOrder('Grace Hopper');
    let seen: Got | undefined;
    while (!seen && Date.now() - started < 10_000) {
      const r = await get(`${base}/feed`, { accept: ATOM });
      if (r.body.includes(orderId)) seen = r;
      else await new Promise((res) => setTimeout(res, 250));
    }
    expect(seen, 'the new order never appeared in /feed through the cache').not.to.equal(undefined);
    // max-age 1 s, rounded up by nginx to whole seconds (2 s), one background revalidation,
    // then one poll (0.25 s): 5 s is a generous bound.
    expect(Date.now() - started).to.be.below(5000);
    expect(seen!.headers['x-cache-status']).to.be.oneOf(['HIT', 'MISS', 'EXPIRED', 'REVALIDATED']);
    // Revalidation by the proxy is a conditional GET: the origin saw If-None-Match from nginx.
    expect(originHits('public', '/feed', started).length).to.be.at.least(1);
  });

  it('never mixes the HTML and Atom representations, nor content codings', async () => {
    const asks = [
      { accept: BROWSER, type: 'text/html', start: '<!doctype html' },
      { accept: 'text/html', type: 'text/html', start: '<!doctype html' },
      { accept: ATOM, type: ATOM, start: '<?xml' },
      { accept: 'application/xml', type: ATOM, start: '<?xml' },
      { accept: '*/*', type: ATOM, start: '<?xml' },
    ];
    const codings = ['identity', 'gzip'];
    const requests = Array.from({ length: 100 }, (_, i) => ({ ask: asks[i % asks.length]!, coding: codings[Math.floor(i / asks.length) % 2]! }));
    for (const path of ['/feed', '/feed/archive/1']) {
      const got = await Promise.all(requests.map(async (q) => ({ q, r: await get(`${base}${path}`, { accept: q.ask.accept, 'accept-encoding': q.coding }) })));
      for (const { q, r } of got) {
        const what = `${path} Accept: ${q.ask.accept}, Accept-Encoding: ${q.coding}`;
        expect(r.status, what).to.equal(200);
        expect(r.headers['content-type'], what).to.match(new RegExp(`^${q.ask.type.replace('+', '\\+')}`));
        expect(r.body.toLowerCase().startsWith(q.ask.start), what).to.equal(true);
        expect(r.headers['content-encoding'] ?? 'identity', what).to.equal(q.coding);
        if (q.coding === 'gzip') expect(r.headers['etag'], what).to.match(/-gzip"$/);
        else expect(r.headers['etag'], what).not.to.match(/-(gzip|br)"$/);
        expect(r.headers['vary'], what).to.equal('Accept, Accept-Encoding');
      }
    }
    const warm = await get(`${base}/feed/archive/1`, { accept: BROWSER });
    expect(warm.headers['x-cache-status']).to.equal('HIT');
    expect(warm.headers['content-type']).to.match(/^text\/html/);
  });

  it('never stores a response to a request with Authorization, nor a FEED_TOKEN feed', async () => {
    const before = originHits('public', '/feed').length;
    for (let i = 0; i < 3; i += 1) {
      const r = await get(`${base}/feed`, { authorization: 'Bearer someone-elses-token' });
      expect(r.status).to.equal(200);
      expect(r.headers['x-cache-status'] ?? '').to.equal('');
    }
    expect(originHits('public', '/feed').length - before).to.equal(3);

    for (let i = 0; i < 3; i += 1) {
      const r = await get(`${privateBase}/feed`, { authorization: `Bearer ${FEED_TOKEN}` });
      expect(r.status).to.equal(200);
      expect(r.headers['cache-control']).to.match(/^private/);
      expect(r.headers['x-cache-status'] ?? '').to.equal('');
      const anonymous = await get(`${privateBase}/feed`);
      expect(anonymous.status).to.equal(401);
    }
    expect(originHits('private', '/feed')).to.have.length(6);
    // Nothing of the private service is on disk in the shared cache.
    const keys = cacheFileKeys(join(nginx!.prefix, 'cache'));
    expect(keys.some((k) => k.includes('orders_origin'))).to.equal(true);
    expect(keys.filter((k) => k.includes('orders_private_origin'))).to.deep.equal([]);
  });

  it('sends long polls (Prefer: wait) straight to the origin, which answers when an entry arrives', async () => {
    // The current ETag straight from the origin (Authorization bypasses the cache; this feed is open).
    const now = await get(`${base}/feed`, { accept: ATOM, authorization: 'Bearer bypass-the-cache-for-a-fresh-etag' });
    const started = Date.now();
    const poll = get(`${base}/feed`, { accept: ATOM, prefer: 'wait=8', 'if-none-match': now.headers['etag']! });
    await new Promise((res) => setTimeout(res, 300));
    const orderId = await placeOrder('Long Poller');
    const r = await poll;
    expect(r.status).to.equal(200);
    expect(r.headers['preference-applied']).to.equal('wait=8');
    expect(r.headers['x-cache-status'] ?? '').to.equal('');
    expect(r.body).to.include(orderId);
    expect(Date.now() - started, 'woke on the new entry, not on the timeout').to.be.below(7000);
  });

  it('keeps cached archives readable, and serves the subscription document stale, when the origin is down', async () => {
    const archive = await get(`${base}/feed/archive/1`);
    await origin!.close();
    origin = undefined;
    for (let i = 0; i < 3; i += 1) {
      const r = await get(`${base}/feed/archive/1`);
      expect(r.status).to.equal(200);
      expect(r.body).to.equal(archive.body);
      expect(r.headers['x-cache-status']).to.equal('HIT');
    }
    // Once its max-age has passed, /feed is still served, from the stored copy.
    const deadline = Date.now() + 6000;
    let feed: Got | undefined;
    do {
      feed = await get(`${base}/feed`, { accept: ATOM });
      expect(feed.status).to.equal(200);
      if (feed.headers['x-cache-status'] !== 'STALE') await new Promise((res) => setTimeout(res, 250));
    } while (feed.headers['x-cache-status'] !== 'STALE' && Date.now() < deadline);
    expect(feed.headers['x-cache-status']).to.equal('STALE');
    expect(feed.body).to.include('Grace Hopper');
    // What was never cached cannot be served: the proxy says the origin is unreachable.
    expect((await get(`${base}/feed/archive/1`, { accept: 'text/html', 'accept-encoding': 'br' })).status).to.equal(502);
  });
});

/** The `KEY:` line of every file in an nginx cache directory. */
function cacheFileKeys(dir: string): string[] {
  const keys: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) keys.push(...cacheFileKeys(path));
    else keys.push(/\nKEY: ([^\n]*)\n/.exec(readFileSync(path).toString('latin1'))?.[1] ?? '');
  }
  return keys;
}
