import Router from '@koa/router';
import { expect } from 'chai';
import { type LogLevel, createLogger } from '../log/logger.ts';
import { type TestFeedServer, startTestFeedServer } from '../testing/feedServer.ts';
import { type Reply, call, callChunked, expectProblem, takePort } from '../testing/http.ts';
import { createBaseApp } from './baseApp.ts';
import { readJsonBody } from './jsonBody.ts';

type Line = Record<string, unknown>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ABSURD_IDS = ['x'.repeat(201), 'two words', '<script>', 'a,b', 'caf\u00e9'];

function explodeInTheRoute(): never {
  throw new TypeError('boom');
}

async function startApp(level: LogLevel = 'info') {
  const lines: Line[] = [];
  const app = createBaseApp(createLogger({ service: 'test' }, level, (l) => lines.push(JSON.parse(l) as Line)));
  const router = new Router();
  router.get('/ok', (ctx) => { ctx.body = { ok: true }; });
  router.get('/boom', () => explodeInTheRoute());
  router.post('/echo', async (ctx) => { ctx.body = await readJsonBody(ctx, 1024); });
  app.use(router.routes()).use(router.allowedMethods());
  const port = await takePort();
  port.serve(app.callback());
  return { url: port.url, lines, close: () => port.close() };
}

function expectAllowProblem(r: Reply, status: number, allow: RegExp): void {
  expectProblem(r, status, /allowed: /);
  expect(r.headers['allow']).to.match(allow);
  expect(r.json()).to.include({ type: 'about:blank', status });
}

