/**
 * `npm run bench`: every benchmark row side by side with its baseline, printed as a table and
 * saved to bench-results/latest.json. Servers run in child processes, autocannon in this one.
 * Options: BENCH_SECONDS (per side per round, default 3), BENCH_ROUNDS (default 2),
 * BENCH_CONNECTIONS (default 10), BENCH_ONLY=1,3 (row numbers), BENCH_CPU_PROF=dir.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { benchArchiveRows } from './archiveRows.ts';
import type { BenchRow } from './benchRow.ts';
import { type BenchOptions, benchOptions } from './benchOptions.ts';
import { benchConsumerRow } from './consumerRow.ts';
import { benchEndToEnd, benchEndToEndPg, benchEndToEndPgNotification } from './endToEndRow.ts';
import { benchPagingRows } from './pagingRows.ts';
import { benchPartitionCatchUpRow } from './partitionCatchUpRow.ts';
import { benchPlacementRow } from './placementRow.ts';
import { benchPostgresRow } from './postgresRow.ts';
import { formatTable, machine, saveResults } from './report.ts';
import { benchStartupRow } from './startupRow.ts';

/** One source of rows. `rows` lists the row numbers it produces (for BENCH_ONLY). */
export interface RowProvider {
  readonly rows: readonly number[];
  readonly title: string;
  run(options: BenchOptions, log: (line: string) => void): Promise<BenchRow[]>;
}

export const builtInProviders: readonly RowProvider[] = [
  { rows: [1, 2], title: 'archive page and 304 throughput', run: (o) => benchArchiveRows(o) },
  { rows: [3], title: 'paging cost in a 1,000,000-entry feed', run: benchPagingRows },
  { rows: [4], title: 'consumer catch-up', run: benchConsumerRow },
  { rows: [5], title: 'end to end: POST /orders to the confirmation .eml (four processes)', run: benchEndToEnd },
  { rows: [6], title: 'order placement throughput', run: (o) => benchPlacementRow(o) },
  { rows: [7], title: 'compiled build vs the tsx loader: memory and time to ready', run: benchStartupRow },
  { rows: [8], title: 'order writes on PostgreSQL, one and two instances, vs SQLite', run: benchPostgresRow },
  { rows: [9], title: 'end to end with the publishers on PostgreSQL: POST /orders to the confirmation .eml', run: benchEndToEndPg },
  { rows: [10], title: 'end to end with notification on PostgreSQL too (partitions): POST /orders to the confirmation .eml', run: benchEndToEndPgNotification },
  { rows: [11], title: 'notification catch-up from zero on PostgreSQL: three instances vs one', run: benchPartitionCatchUpRow },
];

/** Providers that live in files another change may add; skipped with a note when absent. */
const optionalProviders = [
  { file: 'cacheTier.ts', exportName: 'benchCacheTier', title: 'cache tier' },
] as const;

async function loadOptional(log: (line: string) => void): Promise<RowProvider[]> {
  const found: RowProvider[] = [];
  for (const p of optionalProviders) {
    const path = fileURLToPath(new URL(`./${p.file}`, import.meta.url));
    if (!existsSync(path)) {
      log(`note: ${p.file} is not there, so the ${p.title} rows are skipped`);
      continue;
    }
    const mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
    const fn = mod[p.exportName];
    if (typeof fn !== 'function') {
      log(`note: ${p.file} does not export ${p.exportName}(), so the ${p.title} rows are skipped`);
      continue;
    }
    found.push({ rows: [], title: p.title, run: () => (fn as () => Promise<BenchRow[]>)() });
  }
  return found;
}

/** Runs the providers in order; a provider that fails is reported as a row-less error, the rest go on. */
export async function runAll(extra: readonly RowProvider[] = [], options: BenchOptions = benchOptions(), log: (line: string) => void = (l) => console.log(l)): Promise<{ rows: BenchRow[]; failures: string[]; file: string }> {
  const only = process.env['BENCH_ONLY']?.split(',').map(Number);
  const providers = [...builtInProviders, ...extra, ...(await loadOptional(log))]
    .filter((p) => !only || p.rows.some((r) => only.includes(r)));
  const rows: BenchRow[] = [];
  const failures: string[] = [];
  const started = performance.now();
  log(`bench on ${machine()}: ${options.seconds} s a side a round, ${options.rounds} rounds (A, B alternately, median), ${options.connections} connections`);
  for (const p of providers) {
    const t = performance.now();
    log(`- ${p.title}...`);
    try {
      const got = await p.run(options, log);
      rows.push(...got);
      for (const r of got) log(`  ${r.pass ? 'pass' : 'MISS'} ${r.name}: ${r.ratio.toFixed(2)} (${r.target})`);
    } catch (err) {
      const msg = `${p.title} failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`;
      failures.push(msg);
      log(`  ERROR ${msg}`);
    }
    log(`  (${((performance.now() - t) / 1000).toFixed(0)} s)`);
  }
  const seconds = (performance.now() - started) / 1000;
  const file = saveResults(rows, options, { seconds: Math.round(seconds), failures, pending: [] });
  log(`\n${formatTable(rows)}`);
  log(`${rows.filter((r) => r.pass).length} pass, ${rows.filter((r) => !r.pass).length} MISS, ${failures.length} failed to run; ${seconds.toFixed(0)} s`);
  log(`saved ${file}`);
  return { rows, failures, file };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { failures } = await runAll();
  process.exitCode = failures.length > 0 ? 1 : 0;
}
