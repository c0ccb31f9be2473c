// The cache tier in front of a service whose feeds need credentials: a real nginx (Debian's
// package) and a real order service with FEED_READERS_FILE and FEED_CACHE_TOKEN. nginx checks
// every reader with the origin (auth_request to GET /auth/feed, cached a few seconds per
// credential) before it serves anything, and all readers share one cached copy. Nothing here is
// timed: what the cache did is read from nginx's own access log, and waits poll for a condition
// with a deadline that fails a step only if it never happens.
import { expect } from 'chai';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { type AccessLogLine, cacheFills, fillsWithinOneWindow, followAccessLog, isCredentialCheck } from '../deploy/nginx/accessLog.ts';
import { AUTH_CACHE_SECONDS } from '../deploy/nginx/nginxConfig.ts';
import { type RunningNginx, findNginx, freePort, startNginx } from '../deploy/nginx/startNginx.ts';
import { type RunningOrderService, startOrderService } from '../order-service/src/testing/startOrderService.ts';
import { requirePeer } from '../common/src/testing/peers.ts';
import { tempDir } from '../common/src/testing/tempDir.ts';
import { DEADLINE_MS, cacheFileKeys, eventually } from './nginxTesting.ts';

const NGINX = { name: 'nginx', install: 'apt-get install nginx', check: () => findNginx() !== undefined };
const MAX_AGE = 1;
const SECRETS = { alice: 'alice-reads-0123456789ab', bob: 'bob-reads-0123456789abcd', billing: 'billing-reads-0123456789', cache: 'the-cache-tier-0123456789', api: 'api-token-0123456789abcd', ops: 'ops-login-0123456789abcd' };
const ATOM = 'application/atom+xml';
const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const bearer = (secret: string): string => `Bearer ${secret}`;

interface OriginHit { readonly method: string; readonly url: string; readonly authorization: string; readonly prefer: string; readonly at: number }
interface Got { status: number; headers: Record<string, string>; body: string }

