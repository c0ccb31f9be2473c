import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export const SERVICE_NAMES = ['order-service', 'billing-service', 'shipping-service', 'notification-service'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export interface LocalSystemOptions {
  /** Where each service keeps its data (one folder each) and its log file. */
  readonly dataDir: string;
  /** Order service's port; billing, shipping and notification take the next three. */
  readonly basePort: number;
  /** Extra environment for every service (it wins over the defaults here). */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * DATABASE_URL per service (`postgres://...`, one database each): that service keeps everything
   * in PostgreSQL instead of its SQLite file. Services not named stay on SQLite.
   */
  readonly databaseUrls?: Readonly<Partial<Record<ServiceName, string>>>;
  /** Run the compiled `<service>/dist/main.js` with plain Node (`npm run build` first) instead of the sources under tsx. */
  readonly compiled?: boolean;
}

/**
 * The four services as separate OS processes on loopback ports, wired to each other's feeds,
 * each restartable and killable on its own: what the crash test and the end-to-end benchmark run.
 */
export class LocalSystem {
  readonly urls: Readonly<Record<ServiceName, string>>;
  readonly #o: LocalSystemOptions;
  readonly #procs = new Map<ServiceName, ChildProcess>();
  readonly #up = new Set<ServiceName>();
  /** Every child ever started and not yet exited, whatever its name: stopAll leaves none behind. */
  readonly #alive = new Set<ChildProcess>();

  constructor(options: LocalSystemOptions) {
    this.#o = options;
    const url = (i: number) => `http://127.0.0.1:${options.basePort + i}`;
    this.urls = { 'order-service': url(0), 'billing-service': url(1), 'shipping-service': url(2), 'notification-service': url(3) };
  }

  dataDirOf(name: ServiceName): string { return join(this.#o.dataDir, name); }

  async startAll(): Promise<void> {
    await Promise.all(SERVICE_NAMES.map((n) => this.start(n)));
  }

  /** Starts one service and resolves once it answers HTTP. */
  async start(name: ServiceName): Promise<void> {
    if (this.#procs.has(name)) throw new Error(`${name} is already running`);
    if (await answers(this.urls[name])) throw new Error(`something else already listens at ${this.urls[name]}; stop it or pick other ports`);
    const i = SERVICE_NAMES.indexOf(name);
    mkdirSync(this.#o.dataDir, { recursive: true });
    const log = createWriteStream(join(this.#o.dataDir, `${name}.log`), { flags: 'a' });
    const args = this.#o.compiled ? [join(ROOT, name, 'dist', 'main.js')] : ['--import', 'tsx', join(ROOT, name, 'src', 'main.ts')];
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        INIT_CWD: ROOT,
        LOG_LEVEL: 'info',
        PORT: String(this.#o.basePort + i),
        HOST: '127.0.0.1',
        DATA_DIR: this.dataDirOf(name),
        ORDER_FEED_URL: `${this.urls['order-service']}/feed`,
        BILLING_FEED_URL: `${this.urls['billing-service']}/feed`,
        // Read by the notification service and by the order service (what can still be cancelled).
        SHIPPING_FEED_URL: `${this.urls['shipping-service']}/feed`,
        BILLING_AUTO_CAPTURE: '1',
        SHIPPING_AUTO_DISPATCH: '1',
        ...this.#o.env,
        ...(this.#o.databaseUrls?.[name] ? { DATABASE_URL: this.#o.databaseUrls[name] } : {}),
      },
    });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    this.#alive.add(child);
    child.once('exit', () => {
      this.#alive.delete(child);
      if (this.#procs.get(name) === child) { this.#procs.delete(name); this.#up.delete(name); }
      log.end();
    });
    this.#procs.set(name, child);
    await this.#waitUp(name, child);
    this.#up.add(name);
  }

  /** SIGKILL: no shutdown hook runs, as in a power cut or an OOM kill. */
  async kill(name: ServiceName): Promise<void> {
    const child = this.#procs.get(name);
    if (!child) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  }

  isRunning(name: ServiceName): boolean { return this.#procs.has(name); }

  /** Running and answering HTTP (not still starting). */
  isUp(name: ServiceName): boolean { return this.#up.has(name); }

  /** SIGTERM to all, waiting for each to finish what it is doing. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.#alive].map((child) => new Promise<void>((resolve) => {
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.once('exit', () => { clearTimeout(t); resolve(); });
      child.kill('SIGTERM');
    })));
  }

  async #waitUp(name: ServiceName, child: ChildProcess): Promise<void> {
    const path = name === 'notification-service' ? '/status' : '/feed';
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${name} exited during start; see ${join(this.#o.dataDir, `${name}.log`)}`);
      try {
        const r = await request(`${this.urls[name]}${path}`, { headersTimeout: 2000, headers: { accept: 'application/json, application/atom+xml' } });
        await r.body.dump();
        if (r.statusCode < 500) return;
      } catch { /* not yet */ }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${name} did not answer within 60 s`);
  }
}

async function answers(url: string): Promise<boolean> {
  try {
    const r = await request(url, { headersTimeout: 1000 });
    await r.body.dump();
    return true;
  } catch {
    return false;
  }
}
