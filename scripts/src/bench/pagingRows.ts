import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openDatabase } from '@shop/common';
import type { BenchRow } from './benchRow.ts';
import { ATOM_CLIENT, type BenchOptions, atMost } from './benchOptions.ts';
import { bigFeed } from './bigFeed.ts';
import { capture } from './capture.ts';
import { load, sideBySide } from './load.ts';
import { withServers } from './servers.ts';

const ENTRIES = 1_000_000;
const SMALL = 1_000;
const PAGE_SIZE = 100;
const COLD_PAGES = 60;

/**
 * Row 3: paging cost must not grow with the feed. The real order service on a 1,000,000-entry
 * SQLite feed: one connection, so these are latencies, not queueing; p50 of exact per-response times.
 */
export async function benchPagingRows(o: BenchOptions, log: (line: string) => void): Promise<BenchRow[]> {
  const big = bigFeed(ENTRIES, PAGE_SIZE, log);
  const small = bigFeed(SMALL, PAGE_SIZE, log);
  // Renditions are stored per base URL and the port changes per run: start every run cold.
  for (const f of [big, small]) {
    const db = openDatabase(join(f.dataDir, 'orders.db'));
    db.exec('DELETE FROM feed_archive_renditions');
    db.close();
  }
  const lastArchive = ENTRIES / PAGE_SIZE - 1;
  const buildNote = big.builtInSeconds === undefined ? 'feed from cache' : `feed built in ${big.builtInSeconds.toFixed(0)} s (cached for next run)`;
  return withServers([
    { kind: 'order-service', dataDir: big.dataDir, pageSize: PAGE_SIZE },
    { kind: 'order-service', dataDir: small.dataDir, pageSize: PAGE_SIZE },
  ], async ([bigServer, smallServer]) => {
    const rows: BenchRow[] = [];
    const p50 = (url: string, headers: Record<string, string>, expectStatus: number) => async () =>
      (await load({ url, headers, seconds: Math.max(1, o.seconds / 2), connections: 1, expectStatus })).p50Ms;

    // Warm: both archives rendered once and served from the publisher's cache ever after.
    const end = `${bigServer!.url}/feed/archive/${lastArchive}`;
    const start = `${bigServer!.url}/feed/archive/1`;
    await p50(end, { ...ATOM_CLIENT }, 200)();
    await p50(start, { ...ATOM_CLIENT }, 200)();
    const warm = await sideBySide(o.rounds, p50(end, { ...ATOM_CLIENT }, 200), p50(start, { ...ATOM_CLIENT }, 200));
    rows.push(atMost(`3a. Archive ${lastArchive.toLocaleString('en')} vs archive 1, 1M-entry feed (p50)`, warm.a, warm.b, 'ms', 1.2, buildNote));

    // Cold: pages never asked for before, each read from SQLite, rendered, compressed and stored.
    const pagesFor = (first: number, step: number, round: number) =>
      Array.from({ length: COLD_PAGES }, (_, i) => first + step * (round * COLD_PAGES + i + 1));
    const endPages = (round: number) => pagesFor(lastArchive, -1, round);
    const startPages = (round: number) => pagesFor(1, 1, round);
    // This VM reclaims the OS page cache hard: a SQLite page not read lately costs a disk read,
    // whichever end of the feed it is at. Read both sides' rows once, so both are measured with
    // warm storage and the row compares what the code does, not what the disk cache kept.
    const reader = new Database(join(big.dataDir, 'orders.db'), { readonly: true });
    const touch = reader.prepare('SELECT sum(length(body)) FROM feed_entries WHERE position BETWEEN ? AND ?');
    for (let round = 0; round < o.rounds; round++) {
      for (const n of [...endPages(round), ...startPages(round)]) touch.get((n - 1) * PAGE_SIZE + 1, n * PAGE_SIZE);
    }
    reader.close();
    const cold = (pages: (round: number) => number[]) => async (round: number) => {
      const paths = pages(round).map((n) => `/feed/archive/${n}`);
      const r = await load({ url: bigServer!.url, paths, amount: COLD_PAGES, headers: { ...ATOM_CLIENT }, connections: 1, expectStatus: 200 });
      return r.p50Ms;
    };
    // Warm the render path (JIT) on pages neither side uses.
    const middle = Math.floor(lastArchive / 2);
    await load({ url: bigServer!.url, paths: Array.from({ length: COLD_PAGES }, (_, i) => `/feed/archive/${middle + i}`), amount: COLD_PAGES, headers: { ...ATOM_CLIENT }, connections: 1, expectStatus: 200 });
    const coldR = await sideBySide(o.rounds, cold(endPages), cold(startPages));
    rows.push(atMost(`3b. First GET of archives near the end vs near the start (p50)`, coldR.a, coldR.b, 'ms', 1.2,
      `${COLD_PAGES} distinct never-served pages a side a round, rows pre-read into the OS cache: SQLite range read + render + gzip + brotli + store; rounds ${coldR.as.map((x) => x.toFixed(1)).join('/')} vs ${coldR.bs.map((x) => x.toFixed(1)).join('/')} ms`));

    // The 304 path: the subscription document's validators come from the feed's head alone.
    const bigFeedUrl = `${bigServer!.url}/feed`;
    const smallFeedUrl = `${smallServer!.url}/feed`;
    const bigTag = (await capture(bigFeedUrl, { ...ATOM_CLIENT }, 200)).headers['etag']!;
    const smallTag = (await capture(smallFeedUrl, { ...ATOM_CLIENT }, 200)).headers['etag']!;
    const big304 = p50(bigFeedUrl, { ...ATOM_CLIENT, 'if-none-match': bigTag }, 304);
    const small304 = p50(smallFeedUrl, { ...ATOM_CLIENT, 'if-none-match': smallTag }, 304);
    // The small feed's server has served nothing yet: give its JIT the warm-up the big one had.
    await p50(`${smallServer!.url}/feed/archive/1`, { ...ATOM_CLIENT }, 200)();
    await big304();
    await small304();
    const nm = await sideBySide(o.rounds, big304, small304);
    rows.push(atMost(`3c. Subscription 304, 1M-entry feed vs ${SMALL.toLocaleString('en')}-entry feed (p50)`, nm.a, nm.b, 'ms', 1.2));
    return rows;
  });
}
