import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import type { BenchRow } from './benchRow.ts';
import { type BenchOptions, RESULTS_DIR } from './benchOptions.ts';

function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) >= 100) return Math.round(n).toLocaleString('en');
  if (Math.abs(n) >= 1) return n.toFixed(2);
  return n.toPrecision(3);
}

/** The table as printed: one line a row, notes underneath. */
export function formatTable(rows: readonly BenchRow[]): string {
  const head = ['row', 'subject', 'baseline', 'unit', 'ratio', 'target', 'result'];
  const body = rows.map((r) => [r.name, fmt(r.subject), fmt(r.baseline), r.unit, r.ratio.toFixed(2), r.target, r.pass ? 'pass' : 'MISS']);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === 0 || i === 3 || i === 5 || i === 6 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  const notes = rows.filter((r) => r.note).map((r) => `  ${r.name.split(' ')[0]} ${r.note}`);
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line), '', ...notes].join('\n');
}

export function machine(): string {
  const c = cpus();
  return `${c.length} x ${c[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${process.platform}`;
}

/** Writes bench-results/latest.json and returns its path. */
export function saveResults(rows: readonly BenchRow[], options: BenchOptions, extra: Record<string, unknown>): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, 'latest.json');
  writeFileSync(file, `${JSON.stringify({ date: new Date().toISOString(), machine: machine(), options, ...extra, rows }, null, 2)}\n`);
  return file;
}
