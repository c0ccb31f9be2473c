import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { type Db, migrate, openDatabase } from '../db/database.ts';
import { startTestFeedServer, type TestFeedServer } from '../testing/feedServer.ts';
import { consumerMigrations } from './consumerStore.ts';
import { FeedConsumer, type PollResult } from './feedConsumer.ts';
import { FeedFetcher, FeedOriginRefused } from './feedFetcher.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const TOKEN = 'feed-token-0123456789abcdef';

/** A node:http server on its own port that records every request it gets, headers and all. */
interface Host {
  readonly url: string;
  readonly requests: { readonly path: string; readonly headers: IncomingHttpHeaders }[];
  handle: Handler;
  close(): Promise<void>;
}

async function host(): Promise<Host> {
  const state = {
    requests: [] as Host['requests'][number][],
    handle: ((_q, res) => res.writeHead(404).end()) as Handler,
  };
  const server: Server = createServer((req, res) => {
    state.requests.push({ path: req.url ?? '', headers: req.headers });
    state.handle(req, res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: state.requests,
    get handle() { return state.handle; },
    set handle(h) { state.handle = h; },
    close: () => new Promise((done) => { server.closeAllConnections(); server.close(() => done()); }),
  };
}

/**
 * Serves `path` (default: the request's own) of the real feed with its links rewritten to `base`,
 * then `edit` applied to the body; refuses (401) a request without the token when `needToken`.
 */
function proxy(real: TestFeedServer, base: string, o: { path?: string; needToken?: boolean; edit?: (body: string) => string } = {}): Handler {
  return (req, res) => {
    if (o.needToken && req.headers.authorization !== `Bearer ${TOKEN}`) return void res.writeHead(401).end('token required');
    void fetch(`${real.url}${o.path ?? req.url}`, { headers: { accept: 'application/atom+xml' } }).then(async (r) => {
      const body = (await r.text()).replaceAll(real.url, base);
      res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'text/plain' }).end(o.edit ? o.edit(body) : body);
    });
  };
}

const redirect = (location: string): Handler => (_q, res) => res.writeHead(302, { location }).end();
const prevArchiveTo = (from: string, to: string) => (body: string) => body.replace(`rel="prev-archive" type="application/atom+xml" href="${from}`, `rel="prev-archive" type="application/atom+xml" href="${to}`);

