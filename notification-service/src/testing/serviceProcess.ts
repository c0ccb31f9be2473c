import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';

const MAIN = fileURLToPath(new URL('../main.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The part of GET /status (JSON) on PostgreSQL that tells who owns which partition. */
export interface PartitionsStatus {
  readonly count: number;
  readonly mine: readonly number[];
  readonly owners: readonly { readonly partition: number; readonly owner: string | null; readonly since: string | null; readonly inbox: number }[];
  readonly instances: readonly { readonly instance: string; readonly partitions: readonly number[] }[];
}

export interface InstanceStatus {
  readonly instance: string;
  readonly partitions: PartitionsStatus;
  readonly outbox: { readonly total: number; readonly unsent: number; readonly deadLetters: readonly unknown[] };
}

export interface Exit { readonly code: number | null; readonly signal: NodeJS.Signals | null }

/** A notification service (`main.ts`) in a child process of its own, as an operator starts it. */
export interface ServiceProcess {
  readonly name: string;
  readonly pid: number;
  readonly url: string;
  /** Every line it wrote to stdout and stderr, in order. */
  readonly lines: readonly string[];
  readonly exited: Promise<Exit>;
  /** Null while it runs. */
  exit(): Exit | null;
  status(): Promise<InstanceStatus>;
  signal(signal: NodeJS.Signals): void;
  /** The last `n` lines, prefixed with its name: what to print when a test fails. */
  tail(n?: number): string;
}

const running = new Map<ChildProcess, Promise<Exit>>();
// A test process that ends without its after hooks (an uncaught error, ^C) takes its children along.
process.on('exit', () => { for (const c of running.keys()) c.kill('SIGKILL'); });

/**
 * SIGKILLs every service process still running, started or still starting (one that never got to
 * "listening" too: its pipes would keep the test process alive), and resolves once all have exited.
 */
export async function killServiceProcesses(): Promise<void> {
  const all = [...running];
  for (const [c] of all) c.kill('SIGKILL');
  await Promise.all(all.map(([, exited]) => exited));
}

/**
 * Starts `node --import tsx notification-service/src/main.ts` with `env` (over PATH and HOME only,
 * so nothing of the test's own environment configures it) and resolves once it logs `listening`.
 * Rejects, with its output, if it exits or stays silent for `timeoutMs` first.
 */
export function startServiceProcess(name: string, env: Readonly<Record<string, string>>, timeoutMs = 30_000): Promise<ServiceProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...(process.env['TMPDIR'] ? { TMPDIR: process.env['TMPDIR'] } : {}), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let exit: Exit | null = null;
  const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => {
    exit = { code, signal };
    running.delete(child);
    resolve(exit);
  }));
  running.set(child, exited);
  const tail = (n = 40) => lines.slice(-n).map((l) => `  [${name}] ${l}`).join('\n');

  return new Promise<ServiceProcess>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${name} did not log "listening" within ${timeoutMs} ms:\n${tail()}`)); }, timeoutMs);
    const onLine = (line: string) => {
      lines.push(line);
      if (!line.includes('"msg":"listening"')) return;
      const url = (JSON.parse(line) as { url?: string }).url;
      if (!url) return;
      clearTimeout(timer);
      resolve({
        name, pid: child.pid!, url, lines, exited, tail,
        exit: () => exit,
        signal: (s) => { if (exit === null) child.kill(s); },
        async status() {
          const res = await request(`${url}/status`, { headers: { accept: 'application/json' } });
          if (res.statusCode !== 200) throw new Error(`${name} GET /status answered ${res.statusCode}: ${await res.body.text()}`);
          return await res.body.json() as InstanceStatus;
        },
      });
    };
    for (const stream of [child.stdout, child.stderr]) {
      let rest = '';
      stream.on('data', (chunk: Buffer) => {
        const parts = (rest + chunk.toString()).split('\n');
        rest = parts.pop() ?? '';
        for (const l of parts) onLine(l);
      });
    }
    void exited.then((e) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${e.signal ?? e.code}) before listening:\n${tail()}`));
    });
  });
}
