import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync as zlibGzip } from 'node:zlib';
import { expect } from 'chai';
import { type Db, migrate, openDatabase } from '../db/database.ts';
import { startTestFeedServer, type TestFeedServer } from '../testing/feedServer.ts';
import { consumerMigrations } from './consumerStore.ts';
import { FeedConsumer, type PollResult } from './feedConsumer.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * A misbehaving feed: a plain node:http server in front of a real feed, answering with whatever
 * fault the test sets, or proxying the real feed's bytes when `fault` is undefined.
 */
async function faultyFeed(real: TestFeedServer): Promise<{ url: string; fault: Handler | undefined; close: () => Promise<void> }> {
  const state: { fault: Handler | undefined } = { fault: undefined };
  const server: Server = createServer((req, res) => {
    if (state.fault) return state.fault(req, res);
    void fetch(`${real.url}${req.url}`, { headers: { accept: 'application/atom+xml' } }).then(async (r) => {
      const body = (await r.text()).replaceAll(real.url, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
      res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'text/plain' }).end(body);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/feed`,
    get fault() { return state.fault; },
    set fault(f) { state.fault = f; },
    close: () => new Promise((done) => { server.closeAllConnections(); server.close(() => done()); }),
  };
}

const atom = { 'content-type': 'application/atom+xml' };
const faults: [string, Handler, RegExp][] = [
  ['answers 503', (_q, res) => res.writeHead(503).end('busy'), /answered 503/],
  ['answers garbage', (_q, res) => res.writeHead(200, atom).end('\u0000\u0001<<<not xml'), /well-formed|not an Atom/],
  ['answers an HTML page', (_q, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html></html>'), /text\/html, not an Atom/],
  ['answers a non-Atom XML document', (_q, res) => res.writeHead(200, atom).end('<rss version="2.0"><channel/></rss>'), /not an Atom feed/],
  ['answers a DOCTYPE with an entity', (_q, res) => res.writeHead(200, atom).end('<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY e SYSTEM "file:///etc/passwd">]><feed xmlns="http://www.w3.org/2005/Atom"><id>&e;</id></feed>'), /DOCTYPE/],
  ['declares an oversized body', (_q, res) => res.writeHead(200, { ...atom, 'content-length': String(2_000_000) }).end(), /over the .* byte limit/],
  ['streams an oversized body', (_q, res) => { res.writeHead(200, atom); res.write('<feed>'); res.end('x'.repeat(200_000)); }, /over the .* byte limit/],
  ['sends a gzip bomb', (_q, res) => res.writeHead(200, { ...atom, 'content-encoding': 'gzip' }).end(gzipBomb()), /could not decode gzip/],
  ['is slow to answer', () => { /* never answers */ }, /Headers?TimeoutError|UND_ERR_HEADERS_TIMEOUT/],
  ['stalls in the body', (_q, res) => { res.writeHead(200, atom); res.write('<feed xmlns="http://www.w3.org/2005/Atom">'); }, /BodyTimeoutError|UND_ERR_BODY_TIMEOUT/],
  ['serves an entry missing its id', (_q, res) => res.writeHead(200, atom).end(`<feed xmlns="http://www.w3.org/2005/Atom" xmlns:shop="urn:example:shop:feed:1"><id>urn:uuid:f</id><entry><title>x</title><shop:position>5</shop:position></entry></feed>`), /no atom:id/],
];

function gzipBomb(): Buffer {
  return zlibGzip(Buffer.alloc(5_000_000));
}
describe('FeedConsumer when the feed misbehaves', () => {
  let real: TestFeedServer;
  let bad: Awaited<ReturnType<typeof faultyFeed>>;
  let db: Db;
  let c: FeedConsumer;
  const seen: number[] = [];

  beforeEach(async () => {
    real = await startTestFeedServer({ pageSize: 3 });
    for (let i = 0; i < 4; i++) real.append();
    bad = await faultyFeed(real);
    db = openDatabase(':memory:');
    migrate(db, consumerMigrations);
    seen.length = 0;
    c = new FeedConsumer(db, {
      name: 'test', feedUrl: bad.url, backoff: { baseMs: 0, maxMs: 0 }, maxBodyBytes: 100_000,
      timeouts: { headersMs: 300, bodyMs: 300, totalMs: 5000, connectMs: 1000 }, handler: (e) => { seen.push(e.position); },
    });
    expect(await c.pollOnce()).to.include({ kind: 'read', position: 4 });
    real.append();
  });
  afterEach(async () => { await c.close(); await bad.close(); await real.close(); db.close(); });

  for (const [what, fault, pattern] of faults) {
    it(`does not move, reports and recovers when the feed ${what}`, async () => {
      bad.fault = fault;
      const r = await c.pollOnce() as Extract<PollResult, { kind: 'failed' }>;
      expect(r.kind).to.equal('failed');
      expect(r.error).to.match(pattern);
      expect(c.status()).to.include({ position: 4, failures: 1 });
      expect(c.status().lastError).to.match(pattern);
      bad.fault = undefined;
      expect(await c.pollOnce()).to.include({ kind: 'read', processed: 1, position: 5 });
      expect(seen).to.deep.equal([1, 2, 3, 4, 5]);
      expect(c.status()).to.include({ failures: 0 });
    });
  }

  it('does not move and reports when the feed is down', async () => {
    const url = bad.url;
    await bad.close();
    const r = await c.pollOnce() as Extract<PollResult, { kind: 'failed' }>;
    expect(r.kind).to.equal('failed');
    expect(r.error).to.match(/ECONNREFUSED/);
    expect(c.status().position).to.equal(4);
    bad = { url, fault: undefined, close: async () => undefined };
  });
});

describe('FeedConsumer backoff', () => {
  it('backs off with jitter for the failing feed only, while another feed carries on', async () => {
    const good = await startTestFeedServer();
    good.append();
    const down = createServer((_q, res) => res.writeHead(500).end());
    down.listen(0, '127.0.0.1');
    await once(down, 'listening');
    let hits = 0;
    down.on('request', () => { hits++; });
    const db = openDatabase(':memory:');
    migrate(db, consumerMigrations);
    let now = new Date('2025-01-01T00:00:00Z');
    const clock = () => now;
    const a = new FeedConsumer(db, { name: 'down', feedUrl: `http://127.0.0.1:${(down.address() as AddressInfo).port}/feed`, handler: () => undefined, now: clock, random: () => 1, backoff: { baseMs: 1000, maxMs: 60_000 } });
    const b = new FeedConsumer(db, { name: 'good', feedUrl: good.feedUrl, handler: () => undefined, now: clock });
    try {
      expect(await a.pollOnce()).to.include({ kind: 'failed', retryAt: '2025-01-01T00:00:01.000Z' });
      expect(await a.pollOnce()).to.deep.equal({ kind: 'backing-off', retryAt: '2025-01-01T00:00:01.000Z' });
      expect(hits).to.equal(1);
      expect(await b.pollOnce()).to.include({ kind: 'read', processed: 1 });
      now = new Date('2025-01-01T00:00:01.000Z');
      expect(await a.pollOnce()).to.include({ kind: 'failed', retryAt: '2025-01-01T00:00:03.000Z' });
      expect(hits).to.equal(2);
      expect(a.status()).to.include({ failures: 2, retryAt: '2025-01-01T00:00:03.000Z' });
    } finally {
      await a.close(); await b.close(); await good.close(); db.close();
      down.closeAllConnections(); down.close();
    }
  });
});
