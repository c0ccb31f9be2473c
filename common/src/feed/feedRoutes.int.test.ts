import { expect } from 'chai';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { request } from 'undici';
import { atomProblems } from '../testing/atomValidation.ts';
import { type TestFeedServer, startTestFeedServer } from '../testing/feedServer.ts';
import { tempDir } from '../testing/tempDir.ts';

interface Got { status: number; headers: Record<string, string>; body: string; raw: Buffer }

async function get(url: string, headers: Record<string, string> = {}, method: 'GET' | 'HEAD' = 'GET', reset = false): Promise<Got> {
  const res = await request(url, { method, reset, headers: { 'accept-encoding': 'identity', ...headers } });
  const raw = Buffer.from(await res.body.arrayBuffer());
  const h = Object.fromEntries(Object.entries(res.headers).map(([k, v]) => [k, String(v)]));
  return { status: res.statusCode, headers: h, body: raw.toString('utf8'), raw };
}

function positions(xml: string): number[] {
  return [...xml.matchAll(/<shop:position>(\d+)<\/shop:position>/g)].map((m) => Number(m[1]));
}

const VALIDATORS = ['etag', 'cache-control', 'vary', 'last-modified', 'link'];

describe('The feed over HTTP', function () {
  this.timeout(30_000);
  const dir = tempDir();
  let s: TestFeedServer;
  afterEach(async () => { await s?.close(); });
  after(() => dir.remove());

  describe('documents valid against the RFC 4287 grammar', () => {
    for (const [name, count] of [['empty', 0], ['partial', 2], ['exactly full', 3], ['multi-page', 10]] as const) {
      it(`serves a valid ${name} feed, every page of it`, async () => {
        s = await startTestFeedServer({ pageSize: 3 });
        for (let i = 0; i < count; i += 1) s.append();
        let url: string | undefined = s.feedUrl;
        const seen: number[] = [];
        let documents = 0;
        while (url) {
          const r = await get(url);
          expect(r.status, url).to.equal(200);
          expect(await atomProblems(r.body), url).to.deep.equal([]);
          seen.push(...positions(r.body));
          documents += 1;
          expect(r.body.includes('<fh:archive/>'), url).to.equal(documents > 1);
          url = /<link rel="prev-archive" type="application\/atom\+xml" href="([^"]+)"/.exec(r.body)?.[1];
        }
        expect(seen.sort((a, b) => a - b)).to.deep.equal(Array.from({ length: count }, (_, i) => i + 1));
        expect(documents).to.equal(count <= 3 ? 1 : Math.ceil(count / 3));
      });
    }

    it('links archives with prev-archive, next-archive and current, each carrying fh:archive', async () => {
      s = await startTestFeedServer({ pageSize: 2 });
      for (let i = 0; i < 7; i += 1) s.append();
      const a2 = await get(`${s.url}/feed/archive/2`);
      expect(a2.body).to.include('<fh:archive/>');
      expect(a2.body).to.include(`<link rel="prev-archive" type="application/atom+xml" href="${s.url}/feed/archive/1"/>`);
      expect(a2.body).to.include(`<link rel="next-archive" type="application/atom+xml" href="${s.url}/feed/archive/3"/>`);
      expect(a2.body).to.include(`<link rel="current" type="application/atom+xml" href="${s.url}/feed"/>`);
      expect(a2.headers['link']).to.include(`<${s.url}/feed/archive/1>; rel="prev-archive"`);
      const a1 = await get(`${s.url}/feed/archive/1`);
      expect(a1.body).to.not.include('rel="prev-archive"');
      const sub = await get(s.feedUrl);
      expect(sub.headers['link']).to.include(`<${s.url}/feed/archive/3>; rel="prev-archive"`);
    });

    it('serves each entry as its own valid entry document, linked from the feed', async () => {
      s = await startTestFeedServer();
      const e = s.append({ title: 'One entry' });
      const feed = await get(s.feedUrl);
      const href = `${s.url}/feed/entries/${e.key}`;
      expect(feed.body).to.include(`rel="self" type="application/atom+xml;type=entry" href="${href}"`);
      const doc = await get(href);
      expect(doc.status).to.equal(200);
      expect(doc.headers['content-type']).to.equal('application/atom+xml; type=entry; charset=utf-8');
      expect(await atomProblems(doc.body)).to.deep.equal([]);
      expect(doc.body).to.include(`<id>urn:uuid:${e.key}</id>`);
    });

    it('serves a read-only AtomPub service document', async () => {
      s = await startTestFeedServer();
      const r = await get(`${s.url}/service`);
      expect(r.headers['content-type']).to.equal('application/atomsvc+xml; charset=utf-8');
      expect(r.body).to.include(`<collection href="${s.url}/feed">`).and.include('<accept/>');
    });
  });

  describe('caching', () => {
    it('marks complete archives immutable for a year and the subscription document short-lived', async () => {
      s = await startTestFeedServer({ pageSize: 2, maxAgeSeconds: 1 });
      for (let i = 0; i < 3; i += 1) s.append();
      const archive = await get(`${s.url}/feed/archive/1`);
      expect(archive.headers['cache-control']).to.equal('public, max-age=31536000, immutable');
      expect(archive.headers['etag']).to.match(/^"[^W][^"]*"$/);
      const sub = await get(s.feedUrl);
      expect(sub.headers['cache-control']).to.match(/^public, max-age=1\b/);
      expect(sub.headers['etag']).to.match(/^"/);
      expect(sub.headers['last-modified']).to.match(/GMT$/);
    });

    it('answers If-None-Match with a 304 carrying the same validators and cache headers, without rendering', async () => {
      s = await startTestFeedServer({ pageSize: 2 });
      for (let i = 0; i < 3; i += 1) s.append();
      for (const path of ['/feed', '/feed/archive/1']) {
        const first = await get(`${s.url}${path}`);
        const renders = s.publisher.stats.renders;
        const again = await get(`${s.url}${path}`, { 'if-none-match': first.headers['etag']! });
        expect(again.status, path).to.equal(304);
        expect(again.raw.length).to.equal(0);
        for (const h of VALIDATORS) expect(again.headers[h], `${path} ${h}`).to.equal(first.headers[h]);
        expect(s.publisher.stats.renders, 'a 304 renders nothing').to.equal(renders);
      }
    });

    it('sends the same 304 from the fast path in front of Koa as from the Koa route', async () => {
      s = await startTestFeedServer();
      s.append();
      for (const headers of [{}, { 'accept-encoding': 'gzip' }, { accept: 'text/html' }] as Record<string, string>[]) {
        const etag = (await get(s.feedUrl, headers)).headers['etag']!;
        // The same X-Request-Id for both, which each must echo (else each makes its own).
        const fast = await get(s.feedUrl, { ...headers, 'if-none-match': etag, 'x-request-id': 'same-request' });
        // Any Prefer header sends the request through Koa; return=minimal changes nothing else.
        const koa = await get(s.feedUrl, { ...headers, 'if-none-match': etag, 'x-request-id': 'same-request', prefer: 'return=minimal' });
        expect([fast.status, koa.status]).to.deep.equal([304, 304]);
        const comparable = (h: Record<string, string>) => Object.fromEntries(Object.entries(h).filter(([k]) => !['date', 'connection', 'keep-alive'].includes(k)));
        expect(comparable(fast.headers)).to.deep.equal(comparable(koa.headers));
      }
    });

    it('answers If-Modified-Since with a 304, and a 200 once a new entry is committed', async () => {
      let clock = Date.now() - 10_000;
      s = await startTestFeedServer({ now: () => new Date(clock) });
      s.append();
      clock = Date.now();
      const first = await get(s.feedUrl);
      const since = first.headers['last-modified']!;
      expect((await get(s.feedUrl, { 'if-modified-since': since })).status).to.equal(304);
      s.append();
      expect((await get(s.feedUrl, { 'if-modified-since': since })).status).to.equal(200);
    });

    it('changes the ETag when an entry is added, and only then', async () => {
      s = await startTestFeedServer();
      s.append();
      const a = (await get(s.feedUrl)).headers['etag'];
      expect((await get(s.feedUrl)).headers['etag']).to.equal(a);
      s.append();
      expect((await get(s.feedUrl)).headers['etag']).to.not.equal(a);
    });

    it('serves gzip and br with Vary and a distinct strong ETag per coding', async () => {
      s = await startTestFeedServer({ pageSize: 2 });
      for (let i = 0; i < 3; i += 1) s.append({ title: 'x'.repeat(500) });
      const plain = await get(`${s.url}/feed/archive/1`);
      const gz = await get(`${s.url}/feed/archive/1`, { 'accept-encoding': 'gzip' });
      const br = await get(`${s.url}/feed/archive/1`, { 'accept-encoding': 'br, gzip' });
      expect(gz.headers['content-encoding']).to.equal('gzip');
      expect(br.headers['content-encoding']).to.equal('br');
      expect(gunzipSync(gz.raw).toString()).to.equal(plain.body);
      expect(brotliDecompressSync(br.raw).toString()).to.equal(plain.body);
      expect(new Set([plain.headers['etag'], gz.headers['etag'], br.headers['etag']]).size).to.equal(3);
      for (const r of [plain, gz, br]) expect(r.headers['vary']).to.equal('Accept, Accept-Encoding');
      expect((await get(`${s.url}/feed/archive/1`, { 'accept-encoding': 'gzip', 'if-none-match': gz.headers['etag']! })).status).to.equal(304);
      expect((await get(`${s.url}/feed/archive/1`, { 'if-none-match': gz.headers['etag']! })).status, 'a gzip ETag does not validate identity').to.equal(200);
    });

    it('keeps ETags and archive bytes across a restart, serving archives from stored bytes', async () => {
      const file = join(dir.path, 'restart.db');
      s = await startTestFeedServer({ pageSize: 2, file, port: 0 });
      for (let i = 0; i < 5; i += 1) s.append();
      const port = new URL(s.url).port;
      const before = await Promise.all(['/feed', '/feed/archive/1', '/feed/archive/2'].map((p) => get(`${s.url}${p}`, {}, 'GET', true)));
      await s.close();
      s = await startTestFeedServer({ pageSize: 2, file, port: Number(port) });
      const after = await Promise.all(['/feed', '/feed/archive/1', '/feed/archive/2'].map((p) => get(`${s.url}${p}`)));
      after.forEach((r, i) => {
        expect(r.headers['etag']).to.equal(before[i]!.headers['etag']);
        expect(r.body).to.equal(before[i]!.body);
      });
      expect(s.publisher.stats.renders, 'archives came from stored bytes; only /feed rendered').to.equal(1);
    });

    it('never lets If-Modified-Since hide an entry committed later in the same second', async () => {
      s = await startTestFeedServer({ now: () => new Date(Math.floor(Date.now() / 1000) * 1000 + 999) });
      s.append();
      const since = (await get(s.feedUrl)).headers['last-modified']!;
      s.append();
      expect((await get(s.feedUrl, { 'if-modified-since': since })).status).to.equal(200);
    });

    it('sends 304 for HEAD too', async () => {
      s = await startTestFeedServer();
      s.append();
      const head = await get(s.feedUrl, {}, 'HEAD');
      expect(head.status).to.equal(200);
      expect((await get(s.feedUrl, { 'if-none-match': head.headers['etag']! }, 'HEAD')).status).to.equal(304);
    });

    it('marks a token-protected feed private and refuses reads without the token', async () => {
      const token = 'a-feed-token-of-some-length';
      s = await startTestFeedServer({ feedToken: token, pageSize: 1 });
      s.append();
      s.append();
      const denied = await get(s.feedUrl);
      expect(denied.status).to.equal(401);
      expect(denied.headers['content-type']).to.match(/^application\/problem\+json/);
      const ok = await get(s.feedUrl, { authorization: `Bearer ${token}` });
      expect(ok.status).to.equal(200);
      expect(ok.headers['cache-control']).to.match(/^private\b/);
      expect((await get(`${s.url}/feed/archive/1`, { authorization: `Bearer ${token}` })).headers['cache-control']).to.match(/^private\b/);
    });
  });

  describe('paging edges', () => {
    it('redirects the working page\'s future archive URL to the subscription document', async () => {
      s = await startTestFeedServer({ pageSize: 2 });
      s.append();
      const r = await get(`${s.url}/feed/archive/1`);
      expect(r.status).to.equal(303);
      expect(r.headers['location']).to.equal(s.feedUrl);
      expect(r.headers['cache-control']).to.equal('no-store');
    });

    it('answers an unknown archive page or entry with a problem+json 404', async () => {
      s = await startTestFeedServer();
      for (const path of ['/feed/archive/99', '/feed/archive/0', '/feed/archive/abc', '/feed/entries/nope']) {
        const r = await get(`${s.url}${path}`);
        expect(r.status, path).to.equal(404);
        expect(r.headers['content-type'], path).to.match(/^application\/problem\+json/);
        expect(JSON.parse(r.body)).to.include({ status: 404 });
      }
    });

    it('answers 406 when the client accepts neither Atom nor HTML', async () => {
      s = await startTestFeedServer();
      const r = await get(s.feedUrl, { accept: 'application/json' });
      expect(r.status).to.equal(406);
      expect(JSON.parse(r.body).detail).to.match(/atom\+xml or text\/html/);
    });
  });

  describe('long polling with Prefer: wait', () => {
    it('holds the request until a new entry is committed, then answers with it', async () => {
      s = await startTestFeedServer();
      s.append();
      const first = await get(s.feedUrl);
      const pending = get(s.feedUrl, { prefer: 'wait=20', 'if-none-match': first.headers['etag']! });
      setTimeout(() => s.append({ title: 'the awaited one' }), 300);
      const r = await pending;
      expect(r.status).to.equal(200);
      expect(r.headers['preference-applied']).to.equal('wait=20');
      expect(r.body).to.include('the awaited one');
    });

    it('answers 304 when nothing arrives in time', async () => {
      s = await startTestFeedServer();
      s.append();
      const first = await get(s.feedUrl);
      const r = await get(s.feedUrl, { prefer: 'wait=1', 'if-none-match': first.headers['etag']! });
      expect(r.status).to.equal(304);
      expect(r.headers['preference-applied']).to.equal('wait=1');
    });

    it('answers at once when the client is already behind', async () => {
      s = await startTestFeedServer();
      s.append();
      const first = await get(s.feedUrl);
      s.append();
      const r = await get(s.feedUrl, { prefer: 'wait=30', 'if-none-match': first.headers['etag']! });
      expect(r.status).to.equal(200);
      expect(positions(r.body)).to.deep.equal([2, 1]);
    });
  });

  describe('in a browser', () => {
    it('serves an HTML page of the same feed page with autodiscovery and navigation', async () => {
      s = await startTestFeedServer({ pageSize: 2 });
      for (let i = 0; i < 5; i += 1) s.append({ title: `Entry number ${i + 1}` });
      const browser = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
      const page = await get(s.feedUrl, { accept: browser });
      expect(page.headers['content-type']).to.equal('text/html; charset=utf-8');
      expect(page.body).to.include(`<link rel="alternate" type="application/atom+xml" title="Test feed" href="${s.feedUrl}">`);
      expect(page.body).to.include('Entry number 5').and.include(`href="${s.url}/feed/archive/2"`);
      const archive = await get(`${s.url}/feed/archive/1`, { accept: browser });
      expect(archive.body).to.include('Entry number 1').and.include('Entry number 2').and.not.include('Entry number 3');
      expect(page.headers['etag']).to.not.equal((await get(s.feedUrl)).headers['etag']);
    });

    it('shows customer text as text, never as markup', async () => {
      s = await startTestFeedServer();
      const hostile = '<script>alert(1)</script> & "Bob"';
      s.append({ title: hostile, summary: hostile });
      const atom = await get(s.feedUrl);
      expect(await atomProblems(atom.body)).to.deep.equal([]);
      const html = await get(s.feedUrl, { accept: 'text/html' });
      expect(html.body).to.include('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Bob&quot;');
      expect(html.body).to.not.include('<script>');
      expect(html.headers['content-security-policy']).to.include("default-src 'none'");
    });

    it('has a home page linking the feed', async () => {
      s = await startTestFeedServer();
      const home = await get(`${s.url}/`);
      expect(home.headers['content-type']).to.equal('text/html; charset=utf-8');
      expect(home.body).to.include(`href="${s.url}/feed"`);
    });
  });
});