describe('FeedConsumer and origins: the token stays with the feed', () => {
  let real: TestFeedServer;
  let feed: Host;
  let other: Host;
  let db: Db;
  let consumer: FeedConsumer;
  const seen: number[] = [];

  const start = async (allowedOrigins?: readonly string[]) => {
    consumer = new FeedConsumer(db, {
      name: 'test', feedUrl: `${feed.url}/feed`, token: TOKEN, allowedOrigins, backoff: { baseMs: 0, maxMs: 0 },
      handler: (e) => { seen.push(e.position); },
    });
    // Pages of 3: archive 1 holds 1-3, /feed holds 4. Read them, then add 5-7 so that the page
    // holding 4 is now archive 2 and the next poll must walk back to it.
    expect(await consumer.pollOnce()).to.include({ kind: 'read', position: 4 });
    for (let i = 0; i < 3; i++) real.append();
  };
  const expectRefused = async (pattern: RegExp) => {
    const r = await consumer.pollOnce() as Extract<PollResult, { kind: 'failed' }>;
    expect(r.kind).to.equal('failed');
    expect(r.error).to.match(pattern);
    expect(consumer.status().lastError).to.match(pattern);
    expect(consumer.status()).to.include({ position: 4, failures: 1 });
    expect(seen).to.deep.equal([1, 2, 3, 4]);
  };
  const refusal = (target: string) => new RegExp(`refused to follow .*${target}.*: origin ${other.url} is not the feed's origin ${feed.url}; allow it with FEED_ALLOWED_ORIGINS`);

  beforeEach(async () => {
    real = await startTestFeedServer({ pageSize: 3 });
    for (let i = 0; i < 4; i++) real.append();
    feed = await host();
    other = await host();
    feed.handle = proxy(real, feed.url, { needToken: true });
    other.handle = proxy(real, feed.url);
    db = openDatabase(':memory:');
    migrate(db, consumerMigrations);
    seen.length = 0;
  });
  afterEach(async () => { await consumer.close(); await feed.close(); await other.close(); await real.close(); db.close(); });

  it('refuses a 302 from the feed to another port: nothing is sent there, the error shows and the position stays', async () => {
    await start();
    expect(feed.requests.map((r) => r.headers.authorization)).to.include(`Bearer ${TOKEN}`);
    feed.handle = (req, res) => req.url === '/feed' ? redirect(`${other.url}/feed`)(req, res) : proxy(real, feed.url, { needToken: true })(req, res);
    await expectRefused(refusal(`${other.url}/feed`));
    expect(consumer.status().lastError).to.include(`redirect from ${feed.url}/feed to ${other.url}/feed`);
    expect(other.requests).to.deep.equal([]);
  });

  it('checks every hop: a same-origin redirect that then redirects to another origin is refused', async () => {
    await start();
    feed.handle = (req, res) => req.url === '/feed' ? redirect('/moved')(req, res) : req.url === '/moved' ? redirect(`${other.url}/feed`)(req, res) : res.writeHead(404).end();
    await expectRefused(refusal(`${other.url}/feed`));
    expect(feed.requests.filter((r) => r.path === '/moved')).to.have.length(1);
    expect(other.requests).to.deep.equal([]);
  });

  it('refuses a prev-archive link to another origin: nothing is sent there, the error shows and the position stays', async () => {
    await start();
    feed.handle = proxy(real, feed.url, { needToken: true, edit: prevArchiveTo(feed.url, other.url) });
    await expectRefused(refusal(`${other.url}/feed/archive/2`));
    expect(other.requests).to.deep.equal([]);
  });

  it('follows a prev-archive link to an allowed origin without the token', async () => {
    await start([other.url]);
    feed.handle = proxy(real, feed.url, { needToken: true, edit: prevArchiveTo(feed.url, other.url) });
    expect(await consumer.pollOnce()).to.include({ kind: 'read', processed: 3, position: 7 });
    expect(seen).to.deep.equal([1, 2, 3, 4, 5, 6, 7]);
    expect(other.requests.map((r) => r.path)).to.deep.equal(['/feed/archive/2']);
    expect(other.requests[0]!.headers).to.not.have.property('authorization');
    expect(feed.requests.at(-1)!.headers.authorization).to.equal(`Bearer ${TOKEN}`);
  });

  it('follows a 302 to an allowed origin without the token', async () => {
    await start([`${other.url}/`]);
    const before = feed.requests.length;
    feed.handle = (req, res) => req.url === '/feed' ? redirect(`${other.url}/feed`)(req, res) : proxy(real, feed.url, { needToken: true })(req, res);
    expect(await consumer.pollOnce()).to.include({ kind: 'read', processed: 3, position: 7 });
    expect(seen).to.deep.equal([1, 2, 3, 4, 5, 6, 7]);
    expect(other.requests.map((r) => r.path)).to.deep.equal(['/feed']);
    expect(other.requests[0]!.headers).to.not.have.property('authorization');
    // The redirected head's paging links lead home again, where the token goes along.
    const home = feed.requests.slice(before);
    expect(home.map((r) => r.path)).to.include('/feed/archive/2');
    expect(home.map((r) => r.headers.authorization)).to.deep.equal(home.map(() => `Bearer ${TOKEN}`));
  });

  it('keeps following a same-origin redirect, with the token', async () => {
    await start();
    const before = feed.requests.length;
    feed.handle = (req, res) => req.url === '/feed' ? redirect('/moved/feed')(req, res) : proxy(real, feed.url, { needToken: true, path: req.url === '/moved/feed' ? '/feed' : undefined })(req, res);
    expect(await consumer.pollOnce()).to.include({ kind: 'read', processed: 3, position: 7 });
    expect(seen).to.deep.equal([1, 2, 3, 4, 5, 6, 7]);
    const after = feed.requests.slice(before);
    expect(after.map((r) => r.path).slice(0, 2)).to.deep.equal(['/feed', '/moved/feed']);
    expect(after.map((r) => r.headers.authorization)).to.deep.equal(after.map(() => `Bearer ${TOKEN}`));
    expect(other.requests).to.deep.equal([]);
  });
});

describe('FeedFetcher.get and origins', () => {
  it('refuses a URL of another origin before sending anything, with a FeedOriginRefused', async () => {
    const feed = await host();
    const other = await host();
    const fetcher = new FeedFetcher({ maxBodyBytes: 100_000, token: TOKEN, origin: `${feed.url}/feed` });
    try {
      const err = await fetcher.get(`${other.url}/feed/archive/1`).then(() => undefined, (e: unknown) => e);
      expect(err).to.be.instanceOf(FeedOriginRefused);
      expect((err as FeedOriginRefused).refusedUrl).to.equal(`${other.url}/feed/archive/1`);
      expect((err as Error).message).to.equal(`refused to follow ${other.url}/feed/archive/1: origin ${other.url} is not the feed's origin ${feed.url}; allow it with FEED_ALLOWED_ORIGINS if intended (it is then fetched without the feed's token)`);
      expect(other.requests).to.deep.equal([]);
    } finally {
      await fetcher.close(); await feed.close(); await other.close();
    }
  });

  it('without an origin, holds each get to the origin of the URL it was given', async () => {
    const feed = await host();
    const other = await host();
    feed.handle = redirect(`${other.url}/feed`);
    const fetcher = new FeedFetcher({ maxBodyBytes: 100_000, token: TOKEN });
    try {
      const err = await fetcher.get(`${feed.url}/feed`).then(() => undefined, (e: unknown) => e);
      expect(err).to.be.instanceOf(FeedOriginRefused);
      expect(feed.requests.map((r) => r.headers.authorization)).to.deep.equal([`Bearer ${TOKEN}`]);
      expect(other.requests).to.deep.equal([]);
    } finally {
      await fetcher.close(); await feed.close(); await other.close();
    }
  });
});
