import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, chmodSync, chownSync, constants, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { type CachedService, renderNginxConfig } from './nginxConfig.ts';

export const NGINX_MISSING = 'nginx is not installed: run the nginx install step of .ci/run '
  + '(apt-get install nginx), or set NGINX_BIN to the nginx binary';

export interface StartNginxOptions {
  readonly services: readonly CachedService[];
  readonly workerProcesses?: number | 'auto';
  /** Keep an access log under the prefix (logs/access.log). */
  readonly accessLog?: boolean;
  /** Keep the prefix directory (config, logs, cache) after stop(), for a post-mortem. */
  readonly keepPrefix?: boolean;
  /** How long a credential check is reused (see AUTH_CACHE_SECONDS). */
  readonly authCacheSeconds?: number;
}

export interface RunningNginx {
  readonly prefix: string;
  readonly configFile: string;
  readonly pid: number;
  /** `http://<listen>` of a service by name. */
  urlOf(name: string): string;
  /** The error log so far (for failure messages). */
  errorLog(): string;
  /** Stops nginx (fast shutdown, then SIGKILL) and removes its directory. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * The nginx binary: NGINX_BIN when set (and nothing else, so NGINX_BIN=/nonexistent means
 * "no nginx"), else PATH, else where Debian puts it (/usr/sbin is often not on PATH).
 */
export function findNginx(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidates = env['NGINX_BIN'] ? [env['NGINX_BIN']] : [
    ...(env['PATH'] ?? '').split(delimiter).filter(Boolean).map((d) => join(d, 'nginx')),
    '/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx',
  ];
  return candidates.find((c) => { try { accessSync(c, constants.X_OK); return true; } catch { return false; } });
}

/** A port that was free on 127.0.0.1 a moment ago (so a service's PUBLIC_URL can name the proxy). */
export function freePort(): Promise<number> {
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

/**
 * Starts nginx in the foreground (`daemon off`) as our child process, with its own prefix
 * directory holding config, pid, logs, temp files and the cache, so it needs no system paths
 * and several can run at once. Resolves once every listen port answers.
 */
export async function startNginx(o: StartNginxOptions): Promise<RunningNginx> {
  const bin = findNginx();
  if (!bin) throw new Error(NGINX_MISSING);
  const prefix = mkdtempSync(join(tmpdir(), 'feed-cache-nginx-'));
  const cacheDir = join(prefix, 'cache');
  const authCacheDir = join(prefix, 'auth-cache');
  const writable = [cacheDir, authCacheDir, ...['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => join(prefix, 'temp', t))];
  for (const d of [join(prefix, 'logs'), ...writable]) mkdirSync(d, { recursive: true });
  const configFile = join(prefix, 'nginx.conf');
  const errorLogFile = join(prefix, 'logs', 'error.log');
  const errorLog = (): string => { try { return readFileSync(errorLogFile, 'utf8'); } catch { return ''; } };
  let child: ChildProcess | undefined;
  const killOnExit = (): void => { child?.kill('SIGTERM'); };
  const stop = async (): Promise<void> => {
    process.off('exit', killOnExit);
    const c = child;
    if (c && c.exitCode === null && c.signalCode === null) {
      const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
      c.kill('SIGTERM');
      const timer = setTimeout(() => c.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    if (!o.keepPrefix) rmSync(prefix, { recursive: true, force: true });
  };
  try {
    // Mode 0600: a protected service's block holds its cache token.
    writeFileSync(configFile, renderNginxConfig({
      services: o.services,
      prefix,
      cacheDir,
      authCacheDir,
      authCacheSeconds: o.authCacheSeconds,
      userDirective: workerUser(prefix, writable),
      workerProcesses: o.workerProcesses ?? 1,
      accessLog: o.accessLog ? join(prefix, 'logs', 'access.log') : undefined,
    }), { mode: 0o600 });
    child = spawn(bin, ['-p', `${prefix}/`, '-c', configFile, '-e', errorLogFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    process.on('exit', killOnExit);
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => { stderr += d.toString('utf8'); });
    const failed = new Promise<never>((_, reject) => {
      child!.once('error', reject);
      child!.once('exit', (code, signal) => reject(new Error(`nginx exited (${code ?? signal}) while starting:\n${stderr}${errorLog()}`)));
    });
    failed.catch(() => undefined);
    await Promise.race([failed, Promise.all(o.services.map((s) => waitForHealth(`http://${s.listen}`)))]);
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    prefix,
    configFile,
    pid: child.pid ?? -1,
    urlOf: (name) => {
      const s = o.services.find((x) => x.name === name);
      if (!s) throw new Error(`No service named ${name} behind this nginx`);
      return `http://${s.listen}`;
    },
    errorLog,
    stop,
  };
}

/**
 * nginx drops its workers to an unprivileged user only when started as root; those workers
 * must be able to write the cache and temp directories, so hand them over.
 */
function workerUser(prefix: string, writable: readonly string[]): string {
  if (process.getuid?.() !== 0) return '';
  const passwd = readFileSync('/etc/passwd', 'utf8').split('\n').map((l) => l.split(':'));
  const nobody = passwd.find((f) => f[0] === 'nobody');
  if (!nobody) return 'user root;';
  const [uid, gid] = [Number(nobody[2]), Number(nobody[3])];
  const group = readFileSync('/etc/group', 'utf8').split('\n').map((l) => l.split(':')).find((f) => Number(f[2]) === gid)?.[0] ?? 'nobody';
  chmodSync(prefix, 0o755);
  for (const d of [join(prefix, 'temp'), ...writable]) chownSync(d, uid, gid);
  return `user nobody ${group};`;
}

async function waitForHealth(base: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    // node:http, not fetch(): fetch refuses some ports outright (its "bad ports" list).
    const status = await new Promise<number>((resolve) => {
      const req = httpGet(`${base}/_nginx/health`, (res) => { res.resume(); resolve(res.statusCode ?? 0); });
      req.on('error', () => resolve(0));
      req.setTimeout(1000, () => req.destroy());
    });
    if (status === 204) return;
    if (Date.now() > deadline) throw new Error(`nginx did not answer on ${base} within 10 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