describe('Every response of the base app', function () {
  let s: Awaited<ReturnType<typeof startApp>>;
  afterEach(async () => s?.close());

  describe('X-Request-Id', () => {
    it('echoes a sane id on a 200 and on a 404', async () => {
      s = await startApp();
      for (const [path, status] of [['/ok', 200], ['/nowhere', 404]] as const) {
        const r = await call('GET', `${s.url}${path}`, undefined, { 'x-request-id': 'req-42.abc_DEF' });
        expect(r.status).to.equal(status);
        expect(r.headers['x-request-id'], path).to.equal('req-42.abc_DEF');
      }
    });

    it('makes a new id for each request that has none', async () => {
      s = await startApp();
      const a = await call('GET', `${s.url}/ok`);
      const b = await call('GET', `${s.url}/nowhere`);
      expect(a.headers['x-request-id']).to.match(UUID);
      expect(b.headers['x-request-id']).to.match(UUID).and.not.equal(a.headers['x-request-id']);
    });

    it('replaces an absurd id (too long, not a token) with a new one', async () => {
      s = await startApp();
      for (const id of ABSURD_IDS) {
        const r = await call('GET', `${s.url}/ok`, undefined, { 'x-request-id': id });
        expect(r.headers['x-request-id'], id).to.match(UUID);
      }
    });
  });

  describe('logs', () => {
    it("puts the request id and the error's stack on the log lines of a failing request", async () => {
      s = await startApp('info');
      const r = await call('GET', `${s.url}/boom`, undefined, { 'x-request-id': 'trace-me' });
      expectProblem(r, 500, /has been logged/);
      expect(r.body).not.to.include('TypeError');
      expect(r.headers['x-request-id']).to.equal('trace-me');
      const failed = s.lines.find((l) => l['msg'] === 'request failed')!;
      expect(failed).to.include({ level: 'error', requestId: 'trace-me', service: 'test', method: 'GET', path: '/boom' });
      const err = failed['err'] as Line;
      expect(err).to.include({ name: 'TypeError', message: 'boom' });
      expect(err['stack']).to.match(/^TypeError: boom\n\s+at explodeInTheRoute/);
      expect(s.lines.find((l) => l['msg'] === 'request')).to.include({ level: 'warn', requestId: 'trace-me', status: 500 });
    });

    it('writes one access-log line per request at debug', async () => {
      s = await startApp('debug');
      await call('GET', `${s.url}/ok`, undefined, { 'x-request-id': 'seen-1', 'user-agent': 'probe/1.0' });
      await call('DELETE', `${s.url}/ok`, undefined, { 'x-request-id': 'seen-2' });
      const access = s.lines.filter((l) => l['msg'] === 'request');
      expect(access).to.have.length(2);
      expect(access[0]).to.include({ level: 'debug', service: 'test', requestId: 'seen-1', method: 'GET', path: '/ok', status: 200, bytes: 11, userAgent: 'probe/1.0' });
      expect(access[0]!['ms']).to.be.a('number');
      expect(access[1]).to.include({ level: 'debug', requestId: 'seen-2', method: 'DELETE', status: 405 });
    });

    it("logs the path without its query: signed links carry customers' credentials there", async () => {
      s = await startApp('debug');
      await call('GET', `${s.url}/ok?expires=1796021790&sig=SIG-SECRET-1`);
      await call('GET', `${s.url}/boom?t=VIEW-SECRET-2`);
      await call('GET', `${s.url}/nowhere?t=VIEW-SECRET-3`);
      const access = s.lines.filter((l) => l['msg'] === 'request');
      expect(access.map((l) => l['path'])).to.deep.equal(['/ok', '/boom', '/nowhere']);
      expect(s.lines.find((l) => l['msg'] === 'request failed')).to.include({ path: '/boom' });
      expect(JSON.stringify(s.lines)).not.to.match(/SECRET/);
    });

    it('writes no access-log line at info', async () => {
      s = await startApp('info');
      expect((await call('GET', `${s.url}/ok`)).status).to.equal(200);
      expect((await call('GET', `${s.url}/nowhere`)).status).to.equal(404);
      expect(s.lines).to.deep.equal([]);
    });
  });

  describe('errors as application/problem+json', () => {
    it('answers a method a route lacks with 405, an Allow header and the request id', async () => {
      s = await startApp();
      const r = await call('DELETE', `${s.url}/ok`, undefined, { 'x-request-id': 'm-1' });
      expectAllowProblem(r, 405, /^HEAD, GET$/);
      expect(r.json()).to.include({ title: 'Method not allowed', instance: '/ok' });
      expect(r.headers['x-request-id']).to.equal('m-1');
      expectAllowProblem(await call('PUT', `${s.url}/echo`, {}), 405, /^POST$/);
    });

    it('answers a method the router does not know with 501 and an Allow header', async () => {
      s = await startApp();
      expectAllowProblem(await call('PROPFIND', `${s.url}/ok`), 501, /GET/);
    });

    it('answers an unknown path with 404', async () => {
      s = await startApp();
      expectProblem(await call('GET', `${s.url}/nowhere`), 404, /No resource at \/nowhere/);
    });

    it('answers a chunked body over the limit with 413, which the client receives', async () => {
      s = await startApp();
      const chunk = `"${'x'.repeat(510)}",`;
      const r = await callChunked('POST', `${s.url}/echo`, ['[', ...Array<string>(10).fill(chunk), '0]']);
      expectProblem(r, 413, /at most 1024 bytes/);
      expect(r.headers['x-request-id']).to.match(UUID);
      // The same app still reads a chunked body within the limit.
      const ok = await callChunked('POST', `${s.url}/echo`, ['{"a":', '1}']);
      expect([ok.status, ok.body]).to.deep.equal([200, '{"a":1}']);
    });

    it('answers a chunked body far over the limit with 413 too, and closes that connection', async () => {
      s = await startApp();
      const r = await callChunked('POST', `${s.url}/echo`, Array<Buffer>(40).fill(Buffer.alloc(64 * 1024, 0x20)));
      expectProblem(r, 413, /at most 1024 bytes/);
      expect(r.headers['connection']).to.equal('close');
    });
  });
});

describe("The feed's 304s and X-Request-Id", () => {
  let feed: TestFeedServer;
  afterEach(async () => feed?.close());

  it('echoes, makes or replaces the id on a fast-path 304 and on a Koa 304', async () => {
    feed = await startTestFeedServer({ pageSize: 2 });
    for (let i = 0; i < 3; i += 1) feed.append();
    for (const url of [feed.feedUrl, `${feed.url}/feed/archive/1`]) {
      const etag = (await call('GET', url)).headers['etag']!;
      const given = await call('GET', url, undefined, { 'if-none-match': etag, 'x-request-id': 'poll-7' });
      expect([given.status, given.headers['x-request-id']], url).to.deep.equal([304, 'poll-7']);
      const made = await call('GET', url, undefined, { 'if-none-match': etag });
      expect(made.status).to.equal(304);
      expect(made.headers['x-request-id'], url).to.match(UUID);
      for (const id of ABSURD_IDS) {
        const replaced = await call('GET', url, undefined, { 'if-none-match': etag, 'x-request-id': id });
        expect(replaced.status).to.equal(304);
        expect(replaced.headers['x-request-id'], `${url} ${id}`).to.match(UUID);
      }
    }
    // The /feed revalidations above were answered by the fast path, the archive's by Koa.
    expect(feed.requests.filter((r) => r.status === 304).map((r) => r.path)).to.include('/feed').and.include('/feed/archive/1');
  });
});
