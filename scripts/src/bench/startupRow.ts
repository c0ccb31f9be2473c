import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { build } from '../build.ts';
import type { BenchRow } from './benchRow.ts';
import { ATOM_CLIENT, type BenchOptions, atMost, placeOrders, scratchDir } from './benchOptions.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const PORT = 4701;
const ROUNDS = Number(process.env['BENCH_STARTUP_ROUNDS'] ?? 5);
const WARM_ORDERS = 50;
const WARM_READS = 200;

interface Variant { readonly label: string; readonly cwd: string; readonly args: readonly string[] }

// What `npm start -w order-service` runs (`tsx src/main.ts`, less npm and its shell): the tsx CLI,
// which starts the service in a second Node process with the loader.
const UNDER_TSX: Variant = { label: 'tsx', cwd: join(ROOT, 'order-service'), args: [fileURLToPath(import.meta.resolve('tsx/cli')), 'src/main.ts'] };
const COMPILED: Variant = { label: 'compiled', cwd: ROOT, args: [join(ROOT, 'order-service', 'dist', 'main.js')] };

interface Sample { readonly readyMs: number; readonly rssMb: number; readonly processes: number }

/**
 * Row 7: the compiled order service (`node order-service/dist/main.js`, after `npm run build`)
 * against the same service under the tsx loader, A, B alternately, each start on an empty data
 * folder. Time to ready runs from spawn to the first 200 of GET /feed. Memory is the resident set
 * of the whole process tree (under tsx, the CLI process and the service), read from /proc after
 * start and a short warm-up of orders and feed reads. Medians of each side. Linux only (/proc).
 */
export async function benchStartupRow(_o: BenchOptions, log: (line: string) => void): Promise<BenchRow[]> {
  const built = build();
  log(`  built ${built.files} files into ${built.packages.length} dist folders`);
  const samples: Record<'compiled' | 'tsx', Sample[]> = { compiled: [], tsx: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const v of [COMPILED, UNDER_TSX]) {
      const s = await startMeasureStop(v);
      samples[v.label as 'compiled' | 'tsx'].push(s);
      log(`  round ${round + 1} ${v.label}: ready in ${s.readyMs.toFixed(0)} ms, ${s.rssMb.toFixed(1)} MB resident in ${s.processes} process(es)`);
    }
  }
  const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2; };
  const rss = { compiled: median(samples.compiled.map((s) => s.rssMb)), tsx: median(samples.tsx.map((s) => s.rssMb)) };
  const ready = { compiled: median(samples.compiled.map((s) => s.readyMs)), tsx: median(samples.tsx.map((s) => s.readyMs)) };
  const note = `${ROUNDS} rounds; under tsx ${samples.tsx[0]?.processes ?? '?'} processes, compiled ${samples.compiled[0]?.processes ?? '?'}; memory after ${WARM_ORDERS} orders and ${WARM_READS} feed reads`;
  return [
    atMost('7a. Order service resident memory (whole process tree, after start and a warm-up): compiled `node dist/main.js` vs under the tsx loader', rss.compiled, rss.tsx, 'MB', 0.8, note),
    atMost('7b. Order service time from spawn to the first GET /feed 200: compiled vs under the tsx loader', ready.compiled, ready.tsx, 'ms', 0.8, note),
  ];
}

async function startMeasureStop(v: Variant): Promise<Sample> {
  const scratch = scratchDir(`startup-${v.label}`);
  const env = { ...process.env, PORT: String(PORT), HOST: '127.0.0.1', DATA_DIR: scratch.dir, LOG_LEVEL: 'warn', NODE_OPTIONS: '' };
  const started = performance.now();
  const child = spawn(process.execPath, v.args, { cwd: v.cwd, env, stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    const readyMs = (await firstFeed(child)) - started;
    const url = `http://127.0.0.1:${PORT}`;
    await placeOrders(url, WARM_ORDERS);
    for (let i = 0; i < WARM_READS; i++) await (await request(`${url}/feed`, { headers: ATOM_CLIENT })).body.dump();
    const tree = processTree(child.pid!);
    return { readyMs, rssMb: tree.reduce((sum, pid) => sum + rssKb(pid), 0) / 1024, processes: tree.length };
  } finally {
    await stop(child);
    scratch.remove();
  }
}

/** Polls GET /feed until it answers 200; resolves with the time it did. */
async function firstFeed(child: ChildProcess): Promise<number> {
  const deadline = performance.now() + 60_000;
  while (performance.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the order service exited during start (${child.exitCode ?? child.signalCode})`);
    try {
      const res = await request(`http://127.0.0.1:${PORT}/feed`, { headers: ATOM_CLIENT, headersTimeout: 5000 });
      await res.body.dump();
      if (res.statusCode === 200) return performance.now();
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error('the order service did not answer GET /feed within 60 s');
}

/** SIGTERM (tsx passes it on to the service), then SIGKILL to whatever of the tree is left after 15 s. */
async function stop(child: ChildProcess): Promise<void> {
  const tree = child.pid ? processTree(child.pid) : [];
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }
  // The service under tsx should have gone with the CLI; if not, end it (still that service: checked by its command line).
  for (const pid of tree.slice(1)) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('main.ts')) process.kill(pid, 'SIGKILL');
    } catch { /* gone already, as it should be */ }
  }
}

/** The pid and all its descendants, from each process's parent in /proc/<pid>/stat. */
function processTree(root: number): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // Fields after the command (which may hold spaces and parentheses): state, ppid, ...
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parent.set(Number(name), ppid);
    } catch { /* exited while we looked */ }
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) for (const [pid, ppid] of parent) if (ppid === tree[i]) tree.push(pid);
  return tree;
}

function rssKb(pid: number): number {
  try {
    return Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}
