import type { BenchRow } from './benchRow.ts';
import { type BenchOptions, ORDER_BODY, atLeast, scratchDir } from './benchOptions.ts';
import { load, sideBySide } from './load.ts';
import { withServers } from './servers.ts';

/**
 * Row 6: POST /orders on the real order service (parse, decide, event + feed entry in one
 * SQLite transaction on a WAL file, then read the order back for the reply) against a Koa app
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
      return [atLeast('6. POST /orders (event + feed entry, one transaction) vs Koa 201 storing nothing', r.a, r.b, 'req/s', 0.5,
        `${o.connections} connections; synchronous=NORMAL WAL file`)];
    });
  } finally {
    data.remove();
  }
}
