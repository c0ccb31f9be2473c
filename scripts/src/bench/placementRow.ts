import type { BenchRow } from './benchRow.ts';
import { type BenchOptions, ORDER_BODY, atLeast, scratchDir } from './benchOptions.ts';
import { load, sideBySide } from './load.ts';
import { withServers } from './servers.ts';

/** Why row 6 misses, measured in-process on this machine (OrderStore.place in a loop, 6,000 orders). */
const MISS_PLACEMENT = 'Why: each order is a durable write (validate, decide, event + formatted feed entry in one SQLite '
  + 'transaction on a WAL file) on one writer thread. In-process here the write alone costs ~77 us '
  + 'in :memory: and, with group commit (10 a transaction) on the WAL file, ~62 us with checkpoints every 40 MB (80 us '
  + 'with SQLite\'s default): more than the whole baseline request (~45 us). Intl caching, group commit and rarer '
  + 'checkpoints took the service from ~2,300 to ~4,000-4,600 req/s here; 0.5 would need the writes off the request '
  + 'thread (a writer thread) and a core to run it on';

/**
 * Row 6: POST /orders on the real order service (parse, decide, event + feed entry in one
 * SQLite transaction on a WAL file; the reply is the order as the command left it) against a Koa app
 * with the same middleware and body parsing that answers 201 and stores nothing.
 */
export async function benchPlacementRow(o: BenchOptions): Promise<BenchRow[]> {
  const data = scratchDir('placement');
  try {
    return await withServers([{ kind: 'order-service', dataDir: data.dir, pageSize: 100 }, { kind: 'koa-201' }], async ([service, koa]) => {
      const post = (base: string) => async () => (await load({
        url: `${base}/orders`, method: 'POST', headers: { 'content-type': 'application/json' }, body: ORDER_BODY,
        seconds: o.seconds, connections: o.connections, expectStatus: 201,
      })).rps;
      await post(service!.url)();
      await post(koa!.url)();
      const r = await sideBySide(o.rounds, post(service!.url), post(koa!.url));
      const row = atLeast('6. POST /orders (event + feed entry, one transaction) vs Koa 201 storing nothing', r.a, r.b, 'req/s', 0.5,
        `${o.connections} connections; synchronous=NORMAL WAL file`);
      return [row.pass ? row : { ...row, note: `${row.note}. ${MISS_PLACEMENT}` }];
    });
  } finally {
    data.remove();
  }
}
