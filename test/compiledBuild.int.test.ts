import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { request } from 'undici';
import { tempDir } from '@shop/common/testing';
import { adaOrder } from '../order-service/src/testing/adaOrder.ts';
import { LocalSystem, SERVICE_NAMES } from '../scripts/src/system/localSystem.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

async function waitFor<T>(what: string, probe: () => T | undefined, deadlineMs = 60_000): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const got = probe();
    if (got !== undefined) return got;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// The production build: `npm run build`, then every service as `node <service>/dist/main.js`,
// with no TypeScript loader anywhere (NODE_OPTIONS emptied), wired together as in `npm start`.
describe('The compiled build (npm run build)', function () {
  this.timeout(240_000);
  const dir = tempDir('atom-shop-compiled-');
  const system = new LocalSystem({ dataDir: dir.path, basePort: 4301, compiled: true, env: { NODE_OPTIONS: '', LOG_LEVEL: 'warn', SHIPPING_AUTO_DISPATCH: '0' } });

  before(async () => {
    // What `npm run build` runs.
    await promisify(execFile)(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'src', 'build.ts')], { cwd: ROOT, maxBuffer: 1 << 24 });
  });
  after(async () => {
    await system.stopAll();
    dir.remove();
  });

  it('writes each service\'s dist/main.js and dist/cli.js and compiled common, with no TypeScript in dist', () => {
    for (const name of SERVICE_NAMES) expect(existsSync(join(ROOT, name, 'dist', 'main.js')), `${name}/dist/main.js`).to.equal(true);
    for (const name of SERVICE_NAMES) expect(existsSync(join(ROOT, name, 'dist', 'cli.js')), `${name}/dist/cli.js`).to.equal(true);
    expect(existsSync(join(ROOT, 'common', 'dist', 'index.js'))).to.equal(true);
    const dists = ['common', ...SERVICE_NAMES].map((p) => join(ROOT, p, 'dist'));
    const compiled = dists.flatMap(filesUnder);
    expect(compiled.filter((f) => f.endsWith('.ts'))).to.deep.equal([]);
    const imports = compiled.filter((f) => f.endsWith('.js')).flatMap((f) => readFileSync(f, 'utf8').match(/from\s+["'][^"']*(?:\.ts|@shop\/common[^"']*)["']/g) ?? []);
    expect(imports, 'imports of .ts files or of @shop/common (which exports .ts) left in the compiled code').to.deep.equal([]);
  });

  it('imports nothing but Node built-ins and the root package.json "dependencies" (so devDependencies can be pruned)', () => {
    const { dependencies } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const compiled = ['common', ...SERVICE_NAMES].flatMap((p) => filesUnder(join(ROOT, p, 'dist'))).filter((f) => f.endsWith('.js'));
    const packages = new Set(compiled.flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/(?:from|import)\s*\(?\s*["']([^"'.][^"']*)["']/g)]
      .map((m) => m[1]!).filter((s) => !s.startsWith('node:')).map((s) => s.split('/').slice(0, s.startsWith('@') ? 2 : 1).join('/'))));
    expect(packages.size).to.be.greaterThan(3);
    expect([...packages].filter((p) => !(p in dependencies))).to.deep.equal([]);
  });

  it('starts the four compiled services; the order service serves its feed and takes an order', async () => {
    await system.startAll();
    const orders = system.urls['order-service'];
    const atom = await request(`${orders}/feed`, { headers: { accept: 'application/atom+xml' } });
    expect(atom.statusCode).to.equal(200);
    expect(atom.headers['content-type']).to.match(/^application\/atom\+xml/);
    expect(await atom.body.text()).to.contain('<feed xmlns="http://www.w3.org/2005/Atom"');
    // The browser page is rendered from common's .eta views, which must be found from common/dist.
    const page = await request(`${orders}/feed`, { headers: { accept: 'text/html' } });
    expect(page.statusCode).to.equal(200);
    expect(await page.body.text()).to.match(/<html/i);

    const placed = await request(`${orders}/orders`, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': 'compiled-build-1' }, body: JSON.stringify(adaOrder) });
    expect(placed.statusCode).to.equal(201);
    const { id } = (await placed.body.json()) as { id: string };
    const feed = await request(`${orders}/feed`, { headers: { accept: 'application/atom+xml' } });
    expect(await feed.body.text()).to.contain(id);

    // Billing (auto capture), shipping and notification, all compiled, carry it to the confirmation
    // email, rendered from notification-service/templates.
    const outbox = join(system.dataDirOf('notification-service'), 'outbox');
    const safeId = id.replace(/[^A-Za-z0-9_-]/g, '_');
    const eml = await waitFor('the confirmation email', () => (existsSync(outbox) ? readdirSync(outbox) : []).find((f) => f.endsWith(`-confirmation-${safeId}.eml`)));
    expect(readFileSync(join(outbox, eml), 'utf8')).to.contain('Ada Lovelace');
  });

  it('serves the notification status page from its compiled views', async () => {
    const res = await request(`${system.urls['notification-service']}/status`, { headers: { accept: 'text/html' } });
    expect(res.statusCode).to.equal(200);
    expect(res.headers['content-type']).to.match(/^text\/html/);
    expect(await res.body.text()).to.contain(system.urls['order-service']);
  });
});
