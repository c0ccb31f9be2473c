import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { type Db, migrate, openDatabase } from '../db/database.ts';
import { startTestFeedServer, type TestFeedServer } from '../testing/feedServer.ts';
import { tempDir } from '../testing/tempDir.ts';
import { consumerMigrations } from './consumerStore.ts';
import { FeedConsumer } from './feedConsumer.ts';

const CRASHING = fileURLToPath(new URL('./fixtures/crashingConsumer.ts', import.meta.url));

function consumerDb(file = ':memory:'): Db {
  const db = openDatabase(file);
  migrate(db, consumerMigrations);
  db.exec('CREATE TABLE applied (seq INTEGER PRIMARY KEY AUTOINCREMENT, atom_id TEXT NOT NULL UNIQUE, position INTEGER NOT NULL)');
  return db;
}

function consumer(db: Db, feedUrl: string): FeedConsumer {
  const insert = db.prepare('INSERT INTO applied (atom_id, position) VALUES (?, ?)');
  return new FeedConsumer(db, { name: 'long', feedUrl, backoff: { baseMs: 0, maxMs: 0 }, handler: (e) => { insert.run(e.atomId, e.position); } });
}

const appliedPositions = (db: Db): number[] => db.prepare<[], { position: number }>('SELECT position FROM applied ORDER BY seq').all().map((r) => r.position);
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const archive = (n: number): string => `/feed/archive/${n}`;

