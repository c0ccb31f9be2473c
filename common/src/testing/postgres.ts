// A throwaway PostgreSQL cluster for the tests of one process: started on first use, a fresh
// database per suite, stopped when the run ends (the root hook in postgresHooks.ts, with a
// process 'exit' fallback). PostgreSQL refuses to run as root, so as root every server command
// runs as the `postgres` user (runuser), in a temporary directory that user owns.
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, chownSync, constants, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context } from 'mocha';
import { type Peer, requirePeer } from './peers.ts';

/**
 * The directory holding initdb, pg_ctl and postgres: PG_BIN when set (and nothing else, so
 * PG_BIN=/nonexistent means "no PostgreSQL"), else Debian's newest /usr/lib/postgresql/<v>/bin.
 */
export function findPostgresBin(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const usable = (dir: string): boolean => {
    try { accessSync(join(dir, 'initdb'), constants.X_OK); accessSync(join(dir, 'pg_ctl'), constants.X_OK); return true; } catch { return false; }
  };
  if (env['PG_BIN']) return usable(env['PG_BIN']) ? env['PG_BIN'] : undefined;
  let versions: string[] = [];
  try { versions = readdirSync('/usr/lib/postgresql'); } catch { return undefined; }
  return versions
    .filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a))
    .map((v) => `/usr/lib/postgresql/${v}/bin`).find(usable);
}

/** Debian's PostgreSQL server, for `requirePeer`. */
export const postgresqlPeer: Peer = { name: 'postgresql', install: 'apt-get install postgresql', check: () => findPostgresBin() !== undefined };

interface Cluster { readonly dir: string; readonly port: number; readonly bin: string }

let starting: Promise<Cluster> | undefined;
let running: Cluster | undefined;
let databases = 0;

/**
 * A fresh, empty database on this process's test cluster (started on first call), as a
 * `postgres://postgres@127.0.0.1:<port>/<db>` URL. Call from a suite's `before` hook, after
 * `requirePeer(this, postgresqlPeer)`, or use `requirePostgres`.
 */
export async function createTestDatabase(): Promise<string> {
  const cluster = await startCluster();
  const name = `t${process.pid}_${++databases}`;
  const { Client } = await import('pg');
  const admin = new Client({ connectionString: urlOf(cluster, 'postgres') });
  await admin.connect();
  try { await admin.query(`CREATE DATABASE ${name}`); } finally { await admin.end(); }
  return urlOf(cluster, name);
}

/**
 * For a suite's `before` hook: skips the suite when PostgreSQL is not installed (fails under
 * CI=true), else returns the URL of a fresh database.
 */
export async function requirePostgres(ctx: Context): Promise<string> {
  ctx.timeout(Math.max(ctx.timeout(), 60_000));
  await requirePeer(ctx, postgresqlPeer);
  return createTestDatabase();
}

/** The running test cluster, if this process started one (for tests that stop or inspect it). */
export function testCluster(): { readonly port: number; readonly dir: string } | undefined {
  return running ? { port: running.port, dir: running.dir } : undefined;
}

/** Stops the cluster (fast shutdown) and removes its directory. Safe to call when none runs. */
export async function stopTestCluster(): Promise<void> {
  const c = running ?? await starting?.catch(() => undefined);
  running = undefined;
  starting = undefined;
  if (!c) return;
  process.off('exit', stopOnExit);
  await run(c.bin, 'pg_ctl', ['-D', join(c.dir, 'data'), '-m', 'fast', '-w', 'stop']).catch(() => stopNow(c));
  rmSync(c.dir, { recursive: true, force: true });
}

function startCluster(): Promise<Cluster> {
  starting ??= (async () => {
    const bin = findPostgresBin();
    if (!bin) throw new Error('PostgreSQL is not installed (apt-get install postgresql, or set PG_BIN)');
    const dir = mkdtempSync(join(tmpdir(), 'atom-shop-pg-'));
    if (asRoot()) chownSync(dir, postgresUid(), postgresUid('-g'));
    await run(bin, 'initdb', ['-D', join(dir, 'data'), '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions']);
    let lastError: unknown;
    // A port free a moment ago can be taken before the server binds it: try another.
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const port = await freePort();
      // track_commit_timestamp lets the concurrency tests ask the server in what order transactions committed.
      // PG_TEST_DURABLE=1 (the bench) keeps PostgreSQL's durable defaults: a commit waits for its WAL flush.
      const fast = process.env['PG_TEST_DURABLE'] === '1' ? [] : ['-c fsync=off', '-c full_page_writes=off'];
      const options = [`-p ${port}`, `-k ${dir}`, '-c listen_addresses=127.0.0.1', ...fast,
        '-c max_connections=200', '-c track_commit_timestamp=on'].join(' ');
      try {
        await run(bin, 'pg_ctl', ['-D', join(dir, 'data'), '-l', join(dir, 'log'), '-w', '-t', '60', '-o', options, 'start']);
        running = { dir, port, bin };
        process.on('exit', stopOnExit);
        return running;
      } catch (e) { lastError = e; }
    }
    throw new Error(`PostgreSQL did not start: ${String(lastError)}\n${serverLog(dir)}`);
  })();
  return starting;
}

function stopOnExit(): void {
  if (running) stopNow(running);
}

/** Synchronous, for process 'exit': an immediate stop, then the directory goes. */
function stopNow(c: Cluster): void {
  const [cmd, args] = command(c.bin, 'pg_ctl', ['-D', join(c.dir, 'data'), '-m', 'immediate', '-w', 'stop']);
  spawnSync(cmd, args, { stdio: 'ignore' });
  rmSync(c.dir, { recursive: true, force: true });
  running = undefined;
}

function urlOf(c: Cluster, db: string): string {
  return `postgres://postgres@127.0.0.1:${c.port}/${db}`;
}

function asRoot(): boolean {
  return process.getuid?.() === 0;
}

function postgresUid(flag: '-u' | '-g' = '-u'): number {
  const r = spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error('running as root, but there is no postgres user to run PostgreSQL as');
  return Number(r.stdout.trim());
}

function command(bin: string, tool: string, args: readonly string[]): [string, string[]] {
  return asRoot() ? ['runuser', ['-u', 'postgres', '--', join(bin, tool), ...args]] : [join(bin, tool), [...args]];
}

function run(bin: string, tool: string, args: readonly string[]): Promise<void> {
  const [cmd, argv] = command(bin, tool, args);
  return new Promise((resolve, reject) => {
    // stdout is not piped: the server pg_ctl starts would inherit the pipe and hold it open.
    const child = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'], cwd: tmpdir() });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${tool} exited ${code}: ${stderr.trim()}`))));
  });
}

function serverLog(dir: string): string {
  try { return readFileSync(join(dir, 'log'), 'utf8').slice(-2000); } catch { return ''; }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}