describe('The cache tier in front of a protected feed', function () {
  this.timeout(2 * DEADLINE_MS + 10_000);
  const dir = tempDir('cache-tier-protected-');
  const readersFile = join(dir.path, 'feed-readers');
  const hits: OriginHit[] = [];
  const agent = new Agent({ connections: 256, keepAliveTimeout: 2000 });
  let nginx: RunningNginx | undefined;
  let origin: RunningOrderService | undefined;
  let base = '';
  let accessLog: () => readonly AccessLogLine[] = () => [];
  const feedLines = (): AccessLogLine[] => accessLog().filter((l) => l.service === 'orders_origin');

  async function get(path: string, headers: Record<string, string> = {}): Promise<Got> {
    const res = await request(`${base}${path}`, { dispatcher: agent, headers: { 'accept-encoding': 'identity', ...headers } });
    const body = await res.body.text();
    return { status: res.statusCode, headers: Object.fromEntries(Object.entries(res.headers).map(([k, v]) => [k, String(v)])), body };
  }
  const originHits = (url: string, since = 0): OriginHit[] => hits.filter((h) => h.url === url && h.at >= since);

  before(async function () {
    await requirePeer(this, NGINX);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    writeFileSync(readersFile, `# people with a feed reader\nalice:${SECRETS.alice}\nbob:${SECRETS.bob}\n`);
    origin = await startOrderService(join(dir.path, 'orders'), {
      FEED_MAX_AGE: String(MAX_AGE), FEED_PAGE_SIZE: '5', PUBLIC_URL: base,
      FEED_READERS_FILE: readersFile, FEED_READERS: `billing:${SECRETS.billing}`, FEED_CACHE_TOKEN: SECRETS.cache,
      API_TOKEN: SECRETS.api, OPERATORS: `ops:${SECRETS.ops}`,
    }, {
      onRequest: (req) => {
        const h = (name: string): string => String(req.headers[name] ?? '');
        hits.push({ method: req.method ?? '', url: req.url ?? '', authorization: h('authorization'), prefer: h('prefer'), at: Date.now() });
      },
    });
    nginx = await startNginx({ services: [{ name: 'orders', listen: `127.0.0.1:${port}`, upstream: origin.url.replace('http://', ''), cacheToken: SECRETS.cache }], accessLog: true });
    accessLog = followAccessLog(join(nginx.prefix, 'logs', 'access.log'));
    // Writes pass through nginx to the origin, which checks API_TOKEN. 12 orders, 5 a page:
    // archives 1 and 2 are sealed.
    for (let i = 0; i < 12; i += 1) {
      const r = await request(`${base}/orders`, {
        dispatcher: agent, method: 'POST', headers: { 'content-type': 'application/json', authorization: bearer(SECRETS.api) },
        body: JSON.stringify({ customer: { name: `Customer ${i}`, email: 'ada@example.com' }, currency: 'GBP', lines: [{ sku: 'EBOOK-7', name: 'Sketch of the Engine (eBook)', quantity: 1, unitPrice: '4.99', delivery: 'digital' }] }),
      });
      expect(r.statusCode, await r.body.text()).to.equal(201);
    }
  });

  after(async () => {
    const failures: unknown[] = [];
    for (const step of [() => nginx?.stop(), () => origin?.close(), () => agent.destroy()]) {
      try { await step(); } catch (e) { failures.push(e); }
    }
    dir.remove();
    if (failures.length > 0) throw failures[0];
  });

  it('serves a cached archive only to a reader the origin accepts, and private to everyone else', async () => {
    const first = await get('/feed/archive/1', { authorization: basic('alice', SECRETS.alice) });
    expect(first.status).to.equal(200);
    expect(first.headers['x-cache-status']).to.equal('MISS');
    const again = await get('/feed/archive/1', { authorization: bearer(SECRETS.bob) });
    expect(again.headers['x-cache-status']).to.equal('HIT');
    expect(again.body).to.equal(first.body);
    // Clients, and any cache beyond nginx, are told private; nginx's own instructions stay with it.
    for (const r of [first, again]) {
      expect(r.headers['cache-control']).to.equal('private, max-age=31536000, immutable');
      expect(r.headers).not.to.have.property('x-accel-expires');
      expect(r.headers).not.to.have.property('x-feed-reader');
    }
    // No credential, a wrong one, a reader's name with another's secret: 401, though the archive is in the cache.
    for (const authorization of [undefined, bearer('not-a-reader-0123456789'), basic('alice', SECRETS.bob.slice(1)), basic('alice', SECRETS.cache.slice(0, -1))]) {
      const r = await get('/feed/archive/1', authorization ? { authorization } : {});
      expect(r.status, String(authorization)).to.equal(401);
      expect(r.headers['www-authenticate'], String(authorization)).to.equal('Basic realm="order-service feeds", charset="UTF-8"');
      expect(r.body).not.to.include('Customer');
    }
    // The origin served the archive once, to nginx's own credential.
    expect(originHits('/feed/archive/1').map((h) => h.authorization)).to.deep.equal([bearer(SECRETS.cache)]);
    // nginx's log names each reader; the cached copy's key names no credential.
    const archiveLines = feedLines().filter((l) => l.target === '/feed/archive/1' && !isCredentialCheck(l));
    expect(archiveLines.filter((l) => l.status === 200).map((l) => l.reader)).to.deep.equal(['alice', 'bob']);
    const keys = cacheFileKeys(join(nginx!.prefix, 'cache'));
    expect(keys).to.include('orders_origin/feed/archive/1|atom|identity');
    const secrets = Object.values(SECRETS).flatMap((s) => [s, Buffer.from(`alice:${s}`).toString('base64')]);
    for (const k of keys) for (const s of secrets) expect(k).not.to.include(s);
  });

  it('under many polling readers, asks the origin at most once per URL per freshness window, and checks each credential at most once per check window', async () => {
    const since = Date.now();
    const fillsBefore = cacheFills(feedLines()).filter((l) => l.target === '/feed').length;
    const credentials = [basic('alice', SECRETS.alice), bearer(SECRETS.bob), bearer(SECRETS.billing)];
    const statuses = new Map<number, number>();
    let polling = true;
    const consumer = async (i: number): Promise<void> => {
      let etag = '';
      while (polling) {
        const r = await get('/feed', { accept: ATOM, authorization: credentials[i % credentials.length]!, ...(etag ? { 'if-none-match': etag } : {}) });
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        etag = r.headers['etag'] ?? etag;
        await new Promise((res) => setTimeout(res, 100));
      }
    };
    const consumers = Promise.all(Array.from({ length: 150 }, (_, i) => consumer(i)));
    try {
      await eventually('three refreshes of /feed while 150 readers poll', () => (cacheFills(feedLines()).filter((l) => l.target === '/feed').length >= fillsBefore + 3 ? true : undefined), 200);
    } finally {
      polling = false;
      await consumers;
    }
    expect([...statuses.keys()].every((s) => s === 200 || s === 304), JSON.stringify([...statuses])).to.equal(true);
    expect(fillsWithinOneWindow(feedLines(), MAX_AGE)).to.deep.equal([]);
    // Every /feed request the origin saw came from nginx itself, a fill or a revalidation.
    expect(originHits('/feed', since).every((h) => h.authorization === bearer(SECRETS.cache))).to.equal(true);
    // Credential checks: by nginx's log, at most one per credential per AUTH_CACHE_SECONDS (+1, nginx's clock).
    const checks = feedLines().filter((l) => isCredentialCheck(l) && l.startMs >= since && l.originStatus !== '');
    const byReader = new Map<string, number[]>();
    for (const c of checks) byReader.set(c.reader ?? '', [...(byReader.get(c.reader ?? '') ?? []), Math.floor(c.startMs / 1000)]);
    // (alice and bob may still be covered by their checks of the step before.)
    expect(['alice', 'billing', 'bob']).to.include.members([...byReader.keys()]);
    expect(checks.every((c) => c.originStatus === '204')).to.equal(true);

    for (const [reader, seconds] of byReader) {
      const sorted = seconds.sort((a, b) => a - b);
      for (let i = 1; i < sorted.length; i += 1) expect(sorted[i]! - sorted[i - 1]!, `${reader}: ${sorted.join(', ')}`).to.be.at.least(AUTH_CACHE_SECONDS + 1);
    }
  });

  it(`refuses a reader revoked in FEED_READERS_FILE within the stated time (${AUTH_CACHE_SECONDS} s of nginx's check cache, + 1 s, + the origin's reload), while the others keep reading`, async () => {
    expect((await get('/feed/archive/1', { authorization: bearer(SECRETS.bob) })).status).to.equal(200);
    writeFileSync(`${readersFile}.new`, `alice:${SECRETS.alice}\n`);
    renameSync(`${readersFile}.new`, readersFile);
    await eventually('bob refused through nginx', async () => ((await get('/feed/archive/1', { authorization: bearer(SECRETS.bob) })).status === 401 ? true : undefined), 250);
    const alice = await get('/feed/archive/1', { authorization: basic('alice', SECRETS.alice) });
    expect(alice.status).to.equal(200);
    expect(alice.headers['x-cache-status']).to.equal('HIT');
    expect((await get('/feed', { authorization: bearer(SECRETS.billing), accept: ATOM })).status).to.equal(200);
  });

  it('sends long polls to the origin with the reader\'s own credential, after the same check', async () => {
    expect((await get('/feed', { accept: ATOM, prefer: 'wait=1' })).status).to.equal(401);
    const since = Date.now();
    const r = await get('/feed', { accept: ATOM, prefer: 'wait=1', authorization: basic('alice', SECRETS.alice) });
    expect(r.status).to.equal(200);
    expect(r.headers['x-cache-status'] ?? '').to.equal('');
    expect(originHits('/feed', since).filter((h) => h.prefer === 'wait=1').map((h) => h.authorization)).to.deep.equal([basic('alice', SECRETS.alice)]);
  });

  it('passes writes and operator pages to the origin, which checks their own credentials', async () => {
    expect((await get('/metrics')).status).to.equal(401);
    const metrics = await get('/metrics', { authorization: basic('ops', SECRETS.ops) });
    expect(metrics.status).to.equal(200);
    expect(metrics.headers['x-cache-status'] ?? '').to.equal('');
    // What the origin counted: nginx's credential checks by reader, the content by the cache's credential.
    expect(metrics.body).to.match(/^feed_auth_checks_total\{reader="alice"\} [1-9]/m);
    expect(metrics.body).to.match(/^feed_requests_total\{feed="orders",reader="\(cache\)"\} [1-9]/m);
    expect((await get('/healthz')).status).to.equal(200);
    const refused = await request(`${base}/orders`, { dispatcher: agent, method: 'POST', headers: { 'content-type': 'application/json', authorization: bearer(SECRETS.alice) }, body: '{}' });
    await refused.body.dump();
    expect(refused.statusCode).to.equal(401);
  });

  it('keeps serving what is cached to readers it accepted lately when the origin is down, and nothing to anyone else', async () => {
    expect((await get('/feed/archive/1', { authorization: basic('alice', SECRETS.alice) })).status).to.equal(200);
    await origin!.close();
    origin = undefined;
    // Once alice's check has expired, nginx asks the origin, fails, and keeps its last answer.
    const down = Date.now();
    await eventually('a check of alice\'s credential failing at the origin', async () => {
      const r = await get('/feed/archive/1', { authorization: basic('alice', SECRETS.alice) });
      expect(r.status).to.equal(200);
      expect(r.headers['x-cache-status']).to.equal('HIT');
      return feedLines().find((l) => isCredentialCheck(l) && l.startMs >= down && l.origin !== '' && l.reader === 'alice') ?? undefined;
    }, 500);
    // A credential the origin never vouched for gets nothing (nginx cannot check it: 500).
    const stranger = await get('/feed/archive/1', { authorization: bearer('never-seen-0123456789ab') });
    expect(stranger.status).to.equal(500);
    expect(stranger.body).not.to.include('Customer');
    expect((await get('/feed/archive/1')).status).to.be.oneOf([401, 500]);
  });
});
