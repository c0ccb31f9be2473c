// The cache tier: a real nginx (Debian's package, installed by .ci/run) in front of a real order
// service on loopback ports. The steps share one nginx and one service and run in order; the last
// one takes the origin down. Nothing here is timed: what the cache did is read from nginx's own
// access log, and a step that waits for something polls until it happens, with a deadline that
// fails it only if it never does.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { Agent, request } from 'undici';
import { type AccessLogLine, cacheFills, fillsWithinOneWindow, followAccessLog } from '../deploy/nginx/accessLog.ts';
import { type RunningNginx, findNginx, freePort, startNginx } from '../deploy/nginx/startNginx.ts';
import { type RunningOrderService, startOrderService } from '../order-service/src/testing/startOrderService.ts';
import { requirePeer } from '../common/src/testing/peers.ts';
import { tempDir } from '../common/src/testing/tempDir.ts';
import { DEADLINE_MS, cacheFileKeys, eventually } from './nginxTesting.ts';

interface OriginHit {
  readonly service: string; readonly method: string; readonly url: string; readonly accept: string;
  readonly ifNoneMatch: string; readonly prefer: string; readonly at: number;
}
interface Got { status: number; headers: Record<string, string>; body: string }

const NGINX = { name: 'nginx', install: 'apt-get install nginx', check: () => findNginx() !== undefined };
const MAX_AGE = 1;

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
  this.timeout(DEADLINE_MS + 10_000);
  const dirs = [tempDir('cache-tier-orders-'), tempDir('cache-tier-private-')];
  const hits: OriginHit[] = [];
  const agent = new Agent({ connections: 256, keepAliveTimeout: 2000 });
  let nginx: RunningNginx | undefined;
  let origin: RunningOrderService | undefined;
  let privateOrigin: RunningOrderService | undefined;
  let base = '';
  let privateBase = '';
  let accessLog: () => readonly AccessLogLine[] = () => [];
  /** nginx's log of the public feed's subscription document as pollers ask for it (Atom, no compression). */
  const feedLog = (): AccessLogLine[] => accessLog().filter((l) => l.service === 'orders_origin' && l.target === '/feed' && l.representation === 'atom/identity');

  async function get(url: string, headers: Record<string, string> = {}): Promise<Got> {
    const res = await request(url, { dispatcher: agent, headers: { 'accept-encoding': 'identity', ...headers } });
    let raw = Buffer.from(await res.body.arrayBuffer());
    if (res.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw);
    if (res.headers['content-encoding'] === 'br') raw = brotliDecompressSync(raw);
    const h = Object.fromEntries(Object.entries(res.headers).map(([k, v]) => [k, String(v)]));
    return { status: res.statusCode, headers: h, body: raw.toString('utf8') };
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
    await requirePeer(this, NGINX);
    const [port, privatePort] = [await freePort(), await freePort()];
    base = `http://127.0.0.1:${port}`;
    privateBase = `http://127.0.0.1:${privatePort}`;
    const counter = (service: string) => ({
      onRequest: (req: { method?: string; url?: string; headers: Record<string, string | string[] | undefined> }) => {
        const header = (name: string): string => String(req.headers[name] ?? '');
        hits.push({ service, method: req.method ?? '', url: req.url ?? '', accept: header('accept'), ifNoneMatch: header('if-none-match'), prefer: header('prefer'), at: Date.now() });
      },
    });
    const common = { FEED_MAX_AGE: String(MAX_AGE), FEED_PAGE_SIZE: '5', LONG_POLL_MAX: '60' };
    origin = await startOrderService(dirs[0]!.path, { ...common, PUBLIC_URL: base }, counter('public'));
    privateOrigin = await startOrderService(dirs[1]!.path, { ...common, PUBLIC_URL: privateBase, FEED_TOKEN }, counter('private'));
    nginx = await startNginx({
      services: [
        { name: 'orders', listen: `127.0.0.1:${port}`, upstream: origin.url.replace('http://', '') },
        { name: 'orders_private', listen: `127.0.0.1:${privatePort}`, upstream: privateOrigin.url.replace('http://', '') },
      ],
      accessLog: true,
    });
    accessLog = followAccessLog(join(nginx.prefix, 'logs', 'access.log'));
    // 12 orders with 5 entries a page: archives 1 and 2 are sealed, page 3 is the working page.
    for (let i = 0; i < 12; i += 1) await placeOrder(`Customer ${i}`);
  });

  after(async () => {
    const failures: unknown[] = [];
    for (const step of [() => nginx?.stop(), () => origin?.close(), () => privateOrigin?.close(), () => agent.destroy()]) {
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

    // 200 consumers poll /feed with If-None-Match, each every 100 ms, until nginx has refreshed
    // the document from the origin three more times: three freshness windows under load.
    const fillsBefore = cacheFills(feedLog()).length;
    const statuses = new Map<string, number>();
    let polling = true;
    const consumer = async (): Promise<void> => {
      let etag = '';
      while (polling) {
        const r = await get(`${base}/feed`, etag ? { 'if-none-match': etag } : {}).catch((e: Error) => e);
        const status = r instanceof Error ? r.message : String(r.status);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (!(r instanceof Error)) etag = r.headers['etag'] ?? etag;
        await new Promise((res) => setTimeout(res, 100));
      }
    };
    const consumers = Promise.all(Array.from({ length: 200 }, consumer));
    try {
      await eventually('three refreshes of /feed while 200 consumers poll', () => (cacheFills(feedLog()).length >= fillsBefore + 3 ? true : undefined), 200);
    } finally {
      polling = false;
      await consumers;
    }
    const polls = [...statuses.values()].reduce((a, b) => a + b, 0);
    expect([...statuses.keys()].every((s) => s === '200' || s === '304'), JSON.stringify([...statuses])).to.equal(true);
    // Whatever the speed of the machine: never two origin requests for one URL (and
    // representation) within one freshness window, by nginx's own log and clock.
    const fills = cacheFills(feedLog());
    expect(fillsWithinOneWindow(accessLog(), MAX_AGE), `${fills.length - fillsBefore} origin requests for /feed in ${polls} polls`).to.deep.equal([]);
    // Nothing changed meanwhile, so each refresh was a conditional GET the origin answered 304.
    expect(fills.slice(fillsBefore).map((f) => `${f.cache} ${f.originStatus}`)).to.satisfy((a: string[]) => a.every((x) => x === 'REVALIDATED 304'));
  });

  it('brings a new entry to consumers through the cache at the first refresh after it is written', async () => {
    const before = Date.now();
    const orderId = await placeOrder('Grace Hopper');
    const placed = Date.now();
    const seen = await eventually('the new order in /feed through the cache', async () => {
      const r = await get(`${base}/feed`, { accept: ATOM });
      return r.body.includes(orderId) ? r : undefined;
    }, 250);
    // From the cache (a pass-through would have no cache status).
    expect(seen.headers['x-cache-status']).to.be.oneOf(['HIT', 'MISS', 'EXPIRED', 'REVALIDATED', 'STALE', 'UPDATING']);
    const version = seen.headers['etag'];
    // It came in by a conditional GET from nginx (If-None-Match of its copy) answered 200...
    expect(originHits('public', '/feed', before).some((h) => h.ifNoneMatch !== ''), 'no conditional GET reached the origin').to.equal(true);
    const fills = cacheFills(feedLog());
    expect(fills.some((f) => f.endMs >= before && f.originStatus === '200' && f.originEtag === version), JSON.stringify(fills.slice(-3))).to.equal(true);
    // ...and every refresh begun once the order was acknowledged brought that version: the
    // first refresh after a write carries it, however long a refresh takes.
    const after = fills.filter((f) => f.startMs >= placed);
    expect(after.map((f) => f.originEtag), JSON.stringify(after)).to.satisfy((etags: string[]) => etags.every((e) => e === version));
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

  // (A service whose feeds need credentials is cached too, behind nginx's own check of each
  // reader: test/cacheTierProtected.int.test.ts. This one is configured as an open service.)
  it('never stores a response to a request with Authorization, nor a FEED_TOKEN feed behind an open service\'s configuration', async () => {
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
    const since = Date.now();
    // Far longer than the test may take: only the new entry can end this wait with a 200.
    const poll = get(`${base}/feed`, { accept: ATOM, prefer: 'wait=50', 'if-none-match': now.headers['etag']! });
    poll.catch(() => undefined);
    await eventually('the long poll waiting at the origin', () => originHits('public', '/feed', since).find((h) => h.prefer === 'wait=50'));
    const orderId = await placeOrder('Long Poller');
    const r = await poll;
    expect(r.status).to.equal(200);
    expect(r.headers['preference-applied']).to.equal('wait=50');
    expect(r.headers['x-cache-status'] ?? '').to.equal('');
    expect(r.body).to.include(orderId);
  });

  it("never writes a request's query to its access log: download signatures and view tokens are customers' credentials", async () => {
    const secrets = ['DOWNLOAD-SIG-0123456789abcdef', 'VIEW-TOKEN-0123456789abcdef'];
    const since = Date.now();
    await get(`${base}/downloads/sh-1/EBOOK-7?expires=1796021790&sig=${secrets[0]}`, { accept: 'text/html' });
    await get(`${base}/view/msg-1?t=${secrets[1]}`, { accept: 'text/html' });
    await get(`${base}/view/msg-1?t=${secrets[1]}`, { authorization: 'Bearer straight-to-the-origin' });
    const logged = await eventually('the three requests in the access log', () => {
      const lines = accessLog().filter((l) => l.endMs >= since - 1000 && /^\/(downloads|view)\//.test(l.target));
      return lines.length >= 3 ? lines : undefined;
    });
    expect(logged.map((l) => l.target)).to.have.members(['/downloads/sh-1/EBOOK-7', '/view/msg-1', '/view/msg-1']);
    const raw = readFileSync(join(nginx!.prefix, 'logs', 'access.log'), 'utf8');
    for (const s of secrets) {
      expect(raw, 'access log').not.to.include(s);
      expect(cacheFileKeys(join(nginx!.prefix, 'cache')).filter((k) => k.includes(s)), 'cache keys').to.deep.equal([]);
    }
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
    // Once its max-age has passed, nginx tries the origin, fails, and still serves /feed from
    // the stored copy.
    const down = Date.now();
    const failedAttempt = (): AccessLogLine | undefined => feedLog().find((l) => l.startMs >= down && l.origin !== '' && !['200', '304'].includes(l.originStatus));
    await eventually('an attempt to refresh /feed from the origin that is down', async () => {
      const r = await get(`${base}/feed`, { accept: ATOM });
      expect(r.status).to.equal(200);
      return failedAttempt();
    }, 250);
    const feed = await get(`${base}/feed`, { accept: ATOM });
    expect(feed.status).to.equal(200);
    // (UPDATING: another attempt is under way meanwhile; the copy served is the stale one too.)
    expect(feed.headers['x-cache-status']).to.be.oneOf(['STALE', 'UPDATING']);
    expect(feed.body).to.include('Grace Hopper');
    // What was never cached cannot be served: the proxy says the origin is unreachable.
    expect((await get(`${base}/feed/archive/1`, { accept: 'text/html', 'accept-encoding': 'br' })).status).to.equal(502);
  });
});
