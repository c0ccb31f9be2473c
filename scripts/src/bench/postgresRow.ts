import { createTestDatabase, stopTestCluster } from '@shop/common/testing';
import type { BenchRow } from './benchRow.ts';
import { type BenchOptions, ORDER_BODY, scratchDir } from './benchOptions.ts';
import { load, sideBySide } from './load.ts';
import { type ChildServer, withServers } from './servers.ts';

const PUBLIC_URL = 'http://orders.bench.test';

/** POST /orders for `o.seconds` on every server at once, the connections split between them: orders/s in all. */
async function placeOn(servers: readonly ChildServer[], o: BenchOptions): Promise<number> {
  const each = Math.max(1, Math.round(o.connections / servers.length));
  const results = await Promise.all(servers.map((s) => load({
    url: `${s.url}/orders`, method: 'POST', headers: { 'content-type': 'application/json' }, body: ORDER_BODY,
    seconds: o.seconds, connections: each, expectStatus: 201,
  })));
  return results.reduce((sum, r) => sum + r.rps, 0);
}

/**
 * Row 8: order writes/s with the orders on PostgreSQL (DATABASE_URL), one instance and two
 * instances on one database with the load split between them, each side by side with the same
 * service on SQLite (group commit on a WAL file). The PostgreSQL server is a throwaway cluster
 * from the test harness with PostgreSQL's durable defaults (fsync on, every commit waits for its
 * WAL flush), on this machine's cores with the service and the load generator.
 */
export async function benchPostgresRow(o: BenchOptions): Promise<BenchRow[]> {
  process.env['PG_TEST_DURABLE'] = '1';
  const data = scratchDir('postgres');
  try {
    const [one, two, lazy] = [await createTestDatabase(), await createTestDatabase(), await createTestDatabase()];
    const pg = (databaseUrl: string, name: string) => ({ kind: 'order-service-pg' as const, dataDir: `${data.dir}/${name}`, pageSize: 100, databaseUrl, publicUrl: PUBLIC_URL });
    // What the commit's WAL flush costs: the same service whose sessions do not wait for it
    // (synchronous_commit=off, as SQLite's synchronous=NORMAL does not fsync at each commit).
    const noFlushWait = `${lazy}?options=${encodeURIComponent('-c synchronous_commit=off')}`;
    return await withServers([
      { kind: 'order-service', dataDir: `${data.dir}/sqlite`, pageSize: 100 }, pg(one, 'pg-one'), pg(two, 'pg-a'), pg(two, 'pg-b'), pg(noFlushWait, 'pg-lazy'),
    ], async ([sqlite, pgOne, pgA, pgB, pgLazy]) => {
      const onSqlite = () => placeOn([sqlite!], o);
      const onOne = () => placeOn([pgOne!], o);
      const onTwo = () => placeOn([pgA!, pgB!], o);
      const onLazy = () => placeOn([pgLazy!], o);
      // Warm-up: the JIT, the pools' connections, the first pages.
      for (const f of [onSqlite, onOne, onTwo, onLazy]) await f();
      const r1 = await sideBySide(o.rounds, onOne, onSqlite);
      const r2 = await sideBySide(o.rounds, onTwo, onSqlite);
      const r3 = await sideBySide(o.rounds, onLazy, onSqlite);
      const common = `${o.connections} connections (split evenly between the instances); one feed: appends serialize on its head row `
        + 'from the append to the end of the commit; SQLite commits ~10 orders a transaction (group commit)';
      const rounds = (r: { as: number[]; bs: number[] }) => `rounds ${r.as.map((x) => x.toFixed(0)).join('/')} vs ${r.bs.map((x) => x.toFixed(0)).join('/')}`;
      const row = (name: string, r: { a: number; b: number; as: number[]; bs: number[] }, what: string): BenchRow => ({
        name, subject: r.a, baseline: r.b, unit: 'orders/s', ratio: r.a / r.b, target: '(measured)', pass: true, note: `${rounds(r)}; ${what}; ${common}`,
      });
      return [
        row('8a. POST /orders on PostgreSQL, one instance vs on SQLite', r1, 'fsync on, each commit waits for its WAL flush'),
        row('8b. POST /orders on PostgreSQL, two instances on one database (load split) vs on SQLite', r2, 'fsync on'),
        row('8c. POST /orders on PostgreSQL, one instance, synchronous_commit=off vs on SQLite', r3, 'commits do not wait for the WAL flush (like SQLite\'s synchronous=NORMAL)'),
      ];
    });
  } finally {
    data.remove();
    await stopTestCluster();
  }
}