describe('FeedConsumer catching up on a long feed', function () {
  this.timeout(180_000);
  let feed: TestFeedServer | undefined;
  let db: Db | undefined;
  let c: FeedConsumer | undefined;
  afterEach(async () => { await c?.close(); await feed?.close(); db?.close(); c = undefined; feed = undefined; db = undefined; });

  it('reads a feed of more than 10,000 pages from zero: every entry once, in order, then a 304', async () => {
    const total = 10_050;
    feed = await startTestFeedServer({ pageSize: 1 });
    feed.db.transaction(() => { for (let i = 0; i < total; i++) feed!.append(); })();
    db = consumerDb();
    c = consumer(db, feed.feedUrl);
    const r = await c.pollOnce();
    expect(r).to.include({ kind: 'read', processed: total, parked: 0, position: total, newest: total });
    const positions = appliedPositions(db);
    expect(positions).to.have.length(total);
    expect(positions.every((p, i) => p === i + 1)).to.equal(true);
    // One walk back and one walk forward, each page once: no page limit, no walk repeated.
    expect(feed.requests.length).to.be.at.most(2 * total);
    expect(c.status()).to.include({ position: total, behind: 0, pageUrl: null, walkUrl: null, lastError: null });
    feed.requests.length = 0;
    expect(await c.pollOnce()).to.deep.include({ kind: 'not-modified', requests: 1 });
  });

  for (const [what, fault] of [
    ['a 500', { status: 500, body: 'upstream broke', type: 'text/plain' }],
    ['a broken document', { status: 200, body: '<feed xmlns="http://www.w3.org/2005/Atom"><entry>', type: 'application/atom+xml' }],
  ] as const) {
    it(`keeps the work before ${what} on a late page and goes on from that page, applying nothing twice`, async () => {
      feed = await startTestFeedServer({ pageSize: 2 });
      for (let i = 0; i < 200; i++) feed.append();
      db = consumerDb();
      c = consumer(db, feed.feedUrl);
      feed.fault = (path) => (path === archive(90) && feed!.requests.some((q) => q.path === archive(1)) ? fault : undefined);
      const failed = await c.pollOnce();
      expect(failed.kind).to.equal('failed');
      expect(c.status()).to.include({ position: 178, pageUrl: `${feed.url}${archive(90)}` });
      expect(c.status().lastError).to.be.a('string').and.not.equal('');
      expect(appliedPositions(db)).to.deep.equal(range(1, 178));

      feed.fault = undefined;
      feed.requests.length = 0;
      const r = await c.pollOnce();
      expect(r).to.include({ kind: 'read', processed: 22, position: 200 });
      expect(appliedPositions(db)).to.deep.equal(range(1, 200));
      // From the page it stood in, forward: no walk back from the head.
      expect(feed.requests[0]!.path).to.equal(archive(90));
      expect(feed.requests.map((q) => q.path)).to.not.include(archive(89));
    });
  }

  it('resumes a walk back cut short by a fault from the oldest page it reached', async () => {
    feed = await startTestFeedServer({ pageSize: 2 });
    for (let i = 0; i < 100; i++) feed.append();
    db = consumerDb();
    c = consumer(db, feed.feedUrl);
    feed.fault = (path) => (path === archive(10) ? { status: 503, body: 'busy', type: 'text/plain' } : undefined);
    expect((await c.pollOnce()).kind).to.equal('failed');
    expect(c.status()).to.include({ position: 0, walkUrl: `${feed.url}${archive(11)}` });
    feed.fault = undefined;
    feed.requests.length = 0;
    expect(await c.pollOnce()).to.include({ kind: 'read', processed: 100, position: 100 });
    expect(appliedPositions(db)).to.deep.equal(range(1, 100));
    const paths = feed.requests.map((q) => q.path);
    expect(paths.slice(0, 3)).to.deep.equal(['/feed', archive(11), archive(10)]);
    expect(paths.filter((p) => p === archive(40))).to.have.length(1); // pages above the cut were not walked again
  });

  it('resumes a walk back cut short while it stood on the subscription document (an archive with no next-archive led there)', async () => {
    feed = await startTestFeedServer({ pageSize: 2 });
    for (let i = 0; i < 10; i++) feed.append();
    db = consumerDb();
    c = consumer(db, feed.feedUrl);
    const realFeed = feed;
    // Archive 2 ends the chain of archives (RFC 5005 makes next-archive optional), so the reader
    // goes on to the subscription document, which fails: it stands there, page_url set to it.
    const lastArchive = archiveWithoutNext(realFeed, 2);
    feed.fault = (path) => (path === archive(2) ? { status: 200, body: lastArchive }
      : path === '/feed' && realFeed.requests.some((q) => q.path === archive(2)) ? { status: 503, body: 'busy', type: 'text/plain' } : undefined);
    expect((await c.pollOnce()).kind).to.equal('failed');
    expect(c.status()).to.include({ position: 4, pageUrl: feed.feedUrl, walkUrl: null });

    // The feed grows by many pages meanwhile; the walk back from the document is cut short.
    for (let i = 0; i < 100; i++) feed.append();
    feed.fault = (path) => (path === archive(30) ? { status: 503, body: 'busy', type: 'text/plain' } : undefined);
    expect((await c.pollOnce()).kind).to.equal('failed');
    expect(c.status()).to.include({ position: 4, pageUrl: feed.feedUrl, walkUrl: `${feed.url}${archive(31)}` });

    feed.fault = undefined;
    feed.requests.length = 0;
    expect(await c.pollOnce()).to.include({ kind: 'read', processed: 106, position: 110 });
    expect(appliedPositions(db)).to.deep.equal(range(1, 110));
    const paths = feed.requests.map((q) => q.path);
    expect(paths.slice(0, 3)).to.deep.equal(['/feed', archive(31), archive(30)]);
    expect(paths.filter((p) => p === archive(40))).to.have.length(1); // pages above the cut were not walked again
    expect(c.status()).to.include({ pageUrl: null, walkUrl: null });
  });

  it('reports a prev-archive loop instead of walking for ever', async () => {
    feed = await startTestFeedServer({ pageSize: 2 });
    for (let i = 0; i < 20; i++) feed.append();
    db = consumerDb();
    c = consumer(db, feed.feedUrl);
    const realFeed = feed;
    // Archive 5 links back to archive 7 (newer): positions stop falling, which is how a loop shows.
    feed.fault = (path) => (path === archive(5) ? { status: 200, body: loopingArchive(realFeed, 5, 7) } : undefined);
    const r = await c.pollOnce();
    expect(r.kind).to.equal('failed');
    expect(c.status().lastError).to.match(/loops or leads forward/);
    expect(c.status().position).to.equal(0);
  });

  it('survives a SIGKILL of the consumer process on a late page: the pages before are kept, nothing is applied twice', async () => {
    const dir = tempDir();
    feed = await startTestFeedServer({ pageSize: 2 });
    try {
      for (let i = 0; i < 200; i++) feed.append();
      const file = join(dir.path, 'consumer.db');
      expect(await runCrashing(file, feed.feedUrl, 181, 'written')).to.equal('SIGKILL');
      const kept = openDatabase(file);
      const mid = kept.prepare<[], { position: number; page_url: string }>('SELECT position, page_url FROM consumer_subscriptions').get()!;
      kept.close();
      expect(mid).to.deep.equal({ position: 180, page_url: `${feed.url}${archive(91)}` });
      feed.requests.length = 0;
      expect(await runCrashing(file, feed.feedUrl, 0, 'never')).to.equal('exit 0');
      expect(feed.requests[0]!.path).to.equal(archive(91));
      const done = openDatabase(file);
      const rows = done.prepare<[], { position: number }>('SELECT position FROM applied ORDER BY seq').all().map((x) => x.position);
      done.close();
      expect(rows).to.deep.equal(range(1, 200));
    } finally {
      dir.remove();
    }
  });
});

/** The real archive `n` with its prev-archive link pointed at archive `to`. */
function loopingArchive(feed: TestFeedServer, n: number, to: number): string {
  const found = feed.publisher.archive(n, feed.url, false);
  if (found.kind !== 'archive') throw new Error(`archive ${n} is not there`);
  const body = found.rep.body();
  const xml = body.identity.toString('utf8');
  return xml.replace(`${archive(n - 1)}"`, `${archive(to)}"`);
}

/** The real archive `n` without its next-archive link, as the last archive of a feed that links no further. */
function archiveWithoutNext(feed: TestFeedServer, n: number): string {
  const found = feed.publisher.archive(n, feed.url, false);
  if (found.kind !== 'archive') throw new Error(`archive ${n} is not there`);
  const xml = found.rep.body().identity.toString('utf8');
  const without = xml.replace(/\s*<link rel="next-archive"[^>]*\/>/, '');
  if (without === xml) throw new Error(`archive ${n} has no next-archive link to remove`);
  return without;
}

async function runCrashing(file: string, feedUrl: string, at: number, where: 'written' | 'never'): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', CRASHING, file, feedUrl, String(at), where], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const [code, signal] = await once(child, 'exit') as [number | null, NodeJS.Signals | null];
  if (code !== 0 && signal === null) throw new Error(`child failed: ${stderr}`);
  return signal ?? `exit ${code}`;
}
