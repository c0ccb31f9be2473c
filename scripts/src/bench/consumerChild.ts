/**
 * One side of row 4 in a process of its own, so its peak memory is its own:
 *   consumerChild.ts consume <feed url> <db file> <entries>   a FeedConsumer from zero, one poll
 *   consumerChild.ts fetch-parse <feed url> <entries>         the same pages fetched and parsed only
 * Prints one JSON line: { entries, seconds, peakRssBytes }.
 */
import { readFileSync } from 'node:fs';
import { FeedConsumer, consumerMigrations, migrate, openDatabase, readFeedDocument } from '@shop/common';
import { FeedFetcher } from '../../../common/src/consumer/feedFetcher.ts';

const [mode, feedUrl, ...rest] = process.argv.slice(2);

/** The process's peak resident set (VmHWM), in bytes. */
function peakRss(): number {
  const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  return kb ? Number(kb) * 1024 : process.memoryUsage().rss;
}

async function fetchAndParse(url: string, expected: number): Promise<number> {
  const fetcher = new FeedFetcher({ maxBodyBytes: 8 * 1024 * 1024 });
  let entries = 0;
  try {
    for (let next: string | undefined = url; next;) {
      const res = await fetcher.get(next);
      if (res.kind !== 'ok') throw new Error(`${next} answered 304 to an unconditional GET`);
      const doc = readFeedDocument(res.text);
      entries += doc.entries.length;
      next = doc.prevArchive;
    }
  } finally {
    await fetcher.close();
  }
  if (entries !== expected) throw new Error(`read ${entries} entries, expected ${expected}`);
  return entries;
}

async function consume(url: string, file: string, expected: number): Promise<number> {
  const db = openDatabase(file);
  migrate(db, consumerMigrations);
  db.exec('CREATE TABLE IF NOT EXISTS applied (atom_id TEXT PRIMARY KEY, position INTEGER NOT NULL, order_id TEXT NOT NULL)');
  const insert = db.prepare('INSERT INTO applied (atom_id, position, order_id) VALUES (?, ?, ?)');
  const consumer = new FeedConsumer(db, { name: 'orders', feedUrl: url, handler: (e) => { insert.run(e.atomId, e.position, e.orderId); } });
  try {
    const r = await consumer.pollOnce();
    if (r.kind !== 'read' || r.processed !== expected) throw new Error(`the consumer did not catch up: ${JSON.stringify(r)}`);
    return r.processed;
  } finally {
    await consumer.close();
    db.close();
  }
}

const started = performance.now();
const expected = Number(mode === 'consume' ? rest[1] : rest[0]);
const entries = mode === 'consume' ? await consume(feedUrl!, rest[0]!, expected) : await fetchAndParse(feedUrl!, expected);
console.log(JSON.stringify({ entries, seconds: (performance.now() - started) / 1000, peakRssBytes: peakRss() }));
