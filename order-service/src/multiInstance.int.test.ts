// Two order-service processes on one PostgreSQL database, as production would run them behind a
// load balancer (one PUBLIC_URL): writers on both, readers walking the feed through either.
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { call, createTestDatabase, requirePostgres, tempDir } from '@shop/common/testing';
import { adaOrder } from './testing/adaOrder.ts';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const PUBLIC_URL = 'http://orders.example.test';

interface Instance { readonly child: ChildProcess; readonly url: string; readonly exited: Promise<unknown> }

async function startInstance(dataDir: string, databaseUrl: string): Promise<Instance> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    env: {
      ...process.env, PORT: '0', DATA_DIR: dataDir, DATABASE_URL: databaseUrl, PUBLIC_URL, FEED_PAGE_SIZE: '7', LOG_LEVEL: 'info',
      // Nothing listens there: the shipping subscription backs off quietly.
      SHIPPING_FEED_URL: 'http://127.0.0.1:9/feed',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = once(child, 'exit');
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const m = /"msg":"listening","url":"([^"]+)"/.exec(output);
      if (m) resolve(m[1]!);
    });
    child.stderr!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    void exited.then(([code]) => reject(new Error(`the service exited (${String(code)}) before listening:\n${output}`)));
  });
  return { child, url, exited };
}

interface SeenEntry { readonly position: number; readonly orderId: string; readonly type: string; readonly updated: string }

function entriesIn(xml: string): SeenEntry[] {
  return [...xml.matchAll(/<entry>([\s\S]*?)<\/entry>/g)].map(([, e]) => ({
    position: Number(/<shop:position>(\d+)<\/shop:position>/.exec(e!)![1]),
    orderId: /<shop:orderId>([^<]+)<\/shop:orderId>/.exec(e!)![1]!,
    type: /term="([^"]+)"/.exec(e!)![1]!,
    updated: /<updated>([^<]+)<\/updated>/.exec(e!)![1]!,
  }));
}

const prevArchive = (xml: string): string | undefined => /<link rel="prev-archive"[^>]*href="([^"]+)"/.exec(xml)?.[1];

/** The whole feed through one instance: the subscription document, then each archive back to the first. */
async function walkFeed(base: string): Promise<{ entries: SeenEntry[]; archives: Map<string, string> }> {
  const archives = new Map<string, string>();
  let xml = (await call('GET', `${base}/feed`)).body;
  const entries = entriesIn(xml);
  for (let href = prevArchive(xml); href; href = prevArchive(xml)) {
    const r = await call('GET', href.replace(PUBLIC_URL, base));
    expect(r.status, href).to.equal(200);
    xml = r.body;
    archives.set(href, createHash('sha256').update(xml).digest('hex'));
    entries.push(...entriesIn(xml));
  }
  return { entries: entries.sort((x, y) => x.position - y.position), archives };
}

/** Places orders through `base` until `stop`; the ids of those answered 201. */
async function writer(base: string, stop: { done: boolean }): Promise<string[]> {
  const ids: string[] = [];
  while (!stop.done) {
    try {
      const r = await call('POST', `${base}/orders`, adaOrder);
      if (r.status === 201) ids.push(r.json()['id'] as string);
      else throw new Error(`POST /orders answered ${r.status}: ${r.body}`);
    } catch (e) {
      if (stop.done || (e as Error).message.startsWith('POST')) throw e;
      return ids; // the instance is gone (killed): this writer stops
    }
  }
  return ids;
}

/** Polls /feed through either instance in turn: what it has seen never changes, never has a hole, never goes back. */
async function reader(bases: readonly string[], stop: { done: boolean }): Promise<{ reads: number; problems: string[] }> {
  const seen = new Map<number, string>();
  const problems: string[] = [];
  let head = 0;
  let reads = 0;
  while (!stop.done) {
    const base = bases[reads % bases.length]!;
    reads += 1;
    const r = await call('GET', `${base}/feed`).catch(() => undefined);
    if (!r || r.status !== 200) continue;
    const page = entriesIn(r.body).sort((x, y) => x.position - y.position);
    const last = page.at(-1)?.position ?? 0;
    if (last < head) problems.push(`head went back from ${head} to ${last} via ${base}`);
    head = Math.max(head, last);
    page.forEach((e, i) => {
      if (i > 0 && e.position !== page[i - 1]!.position + 1) problems.push(`hole before ${e.position}`);
      const key = `${e.orderId} ${e.type}`;
      if (seen.has(e.position) && seen.get(e.position) !== key) problems.push(`position ${e.position} changed`);
      seen.set(e.position, key);
    });
  }
  return { reads, problems };
}

