import type { BenchRow } from './benchRow.ts';
import { ATOM_CLIENT, type BenchOptions, atLeast, placeOrders, scratchDir } from './benchOptions.ts';
import { bareSpec, capture } from './capture.ts';
import { load, sideBySide } from './load.ts';
import { startServer, withServers } from './servers.ts';

const PAGE_SIZE = 100;

/** Why row 2 misses, from CPU profiles of the service (see the bench README notes in runAll.ts). */
const MISS_304 = 'Why: a bare 304 is little more than the write syscall (~25 us here); a minimal Koa app '
  + 'answering the same 304 already reaches only ~0.7-0.8 of it, and the service adds its base middleware '
  + '(request id, security headers, problem handler), the router, Accept and Accept-Encoding negotiation and '
  + 'FeedStore.head() (two SQLite reads, ~10 us) for ~60-90 us a request. No single hot spot to fix; '
  + '0.7 would need a 304 path in front of Koa';

/**
 * Rows 1 and 2: the real order service (Koa, SQLite file, 150 orders placed over HTTP, so
 * archive 1 is a complete page of 100 real OrderPlaced entries) against a bare node:http
 * server replaying the very bytes and headers the service sent.
 */
export async function benchArchiveRows(o: BenchOptions): Promise<BenchRow[]> {
  const data = scratchDir('archive');
  const service = await startServer({ kind: 'order-service', dataDir: data.dir, pageSize: PAGE_SIZE });
  try {
    await placeOrders(service.url, 150);
    const rows: BenchRow[] = [];

    const archiveUrl = `${service.url}/feed/archive/1`;
    const page = await capture(archiveUrl, { ...ATOM_CLIENT }, 200);
    rows.push(await withServers([bareSpec(page)], async ([bare]) => {
      const run = (url: string) => async () => (await load({ url, headers: { ...ATOM_CLIENT }, seconds: o.seconds, connections: o.connections, expectStatus: 200 })).rps;
      await run(archiveUrl)(); // warm both before measuring (JIT, the in-memory archive cache)
      await run(bare!.url)();
      const r = await sideBySide(o.rounds, run(archiveUrl), run(bare!.url));
      return atLeast('1. Archive page GET (100 entries) vs bare node:http', r.a, r.b, 'req/s', 0.7,
        `${page.body.length} B ${page.headers['content-encoding'] ?? 'identity'} body, same headers; ${o.connections} connections`);
    }));

    const feedUrl = `${service.url}/feed`;
    const first = await capture(feedUrl, { ...ATOM_CLIENT }, 200);
    const revalidate = { ...ATOM_CLIENT, 'if-none-match': first.headers['etag']! };
    const notModified = await capture(feedUrl, revalidate, 304);
    rows.push(await withServers([bareSpec(notModified)], async ([bare]) => {
      const run = (url: string) => async () => (await load({ url, headers: revalidate, seconds: o.seconds, connections: o.connections, expectStatus: 304 })).rps;
      await run(feedUrl)();
      await run(bare!.url)();
      const r = await sideBySide(o.rounds, run(feedUrl), run(bare!.url));
      const row = atLeast('2. Subscription 304 (If-None-Match) vs bare node:http 304', r.a, r.b, 'req/s', 0.7,
        `same ${Object.keys(notModified.headers).length} headers; ${o.connections} connections`);
      return row.pass ? row : { ...row, note: `${row.note}. ${MISS_304}` };
    }));
    return rows;
  } finally {
    await service.stop();
    data.remove();
  }
}
