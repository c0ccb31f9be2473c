// `npm run chaos [-- --orders 1000 --kill-every 1000 --rate 40 --port 4101]`: the crash test. Starts the
// four services as separate processes, places orders while SIGKILLing a random service about
// every second and restarting it, waits until the system is quiet, then checks for loss,
// duplicates, gaps and rewritten archives. Exits 1 on any problem.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runChaos } from './system/chaos.ts';

const { values } = parseArgs({
  options: {
    orders: { type: 'string', default: '1000' },
    'kill-every': { type: 'string', default: '1000' },
    port: { type: 'string', default: '4101' },
    concurrency: { type: 'string', default: '8' },
    rate: { type: 'string', default: '40' },
    'data-dir': { type: 'string' },
  },
});
const num = (name: keyof typeof values, min: number): number => {
  const v = Number(values[name]);
  if (!Number.isInteger(v) || v < min) {
    console.error(`--${name} must be a whole number of at least ${min}, got "${values[name]}"`);
    process.exit(2);
  }
  return v;
};

const orders = num('orders', 1);
const dataDir = values['data-dir'] ?? mkdtempSync(join(tmpdir(), 'atom-shop-chaos-'));
const started = Date.now();
const report = await runChaos({
  orders, dataDir, basePort: num('port', 1024), killEveryMs: num('kill-every', 100), concurrency: num('concurrency', 1), ratePerSecond: num('rate', 1),
  cancelEvery: 10, settleTimeoutMs: 120_000 + orders * 100, log: (l) => console.log(l),
});
console.log(`\n${Object.entries(report.counts).map(([k, v]) => `  ${k.padEnd(28)} ${v}`).join('\n')}`);
console.log(`  ${'seconds'.padEnd(28)} ${Math.round((Date.now() - started) / 1000)}`);
if (report.ok) {
  console.log('\nPASS: nothing lost, nothing doubled, every feed gap-free, every archive unchanged.');
} else {
  console.log(`\nFAIL: ${report.problems.length} problems (logs in ${dataDir}):\n${report.problems.slice(0, 50).map((p) => `  - ${p}`).join('\n')}`);
}
process.exit(report.ok ? 0 : 1);
