import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { BenchRow } from './benchRow.ts';
import { type BenchOptions, atLeast, atMost, scratchDir } from './benchOptions.ts';
import { bigFeed } from './bigFeed.ts';
import { startServer } from './servers.ts';

const BIG = 1_000_000;
const SMALL = 10_000;
const PAGE_SIZE = 100;
/** Archives are rendered once per base URL: a fixed port lets a rerun serve the stored renditions. */
const FIXED_PORTS = { [BIG]: 47_391, [SMALL]: 47_392 } as const;
const CHILD = fileURLToPath(new URL('./consumerChild.ts', import.meta.url));

interface ChildResult { readonly entries: number; readonly seconds: number; readonly peakRssBytes: number }

async function child(...args: string[]): Promise<ChildResult> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', CHILD, ...args], { maxBuffer: 1 << 20 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as ChildResult;
}

/**
 * Row 4: a FeedConsumer catching up from zero on the 1,000,000-entry feed (the real order service,
 * 10,000 pages), against fetching and parsing the same pages with the consumer's own fetcher and
 * parser. The consumer walks back reading only links and positions, then forward applying one
 * durable SQLite transaction per page, each entry in a savepoint (WAL file), one page in memory at a time.
 * Row 4b: the consumer's peak RSS on 1,000,000 entries vs on 10,000: memory must not grow with the feed.
 * Each side runs in its own process (peak RSS is per process), one round each: a side takes minutes.
 */
export async function benchConsumerRow(_o: BenchOptions, log: (line: string) => void): Promise<BenchRow[]> {
  const work = scratchDir('consumer');
  try {
    const run = async (entries: number): Promise<{ consumed: ChildResult; parsed: ChildResult }> => {
      const feed = bigFeed(entries, PAGE_SIZE, log);
      const spec = { kind: 'order-service', dataDir: feed.dataDir, pageSize: PAGE_SIZE } as const;
      const server = await startServer({ ...spec, port: FIXED_PORTS[entries as keyof typeof FIXED_PORTS] }).catch(() => startServer(spec));
      try {
        const feedUrl = `${server.url}/feed`;
        const warm = performance.now();
        await child('fetch-parse', feedUrl, String(entries)); // renders and stores any archive not yet stored
        log(`  (${entries.toLocaleString('en')} entries: warm-up walk ${((performance.now() - warm) / 1000).toFixed(1)} s)`);
        const consumed = await child('consume', feedUrl, join(work.dir, `consumer-${entries}.db`), String(entries));
        const parsed = await child('fetch-parse', feedUrl, String(entries));
        log(`  (${entries.toLocaleString('en')} entries: consumer ${consumed.seconds.toFixed(1)} s, peak RSS ${mb(consumed.peakRssBytes)} MB; fetch + parse ${parsed.seconds.toFixed(1)} s, peak RSS ${mb(parsed.peakRssBytes)} MB)`);
        return { consumed, parsed };
      } finally {
        await server.stop();
      }
    };
    const small = await run(SMALL);
    const big = await run(BIG);
    const rate = (r: ChildResult) => r.entries / r.seconds;
    return [
      atLeast(`4. Consumer catch-up from zero, ${BIG.toLocaleString('en')} entries vs fetch + parse only`, rate(big.consumed), rate(big.parsed), 'entries/s', 0.5,
        `${BIG / PAGE_SIZE} pages; walk back (links and positions only), then forward with one SQLite transaction per page, a savepoint per entry (WAL file); each side in its own process`),
      atMost(`4b. Consumer peak RSS catching up on ${BIG.toLocaleString('en')} entries vs on ${SMALL.toLocaleString('en')}`, mb(big.consumed.peakRssBytes), mb(small.consumed.peakRssBytes), 'MB', 1.25,
        'VmHWM of the consumer process, from zero to caught up'),
    ];
  } finally {
    work.remove();
  }
}

function mb(bytes: number): number {
  return Math.round(bytes / 1024 / 1024 * 10) / 10;
}
