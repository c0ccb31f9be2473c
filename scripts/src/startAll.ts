// `npm start`: runs every service that exists as its own process, on its default port, with its
// own SQLite file under ./data, logs tagged by service; Ctrl-C stops them all cleanly.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface ServiceSpec {
  readonly name: string; readonly port: number; readonly color: number; readonly open: readonly string[];
  /** Where it finds the feeds it reads (the environment may still override them). */
  readonly env?: Readonly<Record<string, string>>;
}

const SERVICES: readonly ServiceSpec[] = [
  // The order service reads shipping's feed (a dispatched order can no longer be cancelled).
  { name: 'order-service', port: 3001, color: 36, open: ['/', '/feed'], env: { SHIPPING_FEED_URL: 'http://127.0.0.1:3003/feed' } },
  { name: 'billing-service', port: 3002, color: 33, open: ['/feed'] },
  { name: 'shipping-service', port: 3003, color: 35, open: ['/feed'] },
  { name: 'notification-service', port: 3004, color: 32, open: ['/status', '/emails'] },
];

// A local run is a demo: money is captured and parcels leave by themselves unless told otherwise.
const DEMO_DEFAULTS = { BILLING_AUTO_CAPTURE: '1', SHIPPING_AUTO_DISPATCH: '1' };

const width = Math.max(...SERVICES.map((s) => s.name.length));
const children = new Map<string, ChildProcess>();

function tag(s: ServiceSpec): string {
  const label = s.name.padEnd(width);
  return process.stdout.isTTY ? `\x1b[${s.color}m${label}\x1b[0m |` : `${label} |`;
}

/** Turns a JSON log line into `12:00:01 info listening url=...`; other lines pass through. */
export function readable(line: string): string {
  try {
    const { time, level, msg, service: _s, ...rest } = JSON.parse(line) as Record<string, unknown>;
    const fields = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ');
    return `${String(time ?? '').slice(11, 19)} ${String(level ?? '').padEnd(5)} ${String(msg ?? '')} ${fields}`.trimEnd();
  } catch {
    return line;
  }
}

function start(s: ServiceSpec): void {
  const entry = `${ROOT}${s.name}/src/main.ts`;
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: ROOT,
    env: { ...DEMO_DEFAULTS, ...s.env, ...process.env, INIT_CWD: ROOT, LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.set(s.name, child);
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => process.stdout.write(`${tag(s)} ${readable(line)}\n`));
  }
  child.on('exit', (code, signal) => {
    children.delete(s.name);
    if (!stopping) {
      process.stdout.write(`${tag(s)} exited (${signal ?? code}); stopping the others\n`);
      void stopAll(1);
    }
  });
}

async function waitUntilUp(s: ServiceSpec, deadline: number): Promise<boolean> {
  while (Date.now() < deadline && children.has(s.name)) {
    try {
      const r = await request(`http://127.0.0.1:${s.port}${s.open[0]}`, { headersTimeout: 1000 });
      await r.body.dump();
      return true;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return false;
}

let stopping = false;
async function stopAll(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  process.stdout.write('\nStopping (each service finishes what it is doing)...\n');
  const exits = [...children.values()].map((c) => new Promise<void>((resolve) => {
    c.once('exit', () => resolve());
    c.kill('SIGTERM');
  }));
  const force = setTimeout(() => { for (const c of children.values()) c.kill('SIGKILL'); }, 20_000);
  await Promise.all(exits);
  clearTimeout(force);
  process.exit(code);
}

const present = SERVICES.filter((s) => existsSync(`${ROOT}${s.name}/src/main.ts`));
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));
// Publishers before their readers, so no reader's first poll meets a closed port; the one
// exception is the order service, which reads shipping's feed: it retries until shipping is up.
const up: boolean[] = [];
for (const s of present) {
  if (stopping) break;
  start(s);
  up.push(await waitUntilUp(s, Date.now() + 60_000));
}
if (!stopping) {
  const lines = present.flatMap((s, i) => (up[i] ? s.open.map((p) => `  ${s.name.padEnd(width)}  http://127.0.0.1:${s.port}${p}`) : [`  ${s.name} did not come up`]));
  process.stdout.write(`\nRunning. Open:\n${lines.join('\n')}\nPlace orders with \`npm run demo\` in another terminal. Ctrl-C stops everything.\n\n`);
}