function expectExactlyOnce(entries: readonly SeenEntry[], accepted: readonly string[]): void {
  expect(entries.map((e) => e.position), 'gap-free from 1').to.deep.equal(entries.map((_, i) => i + 1));
  const placed = entries.filter((e) => e.type === 'OrderPlaced').map((e) => e.orderId);
  expect(new Set(placed).size, 'no order twice').to.equal(placed.length);
  const inFeed = new Set(placed);
  expect(accepted.filter((id) => !inFeed.has(id)), 'every 201 is in the feed').to.deep.equal([]);
  const times = entries.map((e) => e.updated);
  expect(times, 'commit times never go back along the feed').to.deep.equal([...times].sort());
}

describe('Two order-service processes on one PostgreSQL database', function () {
  this.timeout(120_000);
  const dir = tempDir();
  let url = '';
  const running: Instance[] = [];

  before(async function () { this.timeout(90_000); await requirePostgres(this); url = await createTestDatabase(); });
  after(async () => {
    for (const i of running) if (i.child.exitCode === null && i.child.signalCode === null) { i.child.kill('SIGTERM'); await i.exited; }
    dir.remove();
  });

  it('take orders concurrently and serve one gap-free feed in commit order, archives byte for byte the same, long polls answered across; a SIGKILL loses no 201', async () => {
    // Started together: migrations and the feed's creation are safe when instances race.
    const [a, b] = await Promise.all([startInstance(`${dir.path}/a`, url), startInstance(`${dir.path}/b`, url)]);
    running.push(a, b);
    const both = [a.url, b.url];

    // Phase 1: four writers on each instance and two readers alternating between them, for 3 s.
    const stop = { done: false };
    const writers = Promise.all([...both, ...both, ...both, ...both].map((base) => writer(base, stop)));
    const readers = Promise.all([reader(both, stop), reader([b.url, a.url], stop)]);
    await new Promise((r) => setTimeout(r, 3_000));
    stop.done = true;
    const accepted = (await writers).flat();
    const watched = await readers;
    expect(accepted.length, 'orders accepted').to.be.above(50);
    expect(watched.flatMap((w) => w.problems)).to.deep.equal([]);
    expect(watched.every((w) => w.reads > 5)).to.equal(true);

    const [viaA, viaB] = await Promise.all([walkFeed(a.url), walkFeed(b.url)]);
    expectExactlyOnce(viaA.entries, accepted);
    expect(viaB.entries).to.deep.equal(viaA.entries);
    expect(viaA.archives.size).to.be.above(5);
    expect([...viaB.archives], 'every archive byte for byte the same from both (sha256)').to.deep.equal([...viaA.archives]);

    // A long poll held by A is answered by a commit on B.
    const etag = (await call('GET', `${a.url}/feed`)).headers['etag']!;
    const started = Date.now();
    const poll = call('GET', `${a.url}/feed`, undefined, { 'if-none-match': etag, prefer: 'wait=30' });
    await new Promise((r) => setTimeout(r, 300));
    const id = (await call('POST', `${b.url}/orders`, adaOrder)).json()['id'] as string;
    const answered = await poll;
    expect(answered.status).to.equal(200);
    expect(answered.body).to.include(`<shop:orderId>${id}</shop:orderId>`);
    expect(Date.now() - started).to.be.below(3_000);
    accepted.push(id);

    // Phase 2: writers on both again; B is killed mid-load. Every order either answered 201 is in the feed.
    const stop2 = { done: false };
    const writers2 = Promise.all([...both, ...both, ...both, ...both].map((base) => writer(base, stop2)));
    await new Promise((r) => setTimeout(r, 1_000));
    b.child.kill('SIGKILL');
    await b.exited;
    await new Promise((r) => setTimeout(r, 1_000));
    stop2.done = true;
    const accepted2 = (await writers2).flat();
    expect(accepted2.length).to.be.above(20);
    const after = await walkFeed(a.url);
    expectExactlyOnce(after.entries, [...accepted, ...accepted2]);
    for (const [href, sha] of viaA.archives) expect(after.archives.get(href), href).to.equal(sha);
  });
});
