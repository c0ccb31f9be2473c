/**
 * Measures the two ways to fill a big benchmark feed, on a temp file:
 * `tsx scripts/src/bench/compareFeedBuild.ts [entries]` (default 50 000).
 */
import { join } from 'node:path';
import { FeedStore, el, migrate, openDatabase } from '@shop/common';
import { migrations } from '../../../order-service/src/db/migrations.ts';
import { bulkInsert, templateEntry } from './bigFeed.ts';
import { scratchDir } from './benchOptions.ts';

const n = Number(process.argv[2] ?? 50_000);
const tmp = scratchDir('build');
try {
  const bulkDb = openDatabase(join(tmp.dir, 'bulk.db'));
  migrate(bulkDb, migrations);
  let t = performance.now();
  bulkInsert(bulkDb, n, 100);
  const bulk = n / ((performance.now() - t) / 1000);
  bulkDb.close();

  const appendDb = openDatabase(join(tmp.dir, 'append.db'));
  migrate(appendDb, migrations);
  const store = new FeedStore(appendDb, { pageSize: 100 });
  const tmpl = templateEntry();
  const body = JSON.parse(tmpl.body) as { typeLabel: string; title: string; summary: string; contentXhtml: string; payload: Record<string, unknown> };
  t = performance.now();
  appendDb.transaction(() => {
    for (let i = 0; i < n; i++) {
      store.append({ key: `k-${i}`, type: tmpl.type, typeLabel: body.typeLabel, title: body.title, orderId: tmpl.orderId, summary: body.summary, content: el('p', null, 'x'), payload: body.payload });
    }
  }).immediate();
  const append = n / ((performance.now() - t) / 1000);
  appendDb.close();
  console.log(`bulk INSERT: ${Math.round(bulk).toLocaleString('en')} entries/s; FeedStore.append in one transaction: ${Math.round(append).toLocaleString('en')} entries/s`);
  console.log(`for 1,000,000 entries: ${(1e6 / bulk).toFixed(1)} s vs ${(1e6 / append).toFixed(1)} s`);
} finally {
  tmp.remove();
}
