import { join } from 'node:path';
import { FeedConsumer, consumerMigrations, migrate, openDatabase, readFeedDocument } from '@shop/common';
import { FeedFetcher } from '../../../common/src/consumer/feedFetcher.ts';
import type { BenchRow } from './benchRow.ts';
import { type BenchOptions, atLeast, scratchDir } from './benchOptions.ts';
import { bigFeed } from './bigFeed.ts';
import { startServer } from './servers.ts';

const ENTRIES = 100_000;
const PAGE_SIZE = 100;
/**
 * Archives are rendered once per base URL (about 50 ms each here, 999 of them): a fixed port
 * keeps the base URL, so a rerun serves the renditions stored in the cached database.
 */
const FIXED_PORT = 47_391;

/**
 * Row 4: a FeedConsumer starting from zero on a 100,000-entry backlog (the real order service,
 * 1,000 pages), against the same walk done by hand with the consumer's own fetcher and parser:
 * GET the subscription document, follow prev-archive to archive 1, parse every page. The
 * difference is what the consumer adds: the gap checks and one durable SQLite transaction per
 * entry (read position + the handler's write), on a WAL file as in production.
 */
export async function benchConsumerRow(o: BenchOptions, log: (line: string) => void): Promise<BenchRow[]> {
  const feed = bigFeed(ENTRIES, PAGE_SIZE, log);
  const work = scratchDir('consumer');
  try {
    const spec = { kind: 'order-service', dataDir: feed.dataDir, pageSize: PAGE_SIZE } as const;
    const server = await startServer({ ...spec, port: FIXED_PORT }).catch(() => {
      log(`  (port ${FIXED_PORT} is taken: archives will be rendered again for a new base URL)`);
      return startServer(spec);
    });
    try {
      const feedUrl = `${server.url}/feed`;

      const fetchAndParse = async (): Promise<number> => {
        const fetcher = new FeedFetcher({ maxBodyBytes: 8 * 1024 * 1024 });
        const started = performance.now();
        let entries = 0;
        try {
          for (let url: string | undefined = feedUrl; url;) {
            const res = await fetcher.get(url);
            if (res.kind !== 'ok') throw new Error(`${url} answered 304 to an unconditional GET`);
            const doc = readFeedDocument(res.text);
            entries += doc.entries.length;
            url = doc.prevArchive;
          }
        } finally {
          await fetcher.close();
        }
        if (entries !== ENTRIES) throw new Error(`read ${entries} entries, expected ${ENTRIES}`);
        return entries / ((performance.now() - started) / 1000);
      };

      const consume = async (round: number): Promise<number> => {
        const db = openDatabase(join(work.dir, `consumer-${round}.db`));
        migrate(db, consumerMigrations);
        db.exec('CREATE TABLE IF NOT EXISTS applied (atom_id TEXT PRIMARY KEY, position INTEGER NOT NULL, order_id TEXT NOT NULL)');
        const insert = db.prepare('INSERT INTO applied (atom_id, position, order_id) VALUES (?, ?, ?)');
        const consumer = new FeedConsumer(db, { name: 'orders', feedUrl, handler: (e) => { insert.run(e.atomId, e.position, e.orderId); } });
        const started = performance.now();
        try {
          const r = await consumer.pollOnce();
          if (r.kind !== 'read' || r.processed !== ENTRIES) throw new Error(`the consumer did not catch up: ${JSON.stringify(r)}`);
          return r.processed / ((performance.now() - started) / 1000);
        } finally {
          await consumer.close();
          db.close();
        }
      };

      // The first walk renders and stores the 999 archives (unless a previous run did); the
      // measured walks read stored renditions, as every consumer but the very first does.
      const warmStarted = performance.now();
      await fetchAndParse();
      log(`  (warm-up walk: ${((performance.now() - warmStarted) / 1000).toFixed(1)} s)`);
      const subject: number[] = [];
      const baseline: number[] = [];
      for (let round = 0; round < o.rounds; round++) {
        subject.push(await consume(round));
        baseline.push(await fetchAndParse());
      }
      const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
      return [atLeast(`4. Consumer catch-up from zero, ${ENTRIES.toLocaleString('en')} entries vs fetch + parse only`, med(subject), med(baseline), 'entries/s', 0.5,
        `${ENTRIES / PAGE_SIZE} pages; one SQLite transaction per entry (WAL file)`)];
    } finally {
      await server.stop();
    }
  } finally {
    work.remove();
  }
}
